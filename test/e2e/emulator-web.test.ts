import { afterEach, describe, expect, it } from 'vitest';
import { sandboxWebOptions } from '../../src/cli/sandbox-web.ts';
import { EmulatorClient } from '../../src/emulator/client.ts';
import { createEmulator, type Emulator } from '../../src/emulator/server.ts';
import type { ChatEntryView, ChatUserView } from '../../src/emulator/types.ts';

// What the sandbox's web page needs from the emulator over HTTP (the page itself is driven in Chromium
// by test/browser/sandbox-web.test.ts): the page and its texts only when asked for, the whole chat with
// the user's own messages, live change events, files with their type and name, and no control requests
// from other sites.

const TOKEN = '123456:TEST-web';
let emu: Emulator | undefined;

async function start(web: boolean): Promise<Emulator> {
  emu = await createEmulator({
    limits: { perChatPerSecond: 0, globalPerSecond: 0 },
    ...(web ? { web: sandboxWebOptions() } : {}),
  });
  return emu;
}

async function bot<T>(e: Emulator, method: string, body: Record<string, unknown> | FormData): Promise<T> {
  const res = await fetch(`${e.apiRoot}/bot${TOKEN}/${method}`, {
    method: 'POST',
    ...(body instanceof FormData
      ? { body }
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  const json = (await res.json()) as { ok: boolean; result: T; description?: string };
  if (!json.ok) throw new Error(`${method}: ${json.description}`);
  return json.result;
}

/** Reads server-sent events until `count` arrived (or the time is up). */
async function readEvents(url: string, count: number, during: () => Promise<void>) {
  const ac = new AbortController();
  const res = await fetch(url, { signal: ac.signal });
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const reader = res.body!.getReader();
  const events: { event: string; data: unknown }[] = [];
  let buffer = '';
  await during();
  const timer = setTimeout(() => ac.abort(), 5_000);
  try {
    while (events.length < count) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += Buffer.from(value).toString('utf8');
      for (let i = buffer.indexOf('\n\n'); i >= 0; i = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event && data) events.push({ event, data: JSON.parse(data) });
      }
    }
  } catch {
    // aborted: return what arrived
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
  return events;
}

afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

describe('the sandbox web page over the emulator', () => {
  it('serves the page, its script and its texts in both languages only when asked to', async () => {
    const e = await start(true);
    const page = await fetch(`${e.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).toContain('/web/app.js');
    const script = await fetch(`${e.url}/web/app.js`);
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
    const config = (await (await fetch(`${e.url}/web/config.json`)).json()) as {
      strings: Record<string, Record<string, string>>;
      people: { id: number; role?: string }[];
    };
    expect(config.strings['zh-CN']!['title']).toBe('送温暖机器人 · 沙盒');
    expect(config.strings['en']!['title']).toBe('Send Warmth bot · sandbox');
    expect(Object.keys(config.strings['en']!).sort()).toEqual(Object.keys(config.strings['zh-CN']!).sort());
    expect(config.people.map((p) => [p.id, p.role])).toEqual([
      [1001, 'role_admin'],
      [1002, 'role_reviewer'],
      [1003, 'role_finance'],
      [1004, 'role_contact'],
      [2001, 'role_recipient'],
    ]);
    expect((await fetch(`${e.url}/web/../server.ts`)).status).toBe(404);
    await e.close();

    const plain = await start(false);
    expect((await fetch(`${plain.url}/`)).status).toBe(404);
    expect((await fetch(`${plain.url}/web/config.json`)).status).toBe(404);
  });

  it('history has both sides of the chat; users lists who has one', async () => {
    const e = await start(false);
    const client = new EmulatorClient(e.url);
    const u = client.user(1004, { firstName: '张联系', languageCode: 'zh-hans' });
    await u.sendText('/start');
    await bot(e, 'sendMessage', { chat_id: 1004, text: '<b>您好</b>', parse_mode: 'HTML' });
    const history = await client.request<ChatEntryView[]>('GET', '/chats/1004/history');
    expect(history.map((m) => [m.from, m.text])).toEqual([
      ['user', '/start'],
      ['bot', '您好'],
    ]);
    expect(history[1]!.entities).toEqual([{ type: 'bold', offset: 0, length: 2 }]);
    expect(await client.request<ChatUserView[]>('GET', '/users')).toEqual([
      { id: 1004, firstName: '张联系', languageCode: 'zh-hans', blocked: false },
    ]);
  });

  it('streams a chat event for every change of a chat and a commands event for menus', async () => {
    const e = await start(false);
    const client = new EmulatorClient(e.url);
    await bot(e, 'getMe', {}); // the bot connected (its first call would otherwise add a reset event)
    const events = await readEvents(`${e.url}/_emulator/events`, 3, async () => {
      await client.user(1001).sendText('hi');
      await bot(e, 'sendMessage', { chat_id: 1001, text: 'hello' });
      await bot(e, 'setMyCommands', {
        commands: [{ command: 'report', description: '报表' }],
        scope: { type: 'chat', chat_id: 1001 },
      });
    });
    expect(events).toEqual([
      { event: 'chat', data: { chatId: 1001 } },
      { event: 'chat', data: { chatId: 1001 } },
      { event: 'commands', data: {} },
    ]);
  });

  it('serves files with their type, and as a named download when asked', async () => {
    const e = await start(false);
    await new EmulatorClient(e.url).user(1001).register();
    const png = Buffer.from(
      'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
      'base64',
    );
    const form = new FormData();
    form.set('chat_id', '1001');
    form.set('photo', new Blob([png]), 'blob');
    const photo = await bot<{ photo: { file_id: string }[] }>(e, 'sendPhoto', form);
    const image = await fetch(`${e.url}/_emulator/files/${encodeURIComponent(photo.photo[0]!.file_id)}`);
    expect(image.headers.get('content-type')).toBe('image/png');
    expect(image.headers.get('content-disposition')).toBeNull();

    const doc = new FormData();
    doc.set('chat_id', '1001');
    doc.set('document', new Blob(['a,b\n']), '名单.csv');
    const sent = await bot<{ document: { file_id: string } }>(e, 'sendDocument', doc);
    const file = await fetch(
      `${e.url}/_emulator/files/${encodeURIComponent(sent.document.file_id)}?download=1`,
    );
    expect(file.headers.get('content-type')).toBe('text/csv');
    expect(file.headers.get('content-disposition')).toBe(
      `attachment; filename="__.csv"; filename*=UTF-8''${encodeURIComponent('名单.csv')}`,
    );
    expect(await file.text()).toBe('a,b\n');
  });

  it('refuses control requests another site sends from the same browser', async () => {
    const e = await start(false);
    const post = (origin: string | undefined) =>
      fetch(`${e.url}/_emulator/users/1001/text`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain', ...(origin ? { origin } : {}) },
        body: JSON.stringify({ text: 'hi' }),
      });
    const foreign = await post('https://example.com');
    expect(foreign.status).toBe(403);
    expect(await new EmulatorClient(e.url).user(1001).messages()).toEqual([]);
    expect((await post(e.url)).status).toBe(200);
    expect((await post(undefined)).status).toBe(200);
  });
});
