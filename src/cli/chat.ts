// Terminal chat with a bot through a running Telegram emulator (npm run emulator).
//   npm run chat -- --user 1001 [--name 张三] [--lang zh-hans] [--username zhangsan] [--emulator http://127.0.0.1:8081]
// Works interactively and with piped stdin (each piped line waits for the bot to settle before the next).
import { writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { EmulatorClient, type UserHandle } from '../emulator/client.ts';
import type { BotMessageView, ButtonView } from '../emulator/types.ts';

const HELP = `命令 / commands:
  <text>             发送消息 / send a message ("/cmd args" is sent as a command)
  <n>                按下最新消息的第 n 个按钮 / press button n of the latest message with buttons
  :file <path>       上传文件 / upload a document
  :save <#id> [path] 保存收到的文件 / save a received document (message id as shown, e.g. :save 12 out.xlsx)
  :menu              查看命令菜单 / show the bot's command menu for this user
  :history           重新显示全部消息 / reprint all bot messages
  :help              帮助 / this help
  :quit              退出 / quit`;

const { values: args } = parseArgs({
  options: {
    user: { type: 'string', short: 'u' },
    name: { type: 'string', short: 'n' },
    lang: { type: 'string', short: 'l' },
    username: { type: 'string' },
    emulator: { type: 'string', short: 'e' },
    bot: { type: 'string' },
    wait: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});

if (args.help || !args.user || !/^\d+$/.test(args.user)) {
  console.log(`用法 / usage: npm run chat -- --user <id> [--name 张三] [--lang zh-hans] [--username name]
                          [--emulator ${process.env['EMULATOR_URL'] ?? 'http://127.0.0.1:8081'}] [--bot <id|username>]
                          [--wait <ms>  (piped stdin: max wait for the bot after each line, default 5000)]\n\n${HELP}`);
  process.exit(args.help ? 0 : 1);
}

const url = args.emulator ?? process.env['EMULATOR_URL'] ?? 'http://127.0.0.1:8081';
const client = new EmulatorClient(url, args.bot ? { bot: args.bot } : {});
const me: UserHandle = client.user(Number(args.user), {
  ...(args.name ? { firstName: args.name } : {}),
  ...(args.lang ? { languageCode: args.lang } : {}),
  ...(args.username ? { username: args.username } : {}),
});
const interactive = Boolean(process.stdin.isTTY);
const settleMs = Number(args.wait ?? 5000);

const seen = new Map<number, number>(); // messageId -> seq printed
let seq = 0;
let answersSeen = 0;
let buttons: ButtonView[] = [];
let buttonsMessageId = 0;
let lastActivity = Date.now();
let stopped = false;

function render(m: BotMessageView, kind: 'new' | 'edit'): void {
  const head = kind === 'edit' ? `✏️  #${m.messageId} (已编辑 / edited)` : `🤖 #${m.messageId}`;
  if (m.deleted) {
    console.log(`🗑  #${m.messageId} (已删除 / deleted)`);
    return;
  }
  const lines: string[] = [];
  if (m.text !== undefined) lines.push(m.text);
  if (m.document)
    lines.push(
      `📎 ${m.document.file_name ?? m.document.file_id} (${m.document.file_size} bytes)  → :save ${m.messageId}`,
    );
  if (m.photo)
    lines.push(`🖼  photo (${m.photo.at(-1)?.width}x${m.photo.at(-1)?.height})  → :save ${m.messageId}`);
  if (m.caption) lines.push(m.caption);
  console.log(`${head}  ${lines.join('\n    ').replace(/\n(?! {4})/g, '\n    ')}`);
  const links = m.buttons.filter((b) => b.callbackData === undefined);
  if (links.length) console.log(`    ${links.map((b) => `🔗 ${b.text} <${b.url ?? '?'}>`).join('  ')}`);
  if (m.keyboard) console.log(`    ⌨  ${m.keyboard.map((row) => row.join(' | ')).join(' / ')}`);
  if (m.removeKeyboard) console.log('    ⌨  (键盘已移除 / keyboard removed)');
}

function refreshButtons(all: BotMessageView[]): void {
  const latest = [...all]
    .reverse()
    .find((m) => !m.deleted && m.buttons.some((b) => b.callbackData !== undefined));
  const next = latest?.buttons.filter((b) => b.callbackData !== undefined) ?? [];
  const changed = JSON.stringify(next) !== JSON.stringify(buttons);
  buttons = next;
  buttonsMessageId = latest?.messageId ?? 0;
  if (changed && next.length) console.log(`    ${next.map((b, i) => `[${i + 1}] ${b.text}`).join('  ')}`);
}

async function pollOnce(timeoutMs: number): Promise<void> {
  const ch = await client.changes(me.id, seq, timeoutMs);
  seq = Math.max(seq, ch.seq);
  for (const m of ch.messages.sort((a, b) => a.seq - b.seq)) {
    const prev = seen.get(m.messageId);
    if (prev !== undefined && prev >= m.seq) continue;
    render(m, prev === undefined ? 'new' : 'edit');
    seen.set(m.messageId, m.seq);
    lastActivity = Date.now();
  }
  if (ch.messages.length) refreshButtons(await me.messages());
  const answers = await me.callbackAnswers();
  for (const a of answers.slice(answersSeen)) {
    if (a.text) console.log(`${a.showAlert ? '⚠️  弹窗 / alert' : '💬 提示 / toast'}: ${a.text}`);
    lastActivity = Date.now();
  }
  answersSeen = answers.length;
}

async function pollLoop(): Promise<void> {
  while (!stopped) {
    try {
      await pollOnce(20_000);
      if (interactive) rl.prompt(true);
    } catch (err) {
      if (stopped) return;
      console.error(`⚠️  ${err instanceof Error ? err.message : String(err)}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

/** Piped mode: wait until the bot reacted (or settleMs passed) and then stayed quiet briefly. */
async function settle(since: number): Promise<void> {
  const deadline = Date.now() + settleMs;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    if (lastActivity > since && Date.now() - lastActivity > 400) return;
  }
}

async function handle(line: string): Promise<boolean> {
  const text = line.trim();
  if (!text) return true;
  if (text === ':quit' || text === ':q') return false;
  if (text === ':help') console.log(HELP);
  else if (text === ':menu') {
    const cmds = await me.myCommands();
    console.log(
      cmds.length
        ? cmds.map((c) => `  /${c.command} — ${c.description}`).join('\n')
        : '  (无菜单 / no commands set)',
    );
  } else if (text === ':history') {
    for (const m of await me.messages()) render(m, 'new');
  } else if (text.startsWith(':file ')) {
    await me.sendDocument(text.slice(6).trim());
    console.log('📤 已上传 / uploaded');
  } else if (text.startsWith(':save ')) {
    const [, id, path] = text.split(/\s+/);
    const msg = (await me.messages()).find((m) => m.messageId === Number(id?.replace('#', '')));
    if (!msg || (!msg.document && !msg.photo))
      console.log(`❌ #${id} 不是文件消息 / is not a document message`);
    else {
      const target = path ?? msg.document?.file_name ?? `photo_${msg.messageId}.jpg`;
      await writeFile(target, await me.downloadDocument(msg));
      console.log(`💾 已保存 / saved → ${target}`);
    }
  } else if (/^\d{1,2}$/.test(text) && buttons.length > 0) {
    // 1-2 digits press a button; longer numbers (phones, ID and card numbers) are sent as text.
    const b = buttons[Number(text) - 1];
    if (!b) console.log(`❌ 没有按钮 ${text} / no button ${text} (1-${buttons.length})`);
    else await me.pressButton({ messageId: buttonsMessageId, data: b.callbackData! });
  } else if (text.startsWith(':')) console.log(`❌ 未知命令 / unknown command ${text} — :help`);
  else await me.sendText(text);
  return true;
}

try {
  const health = await client.health();
  const bot = health.bots[0];
  console.log(
    `已连接 / connected: ${url}  bot: ${bot ? `@${bot.username}` : '(尚未连接 / bot not connected yet)'}  you: ${args.name ?? ''}(${me.id})`,
  );
} catch {
  console.error(
    `❌ 无法连接模拟器 / cannot reach the emulator at ${url} — start it with \`npm run emulator\``,
  );
  process.exit(1);
}
await me.register();
answersSeen = (await me.callbackAnswers()).length;
const history = await me.messages();
for (const m of history.slice(0, -10)) seen.set(m.messageId, m.seq);
await pollOnce(0);
if (interactive) console.log(':help 查看帮助 / for help');

const rl = createInterface({
  input: process.stdin,
  output: process.stdout,
  terminal: interactive,
  prompt: '> ',
});
void pollLoop();
if (interactive) rl.prompt();
for await (const line of rl) {
  const started = Date.now();
  try {
    if (!(await handle(line))) break;
  } catch (err) {
    console.error(`❌ ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!interactive) await settle(started);
  else rl.prompt();
}
stopped = true;
rl.close();
process.exit(0);
