import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EmulatorClient } from '../../src/emulator/client.ts';
import { createEmulator, type Emulator } from '../../src/emulator/server.ts';
import type { TgMessage, TgUpdate } from '../../src/emulator/types.ts';

const TOKEN = '123456:TEST-token_abc';
const NO_LIMITS = { perChatPerSecond: 0, globalPerSecond: 0 };

interface ApiReply<T = unknown> {
  ok: boolean;
  result?: T;
  error_code?: number;
  description?: string;
  parameters?: { retry_after?: number };
}

let emu: Emulator;
let client: EmulatorClient;

async function api<T = unknown>(method: string, body: Record<string, unknown> = {}, token = TOKEN) {
  const res = await fetch(`${emu.apiRoot}/bot${token}/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as ApiReply<T>;
  return { status: res.status, ...json };
}

async function ok<T>(method: string, body: Record<string, unknown> = {}): Promise<T> {
  const r = await api<T>(method, body);
  if (!r.ok) throw new Error(`${method} failed: ${r.error_code} ${r.description}`);
  return r.result as T;
}

beforeEach(async () => {
  emu = await createEmulator({ limits: NO_LIMITS, webhookRetry: { initialDelayMs: 10, maxDelayMs: 50 } });
  client = new EmulatorClient(emu.url);
});
afterEach(async () => {
  await emu.close();
});

describe('getUpdates', () => {
  it('long-polls until a user message arrives, and confirms by offset', async () => {
    const me = await ok<{ id: number; is_bot: boolean; username: string }>('getMe');
    expect(me).toMatchObject({ id: 123456, is_bot: true, username: 'warmth_sandbox_bot' });

    const poll = ok<TgUpdate[]>('getUpdates', { timeout: 20 });
    await new Promise((r) => setTimeout(r, 50));
    const alice = client.user(1001, { firstName: '张三', languageCode: 'zh-hans' });
    await alice.sendCommand('/start', 'invite_abc');
    const updates = await poll;
    expect(updates).toHaveLength(1);
    const msg = updates[0]!.message!;
    expect(msg.text).toBe('/start invite_abc');
    expect(msg.entities).toEqual([{ type: 'bot_command', offset: 0, length: 6 }]);
    expect(msg.from).toMatchObject({ id: 1001, is_bot: false, first_name: '张三', language_code: 'zh-hans' });
    expect(msg.chat).toMatchObject({ id: 1001, type: 'private' });

    // not confirmed yet: returned again
    expect(await ok<TgUpdate[]>('getUpdates', { offset: 0 })).toHaveLength(1);
    // confirmed by a higher offset
    expect(await ok<TgUpdate[]>('getUpdates', { offset: updates[0]!.update_id + 1 })).toEqual([]);

    await alice.sendText('one');
    await alice.sendText('two');
    const limited = await ok<TgUpdate[]>('getUpdates', { limit: 1 });
    expect(limited.map((u) => u.message?.text)).toEqual(['one']);
    expect(limited[0]!.update_id).toBeGreaterThan(updates[0]!.update_id);
  });

  it('keeps what users did before the bot connected for the first token that shows up', async () => {
    await client.user(1001).sendText('early bird');
    const updates = await ok<TgUpdate[]>('getUpdates');
    expect(updates.map((u) => u.message?.text)).toEqual(['early bird']);
    expect(emu.bots()).toMatchObject([{ id: 123456, username: 'warmth_sandbox_bot', connected: true }]);
  });

  it('terminates an older concurrent getUpdates with 409', async () => {
    const first = api('getUpdates', { timeout: 20 });
    await new Promise((r) => setTimeout(r, 50));
    const second = api('getUpdates', { timeout: 0 });
    const r1 = await first;
    expect(r1.status).toBe(409);
    expect(r1.description).toMatch(/^Conflict: terminated by other getUpdates request/);
    expect((await second).ok).toBe(true);
  });

  it('re-delivers a repeated update with the same update_id', async () => {
    const alice = client.user(1001);
    const sent = await alice.sendText('hello');
    const [u] = await ok<TgUpdate[]>('getUpdates', {});
    expect(u!.update_id).toBe(sent.updateId);
    await ok('getUpdates', { offset: u!.update_id + 1 });
    await client.repeatUpdate(sent.updateId);
    const again = await ok<TgUpdate[]>('getUpdates', { offset: u!.update_id + 1, timeout: 1 });
    expect(again).toHaveLength(1);
    expect(again[0]).toEqual(u);
    expect(await ok<TgUpdate[]>('getUpdates', { offset: u!.update_id + 1 })).toEqual([]);
  });
});

describe('webhook', () => {
  it('delivers updates with the secret header, in order, retrying failures', async () => {
    const received: { headers: IncomingHttpHeaders; update: TgUpdate }[] = [];
    let failuresLeft = 2;
    const hook = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (failuresLeft > 0) {
          failuresLeft -= 1;
          res.writeHead(500).end('boom');
          return;
        }
        received.push({
          headers: req.headers,
          update: JSON.parse(Buffer.concat(chunks).toString()) as TgUpdate,
        });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
    try {
      expect(await ok('setWebhook', { url: hookUrl, secret_token: 's3cret_TOKEN' })).toBe(true);
      const conflict = await api('getUpdates');
      expect(conflict).toMatchObject({ status: 409, ok: false, error_code: 409 });

      const alice = client.user(1001);
      for (const t of ['a', 'b', 'c']) await alice.sendText(t);
      await expect.poll(() => received.length, { timeout: 10_000 }).toBe(3);
      expect(received.map((r) => r.update.message?.text)).toEqual(['a', 'b', 'c']);
      expect(received.every((r) => r.headers['x-telegram-bot-api-secret-token'] === 's3cret_TOKEN')).toBe(
        true,
      );

      const deliveries = await client.webhookDeliveries();
      expect(deliveries.filter((d) => !d.ok)).toHaveLength(2);
      expect(deliveries.filter((d) => d.ok)).toHaveLength(3);
      expect(deliveries[0]).toMatchObject({ attempt: 1, ok: false, status: 500 });

      const info = await ok<{ url: string; pending_update_count: number; last_error_message?: string }>(
        'getWebhookInfo',
      );
      expect(info).toMatchObject({ url: hookUrl, pending_update_count: 0 });
      expect(info.last_error_message).toContain('500');

      await ok('deleteWebhook');
      await alice.sendText('polled');
      const polled = await ok<TgUpdate[]>('getUpdates');
      expect(polled.map((u) => u.message?.text)).toEqual(['polled']);
    } finally {
      hook.close();
    }
  });
});

describe('sending', () => {
  it('validates like Telegram', async () => {
    await client.user(1001).register();
    expect(await api('sendMessage', { chat_id: 1001, text: '' })).toMatchObject({
      status: 400,
      ok: false,
      error_code: 400,
      description: 'Bad Request: message text is empty',
    });
    expect((await api('sendMessage', { chat_id: 999, text: 'x' })).description).toBe(
      'Bad Request: chat not found',
    );
    expect((await api('sendMessage', { chat_id: 1001, text: 'x'.repeat(4097) })).description).toBe(
      'Bad Request: message is too long',
    );
    const longData = await api('sendMessage', {
      chat_id: 1001,
      text: 'pick',
      reply_markup: { inline_keyboard: [[{ text: 'A', callback_data: 'x'.repeat(65) }]] },
    });
    expect(longData.description).toBe('Bad Request: BUTTON_DATA_INVALID');
    expect(
      (await api('sendMessage', { chat_id: 1001, text: '<b>x', parse_mode: 'HTML' })).description,
    ).toMatch(/^Bad Request: can't parse entities/);
    expect(await api('noSuchMethod')).toMatchObject({ status: 404, description: 'Not Found' });
    expect(await api('getMe', {}, '123456:wrong')).toMatchObject({
      status: 401,
      description: 'Unauthorized',
    });
    expect(await api('getMe', {}, 'garbage')).toMatchObject({ status: 401 });

    const html = await ok<TgMessage>('sendMessage', {
      chat_id: 1001,
      text: '<b>你好</b> &amp; hi',
      parse_mode: 'HTML',
    });
    expect(html.text).toBe('你好 & hi');
    expect(html.entities).toEqual([{ type: 'bold', offset: 0, length: 2 }]);
    const edit = await api('editMessageText', {
      chat_id: 1001,
      message_id: html.message_id,
      text: '<b>你好</b> &amp; hi',
      parse_mode: 'HTML',
    });
    expect(edit.description).toMatch(/^Bad Request: message is not modified/);
    const edited = await ok<TgMessage>('editMessageText', {
      chat_id: 1001,
      message_id: html.message_id,
      text: 'new',
    });
    expect(edited).toMatchObject({ text: 'new', message_id: html.message_id });
    expect(edited.edit_date).toBeTypeOf('number');
    const [view] = await client.user(1001).messages();
    expect(view).toMatchObject({ text: 'new', edits: [{ text: '你好 & hi' }] });
  });

  it('waits for changes with the whole edit history of a message, or with its latest edit only', async () => {
    await client.user(1001).register();
    const m = await ok<TgMessage>('sendMessage', { chat_id: 1001, text: 'v0' });
    for (const text of ['v1', 'v2', 'v3'])
      await ok('editMessageText', { chat_id: 1001, message_id: m.message_id, text });
    const all = await client.changes(1001, 0, 0);
    expect(all.messages[0]).toMatchObject({
      text: 'v3',
      edits: [{ text: 'v0' }, { text: 'v1' }, { text: 'v2' }],
    });
    const latest = await client.changes(1001, 0, 0, true);
    expect(latest.messages[0]).toMatchObject({ text: 'v3', edits: [{ text: 'v2' }] });
  });

  it('accepts urlencoded and multipart bodies with reply_markup as a JSON string', async () => {
    await client.user(1001).register();
    const markup = JSON.stringify({ inline_keyboard: [[{ text: '确认', callback_data: 'ok' }]] });
    const form = await fetch(`${emu.apiRoot}/bot${TOKEN}/sendMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ chat_id: '1001', text: '表单', reply_markup: markup }).toString(),
    });
    expect(
      ((await form.json()) as ApiReply<TgMessage>).result?.reply_markup?.inline_keyboard[0]?.[0]?.text,
    ).toBe('确认');
    const fd = new FormData();
    fd.set('chat_id', '1001');
    fd.set('text', 'multipart');
    fd.set('reply_markup', markup);
    const multi = await fetch(`${emu.apiRoot}/bot${TOKEN}/sendMessage`, { method: 'POST', body: fd });
    expect(((await multi.json()) as ApiReply<TgMessage>).result?.text).toBe('multipart');
    const msgs = await client.user(1001).messages();
    expect(msgs.map((m) => m.buttons.map((b) => b.text))).toEqual([['确认'], ['确认']]);
  });

  it('answers 429 over the per-chat and global limits, and on injected 429s', async () => {
    emu.setLimits({ perChatPerSecond: 1, perChatBurst: 3, globalPerSecond: 0 });
    await client.user(1001).register();
    await client.user(1002).register();
    for (let i = 0; i < 3; i++) await ok('sendMessage', { chat_id: 1001, text: `m${i}` });
    const limited = await api('sendMessage', { chat_id: 1001, text: 'too many' });
    expect(limited).toMatchObject({ status: 429, error_code: 429, parameters: { retry_after: 1 } });
    expect(limited.description).toBe('Too Many Requests: retry after 1');
    await ok('sendMessage', { chat_id: 1002, text: 'other chat is fine' });

    await client.setLimits({ perChatPerSecond: 0, globalPerSecond: 2, globalBurst: 2 });
    await ok('sendMessage', { chat_id: 1001, text: 'g1' });
    await ok('sendMessage', { chat_id: 1002, text: 'g2' });
    const global = await api('sendMessage', { chat_id: 1002, text: 'g3' });
    expect(global.status).toBe(429);
    expect(global.parameters?.retry_after).toBeGreaterThanOrEqual(1);

    await client.setLimits({ globalPerSecond: 0 });
    await client.inject429(2, 7);
    expect((await api('sendMessage', { chat_id: 1001, text: 'x' })).parameters).toEqual({ retry_after: 7 });
    expect((await api('sendMessage', { chat_id: 1001, text: 'x' })).status).toBe(429);
    await ok('sendMessage', { chat_id: 1001, text: 'after injected' });

    const stats = await client.stats();
    expect(stats.tooManyRequests).toBe(4);
    expect(stats.totalSent).toBe(7);
    expect(stats.sentPerChat).toEqual({ '1001': 5, '1002': 2 });
    expect(await client.outbound()).toHaveLength(7);
  });

  it('answers 403 for a chat that blocked the bot', async () => {
    const alice = client.user(1001);
    await alice.register();
    await alice.block();
    expect(await api('sendMessage', { chat_id: 1001, text: 'hi' })).toMatchObject({
      status: 403,
      error_code: 403,
      description: 'Forbidden: bot was blocked by the user',
    });
    await alice.unblock();
    await ok('sendMessage', { chat_id: 1001, text: 'hi' });
    expect((await client.stats()).forbidden).toBe(1);
  });
});

