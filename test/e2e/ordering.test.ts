import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/adapters/logger.ts';
import { startApp, type RunningApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { DEFAULT_LIMITS } from '../../src/emulator/rate-limit.ts';
import { startTestEmulator, type Person, type TestEmulator } from '../support/conversation.ts';
import { freePort, type Harness, startHarness } from '../support/harness.ts';
import { makeId, seedCampaign, seedContact } from '../support/fixtures.ts';
import { APOLOGY, completeNomination, nameFor, nextStage, REFUSAL } from '../support/nomination-driver.ts';
import { postUpdate, textUpdate } from '../support/webhook.ts';

// Telegram's limits never cost a person a reply. The emulator enforces its default limits here (1 message/s
// per chat with a burst of 3, 30/s for the bot): updates of one chat are handled one at a time in order
// (polling batches, two webhook processes), and every send goes through the paced, 429-aware outbound path.

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function limitedEmulator(): Promise<TestEmulator> {
  return startTestEmulator({ limits: { ...DEFAULT_LIMITS }, timeoutMs: 60_000 });
}

/** Every bot message in the chat, oldest first, as text. */
async function botTexts(u: Person): Promise<string[]> {
  return (await u.messages()).map((m) => m.text ?? m.caption ?? '');
}

/** Warnings and errors the bot logged (for failure messages). */
function warnings(h: Harness): string {
  return h.logs
    .filter((l) => /"level":(40|50|60)/.test(l))
    .slice(0, 8)
    .join('');
}

async function expectNoRefusal(u: Person) {
  const texts = await botTexts(u);
  const bad = texts.filter((t) => REFUSAL.test(t) || APOLOGY.test(t));
  if (bad.length) throw new Error(`user ${u.id} got a refusal or apology:\n${await u.dump()}`);
}

describe('polling mode, emulator limits on', () => {
  let h: Harness;
  let contactBase = 0;
  beforeAll(async () => {
    h = await startHarness({ emulator: await limitedEmulator() });
    await seedCampaign(h.app.db, {
      budgetYuan: 1_000_000,
      categories: [
        { code: 'gig', kind: 'gig_worker', nameZh: '新就业形态劳动者', amountYuan: 200, forms: ['in_kind'] },
      ],
    });
    contactBase = 880_000;
  });
  afterAll(async () => {
    await h?.emu.close();
    await h?.stop();
  });

  const contact = async (n: number) => {
    const id = contactBase + n;
    await seedContact(h.app.db, id, `并发测试工会${n}`, `联系人${n}`);
    return h.emu.user(id, { firstName: `联系人${n}`, languageCode: 'zh-hans' });
  };
  const answers = (n: number) => ({
    category: /新就业形态劳动者/,
    name: nameFor(n),
    idNumber: makeId('19900101', n % 1000, '110105'),
    phone: `139${String(n).padStart(8, '0')}`,
    employer: '某外卖平台富民站',
    description: '春节期间坚持配送。',
  });

  it('five commands within a second get five answers, in order', async () => {
    const u = h.emu.user(870_001, { firstName: '快手', languageCode: 'zh-hans' });
    const commands = ['/whoami', '/x2', '/x3', '/whoami', '/x5'];
    const expected = [/Telegram 编号/, /没有 \/x2 /, /没有 \/x3 /, /Telegram 编号/, /没有 \/x5 /];
    for (const c of commands) await u.send(c); // no waiting for replies: one getUpdates batch
    for (const _ of expected) await u.expectReply();
    const texts = await botTexts(u);
    expect(texts).toHaveLength(5);
    for (const [i, t] of texts.entries()) expect(t).toMatch(expected[i]!);
  });

  it('tap-and-type at once in the nomination dialog reaches the next step every time', async () => {
    const u = await contact(1);
    for (let round = 0; round < 4; round++) {
      await u.send('/nominate');
      let { stage } = await nextStage(u, new Set());
      if (stage === 'draft') {
        await u.press(/删除草稿|重新开始/);
        await nextStage(u, new Set(['draft']));
        await u.send('/nominate');
        ({ stage } = await nextStage(u, new Set(['draft', 'discarded'])));
      }
      expect(stage).toBe('category');
      // The tap and the typed name arrive together (one getUpdates batch).
      await u.press(/新就业形态劳动者/);
      await u.send(nameFor(round));
      const next = await nextStage(u, new Set(['category', 'name', 'draft', 'discarded']));
      expect(next.stage).toBe('id_number');
      await expectNoRefusal(u);
      await u.send('/cancel');
      await u.expectReply();
    }
  });

  it('20 people completing a nomination at once lose no reply and see no refusal', async () => {
    const people = await Promise.all(Array.from({ length: 20 }, (_, i) => contact(100 + i)));
    const before = h.emu.emulator.stats().tooManyRequests;
    await Promise.all(people.map((u, i) => completeNomination(u, answers(100 + i)))).catch((err: unknown) => {
      throw new Error(`${String(err)}\nbot log:\n${warnings(h)}`);
    });
    for (const u of people) await expectNoRefusal(u);
    expect(
      await h.app.db.nomination.count({
        where: { status: 'submitted', submittedBy: { telegramId: { in: people.map((u) => BigInt(u.id)) } } },
      }),
    ).toBe(20);
    // Paced to the limits: the emulator had (almost) nothing to refuse.
    expect(h.emu.emulator.stats().tooManyRequests - before).toBeLessThan(20);
  });

  it('a button press is always answered, also one the features ignore (a group chat)', async () => {
    const u = h.emu.user(871_100, { firstName: '群聊', languageCode: 'zh-hans' });
    await u.handle.register();
    const id = `cq${Date.now()}`;
    h.emu.emulator.injectRawUpdate({
      callback_query: {
        id,
        from: { id: u.id, is_bot: false, first_name: '群聊' },
        message: { message_id: 1, date: 1, chat: { id: -100_871_100, type: 'group', title: 'g' }, text: 'x' },
        chat_instance: '1',
        data: 'anything',
      },
    });
    for (let i = 0; ; i++) {
      if (h.emu.emulator.callbackAnswers(u.id).some((a) => a.callbackQueryId === id)) break;
      expect(i).toBeLessThan(200);
      await sleep(50);
    }
  });

  it('an injected storm of 429s delays replies but loses none', async () => {
    const people = await Promise.all(
      Array.from({ length: 4 }, (_, i) =>
        h.emu.user(871_000 + i, { firstName: `雨${i}`, languageCode: 'zh-hans' }),
      ),
    );
    const before = h.emu.emulator.stats().tooManyRequests;
    h.emu.emulator.inject429(6, 1);
    await Promise.all(
      people.map(async (u, i) => {
        await u.send(`/s${i}a`);
        await u.send(`/s${i}b`);
      }),
    );
    for (const [i, u] of people.entries()) {
      await u.expectReply(new RegExp(`没有 /s${i}a `));
      await u.expectReply(new RegExp(`没有 /s${i}b `));
      expect(await botTexts(u)).toHaveLength(2);
    }
    expect(h.emu.emulator.stats().tooManyRequests - before).toBeGreaterThanOrEqual(6);
    expect(h.logs.join('')).not.toMatch(/gave up on an interactive send/);
  });
});

describe('two webhook bot processes, emulator limits on', () => {
  let h: Harness;
  let b: RunningApp;
  let urlA: string;
  let urlB: string;
  beforeAll(async () => {
    h = await startHarness({ emulator: await limitedEmulator(), mode: 'webhook', role: 'bot' });
    urlA = h.env['WEBHOOK_URL']!;
    const portB = await freePort();
    urlB = `http://127.0.0.1:${portB}/telegram/hook`;
    b = await startApp({
      config: loadConfig({ ...h.env, PORT: String(portB), WEBHOOK_URL: urlB }),
      role: 'bot',
      apiRoot: h.emu.apiRoot,
      logger: createLogger({ level: 'warn' }),
      // One installation: both processes share the queue prefix (and so the update de-duplication).
      queuePrefix: h.app.queues.prefix,
    });
  });
  afterAll(async () => {
    await b?.stop();
    await h?.emu.close();
    await h?.stop();
  });

  const post = (url: string, chatId: number, text: string) =>
    postUpdate(url, h.env['WEBHOOK_SECRET']!, textUpdate(chatId, '交替', text));

  it('one chat fed alternately to both processes is still handled in order', async () => {
    const u = h.emu.user(872_001, { firstName: '交替', languageCode: 'zh-hans' });
    await u.handle.register();
    const posts: Promise<Response>[] = [];
    for (let i = 1; i <= 8; i++) {
      posts.push(post(i % 2 ? urlA : urlB, u.id, `/o${i}`));
      await sleep(10); // a load balancer passing on the updates in the order Telegram sent them
    }
    for (const r of await Promise.all(posts)) expect(r.status).toBe(200);
    const texts = await botTexts(u);
    expect(texts.map((t) => /没有 \/(o\d) /.exec(t)?.[1])).toEqual(
      Array.from({ length: 8 }, (_, i) => `o${i + 1}`),
    );
  });

  it('the same update delivered to both processes at once is handled once', async () => {
    const u = h.emu.user(872_002, { firstName: '重复', languageCode: 'zh-hans' });
    await u.handle.register();
    const update = textUpdate(u.id, '交替', '/dup1');
    const secret = h.env['WEBHOOK_SECRET']!;
    const [ra, rb] = await Promise.all([postUpdate(urlA, secret, update), postUpdate(urlB, secret, update)]);
    expect([ra.status, rb.status]).toEqual([200, 200]);
    await sleep(300);
    expect(await botTexts(u)).toHaveLength(1);
  });
});
