import { ConfigError, loadConfig, type Config } from './config.ts';
import { createLogger } from './adapters/logger.ts';
import { startApp, type ProcessRole } from './app.ts';

// Entry point: `tsx src/main.ts bot|worker|all`. `all` (npm start) applies migrations first.
// With no TELEGRAM_BOT_TOKEN (sandbox) the bot process also starts the local Bot API emulator,
// so `npm run chat -- --user <id>` can talk to it.

const role = (process.argv[2] ?? 'all') as ProcessRole;
if (!['bot', 'worker', 'all'].includes(role)) {
  console.error(`usage: main.ts bot|worker|all (got "${role}")`);
  process.exit(2);
}

let config: Config;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(2);
  }
  throw err;
}

const logger = createLogger({ level: config.logLevel });
const closers: (() => Promise<unknown>)[] = [];

async function main() {
  let webAddress: string | undefined;
  let apiRoot = config.telegram.apiRoot;
  if (!apiRoot) {
    apiRoot = `http://127.0.0.1:${config.emulatorPort}`;
    if (role !== 'worker') {
      const { startEmulator } = await import('./emulator/index.ts');
      const { sandboxWebOptions } = await import('./cli/sandbox-web.ts');
      const emu = await startEmulator({
        port: config.emulatorPort,
        web: sandboxWebOptions(config.defaultLocale),
      });
      webAddress = `${emu.url}/`;
      apiRoot = emu.apiRoot;
      closers.push(() => emu.close());
      logger.info({ url: emu.url }, 'sandbox: local Bot API emulator started (no TELEGRAM_BOT_TOKEN)');
    }
  }
  if (role === 'all') {
    const { migrateDatabase } = await import('./adapters/db/tooling/migrate.ts');
    const applied = await migrateDatabase(config.databaseUrl, { createDatabase: true });
    logger.info({ applied }, 'database migrations applied');
  }
  const app = await startApp({ config, role, apiRoot, logger });
  closers.unshift(() => app.stop());
  // The doctor's checks, quietly and in the background: only problems are printed (npm run doctor).
  const { checkAtStart } = await import('./doctor/run.ts');
  const { I18n } = await import('./adapters/i18n.ts');
  void checkAtStart({ config, apiRoot }, { i18n: new I18n(config.defaultLocale), role }).catch(
    (err: unknown) => logger.warn({ err }, 'start-up checks failed'),
  );
  if (config.sandbox && role !== 'worker') {
    console.log(
      `\n  warmth-bot sandbox is running (no Telegram token).\n` +
        (webAddress ? `  Open in a browser:  ${webAddress}\n` : '') +
        `  Create demo data:   npm run seed:demo\n` +
        `  Chat as a user:     npm run chat -- --user <telegram id>\n`,
    );
  }
}

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down');
  for (const c of closers) {
    try {
      await c();
    } catch (err) {
      logger.warn({ err }, 'shutdown step failed');
    }
  }
  logger.info('stopped');
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));

main().catch((err: unknown) => {
  logger.fatal({ err }, 'failed to start');
  process.exit(1);
});