describe('callbacks, files and commands', () => {
  it('round-trips a button press', async () => {
    const alice = client.user(1001, { firstName: 'Alice' });
    await alice.register();
    const sent = await ok<TgMessage>('sendMessage', {
      chat_id: 1001,
      text: '确认提交？',
      reply_markup: {
        inline_keyboard: [
          [
            { text: '确认', callback_data: 'yes' },
            { text: '取消', callback_data: 'no' },
          ],
        ],
      },
    });
    const press = await alice.pressButton('确认');
    const [u] = await ok<TgUpdate[]>('getUpdates');
    const cq = u!.callback_query!;
    expect(cq).toMatchObject({ id: press.callbackQueryId, data: 'yes', from: { id: 1001 } });
    expect(cq.message?.message_id).toBe(sent.message_id);
    expect(cq.chat_instance).toMatch(/^-?\d+$/);
    expect(
      await ok('answerCallbackQuery', { callback_query_id: cq.id, text: '已提交', show_alert: true }),
    ).toBe(true);
    expect((await api('answerCallbackQuery', { callback_query_id: cq.id })).status).toBe(400);
    expect(await alice.callbackAnswers()).toMatchObject([
      { callbackQueryId: cq.id, text: '已提交', showAlert: true, data: 'yes' },
    ]);
    await expect(alice.pressButton('不存在')).rejects.toThrow(/no callback button/);
  });

  it('stores user uploads for getFile and serves bot documents', async () => {
    const alice = client.user(1001);
    const bytes = Buffer.from('name,amount\n张三,500\n');
    await alice.sendDocument({ fileName: '名单.csv', bytes });
    const [u] = await ok<TgUpdate[]>('getUpdates');
    const doc = u!.message!.document!;
    expect(doc).toMatchObject({ file_name: '名单.csv', mime_type: 'text/csv', file_size: bytes.length });
    const file = await ok<{ file_path: string; file_size: number }>('getFile', { file_id: doc.file_id });
    const download = await fetch(`${emu.apiRoot}/file/bot${TOKEN}/${file.file_path}`);
    expect(Buffer.from(await download.arrayBuffer())).toEqual(bytes);
    expect((await api('getFile', { file_id: 'nope' })).description).toBe('Bad Request: invalid file_id');

    const fd = new FormData();
    fd.set('chat_id', '1001');
    fd.set('caption', '报表');
    fd.set('document', new Blob([Buffer.from('xlsx-bytes')]), 'report.xlsx');
    const res = (await (
      await fetch(`${emu.apiRoot}/bot${TOKEN}/sendDocument`, { method: 'POST', body: fd })
    ).json()) as ApiReply<TgMessage>;
    expect(res.result?.document).toMatchObject({ file_name: 'report.xlsx', file_size: 10 });
    expect(res.result?.document?.mime_type).toContain('spreadsheetml');
    const resend = await ok<TgMessage>('sendDocument', {
      chat_id: 1001,
      document: res.result!.document!.file_id,
    });
    expect(resend.document?.file_id).toBe(res.result!.document!.file_id);
    const last = await alice.lastMessage();
    expect((await alice.downloadDocument(last!)).toString()).toBe('xlsx-bytes');
  });

  it('resolves the command menu by scope and language like Telegram', async () => {
    await ok('setMyCommands', { commands: [{ command: 'start', description: 'Start' }] });
    await ok('setMyCommands', { commands: [{ command: 'start', description: '开始' }], language_code: 'zh' });
    await ok('setMyCommands', {
      commands: [{ command: 'review', description: '审核' }],
      scope: { type: 'chat', chat_id: 2002 },
      language_code: 'zh',
    });
    const zh = client.user(1001, { languageCode: 'zh-hans' });
    const en = client.user(1003, { languageCode: 'en' });
    const reviewer = client.user(2002, { languageCode: 'zh-hans' });
    for (const u of [zh, en, reviewer]) await u.register();
    expect(await zh.myCommands()).toEqual([{ command: 'start', description: '开始' }]);
    expect(await en.myCommands()).toEqual([{ command: 'start', description: 'Start' }]);
    expect(await reviewer.myCommands()).toEqual([{ command: 'review', description: '审核' }]);
    expect(await reviewer.myCommands('en')).toEqual([{ command: 'start', description: 'Start' }]);
    expect(
      await ok('getMyCommands', { scope: { type: 'chat', chat_id: 2002 }, language_code: 'zh' }),
    ).toHaveLength(1);
    await ok('deleteMyCommands', { language_code: 'zh' });
    expect(await zh.myCommands()).toEqual([{ command: 'start', description: 'Start' }]);
    expect(
      (await api('setMyCommands', { commands: [{ command: 'Bad-Cmd', description: 'x' }] })).status,
    ).toBe(400);
  });
});
