import { sandboxWebOptions } from '../cli/sandbox-web.ts';
import { startEmulator } from './index.ts';

const port = Number(process.env['EMULATOR_PORT'] ?? 8081);
const emulator = await startEmulator({ port, web: sandboxWebOptions() });
console.log(`Telegram Bot API emulator listening on ${emulator.url}`);
console.log(`  web:  ${emulator.url}/  (chat panes in a browser)`);
console.log(`  bot:  TELEGRAM_API_ROOT=${emulator.apiRoot}`);
console.log(`  chat: EMULATOR_URL=${emulator.url} npm run chat -- --user 1001 --name 张三 --lang zh-hans`);

let stopping = false;
const stop = (signal: string): void => {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: closing emulator…`);
  void emulator.close().then(() => process.exit(0));
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
