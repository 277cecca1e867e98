import { Telegram } from 'telegraf';
import type { Update } from 'telegraf/types';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Metrics } from '../../src/adapters/http/metrics.ts';
import { createLogger } from '../../src/adapters/logger.ts';
import { INTERACTIVE, Outbound } from '../../src/adapters/telegram/outbound.ts';
import { UpdatePoller } from '../../src/adapters/telegram/polling.ts';
import { conversation, startTestEmulator, type TestEmulator } from '../support/conversation.ts';

// The bot's long polling (polling.ts) against the emulator over HTTP. Emulator limits off: these tests
// are about when updates are fetched and acknowledged, not about Telegram's send limits (the bot sends
// nothing here).

const TOKEN = '7000002:poller-test';
let emu: TestEmulator;
const logger = createLogger({ level: process.env['DEBUG_POLL'] ? 'debug' : 'silent' });
/** A client through the outbound path, as the bot's (no send slots: the poller sends nothing). */
const client = () =>
  new Outbound(undefined, logger, new Metrics()).client(TOKEN, { apiRoot: emu.apiRoot }, INTERACTIVE);
const textOf = (u: Update) => ('message' in u && u.message && 'text' in u.message ? u.message.text : '');

let user: (id: number) => ReturnType<TestEmulator['user']>;
beforeEach(async () => {
  emu = await startTestEmulator({ limits: { perChatPerSecond: 0, globalPerSecond: 0 } });
  // The bot exists once it called the API; people then write to it by its id.
  await new Telegram(TOKEN, { apiRoot: emu.apiRoot }).getMe();
  const chat = conversation(emu.url, { bot: Number(TOKEN.split(':')[0]) });
  user = (id) => chat.user(id, { firstName: `U${id}` });
});
afterEach(async () => {
  await emu.close();
});

describe('long polling', () => {
  it("a slow update of one chat does not hold back another chat's updates", async () => {
    const seen: string[] = [];
    let releaseSlow!: () => void;
    const slow = new Promise<void>((r) => {
      releaseSlow = r;
    });
    const poller = new UpdatePoller(
      client(),
      async (u) => {
        seen.push(textOf(u));
        if (textOf(u) === 'slow') await slow;
      },
      logger,
      { timeoutSeconds: 1 },
    );
    poller.start();
    try {
      const a = user(2001);
      const b = user(2002);
      await a.send('slow');
      await waitFor(() => seen.includes('slow'));
      // Sent after the slow update was handed over: telegraf's loop would not fetch it before the slow
      // update finished.
      await b.send('quick 1');
      await b.send('quick 2');
      await waitFor(() => seen.includes('quick 2'));
      expect(seen).toEqual(['slow', 'quick 1', 'quick 2']);
      expect(poller.handling).toBe(1);
    } finally {
      releaseSlow();
      await poller.stop();
    }
  });

  it('a poll that brought only updates in hand waits for one of them to be done, not for the longest pause', async () => {
    // The longest pause is ten minutes here: the next update can only arrive in time if the end of the
    // update in hand wakes the poller (a person pressing a button as soon as the bot answered).
    const seen: string[] = [];
    let releaseFirst!: () => void;
    const first = new Promise<void>((r) => {
      releaseFirst = r;
    });
    const poller = new UpdatePoller(
      client(),
      async (u) => {
        seen.push(textOf(u));
        if (textOf(u) === 'one') await first;
      },
      logger,
      { timeoutSeconds: 1, busyPollMs: 600_000 },
    );
    poller.start();
    try {
      const a = user(2011);
      await a.send('one');
      await waitFor(() => seen.includes('one'));
      await a.send('two');
      // Let the poller ask again while 'one' is still in hand (it sees only 'one' and pauses).
      await new Promise((r) => setTimeout(r, 200));
      expect(seen).toEqual(['one']);
      releaseFirst();
      await waitFor(() => seen.includes('two'));
      expect(seen).toEqual(['one', 'two']);
    } finally {
      releaseFirst();
      await poller.stop();
    }
  });

  it('an update still being handled when the process stops is delivered again; a done one is not', async () => {
    const first: string[] = [];
    const never = new Promise<void>(() => {});
    const p1 = new UpdatePoller(
      client(),
      async (u) => {
        first.push(textOf(u));
        if (textOf(u) === 'stuck') await never; // the process "dies" with this update in hand
      },
      logger,
      { timeoutSeconds: 1 },
    );
    p1.start();
    const a = user(2003);
    const b = user(2004);
    await a.send('done before');
    await waitFor(() => first.includes('done before'));
    await a.send('stuck');
    await b.send('done after');
    await waitFor(() => first.includes('done after'));
    await p1.stop();

    // A new process polls: the stuck update and the one done after it (not yet acknowledged, since an
    // earlier one was still running) come again; the one done before them does not.
    const second: string[] = [];
    const p2 = new UpdatePoller(
      client(),
      async (u) => {
        second.push(textOf(u));
      },
      logger,
      { timeoutSeconds: 1 },
    );
    p2.start();
    try {
      await waitFor(() => second.includes('stuck'));
      expect(second).not.toContain('done before');
      expect(second).toEqual(['stuck', 'done after']);
    } finally {
      await p2.stop();
    }
  });

  it('at most maxInFlight updates are handled at once; the rest wait and then run', async () => {
    let running = 0;
    let most = 0;
    let handled = 0;
    const poller = new UpdatePoller(
      client(),
      async () => {
        running++;
        most = Math.max(most, running);
        await new Promise((r) => setTimeout(r, 30));
        running--;
        handled++;
      },
      logger,
      { timeoutSeconds: 1, maxInFlight: 3 },
    );
    const users = Array.from({ length: 10 }, (_, i) => user(2100 + i));
    await Promise.all(users.map((u) => u.send('hello')));
    poller.start();
    try {
      await waitFor(() => handled === 10);
      expect(most).toBe(3);
    } finally {
      await poller.stop();
    }
  });
});

async function waitFor(fn: () => boolean, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}
