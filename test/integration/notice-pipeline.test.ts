import { createServer, type IncomingMessage, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SendSlotOptions, SendSlots } from '../../src/adapters/queue/chat-bucket.ts';
import { HttpSmsProvider, LogOnlySmsProvider, renderSmsBody } from '../../src/adapters/sms/provider.ts';
import { sweepStuckNotices } from '../../src/usecases/notice-sweeper.ts';
import { useTestDatabase } from '../support/test-db.ts';
import { REDIS_URL } from '../support/harness.ts';
import { seedCampaign, seedContact } from '../support/fixtures.ts';

let redis: Redis;
const { db } = useTestDatabase();
beforeAll(async () => {
  redis = new Redis(REDIS_URL);
});
afterAll(async () => {
  redis?.disconnect();
});

describe('send slots shared through Redis (per chat and for the bot)', () => {
  const slots = (o: Partial<SendSlotOptions> = {}) =>
    new SendSlots(redis, {
      chatPerSec: 1,
      chatBurst: 1,
      globalPerSec: 0,
      globalBurst: 1,
      prefix: `test-slots-${randomBytes(4).toString('hex')}`,
      ...o,
    });
  it('allows 1 per second per chat, independently per chat', async () => {
    const b = slots();
    const t = 1_000_000;
    expect(await b.take(1, 0, t)).toEqual({ kind: 'reserved', waitMs: 0 });
    const busy = await b.take(1, 0, t + 100);
    expect(busy.kind).toBe('chat_busy');
    expect(busy.waitMs).toBeGreaterThan(800);
    expect(busy.waitMs).toBeLessThanOrEqual(900);
    expect((await b.take(2, 0, t + 100)).kind).toBe('reserved'); // another chat is not affected
    expect((await b.take(1, 0, t + 1000)).kind).toBe('reserved'); // refilled after 1 s
    expect((await b.take(1, 0, t + 1500)).kind).toBe('chat_busy');
  });
  it('shares a chat burst between concurrent takers (atomic)', async () => {
    const b = slots({ chatBurst: 3 });
    const results = await Promise.all(Array.from({ length: 10 }, () => b.take(7, 0, 5_000_000)));
    expect(results.filter((r) => r.kind === 'reserved')).toHaveLength(3);
  });
  it('hands out global slots first come, first served at the global rate', async () => {
    const b = slots({ chatPerSec: 0, globalPerSec: 10, globalBurst: 2 });
    const t = 2_000_000;
    const waits: number[] = [];
    for (let chat = 1; chat <= 6; chat++) {
      const r = await b.take(chat, 10_000, t);
      expect(r.kind).toBe('reserved');
      waits.push(r.waitMs);
    }
    expect(waits).toEqual([0, 0, 100, 200, 300, 400]); // a burst of 2, then one per 100 ms
    const far = await b.take(99, 50, t); // the next slot is 500 ms away: more than the caller waits
    expect(far).toEqual({ kind: 'too_far', waitMs: 500 });
    expect((await b.take(98, 1_000, t)).waitMs).toBe(500); // nothing was reserved by the refusal
  });
  it('charges a chat as of its reserved slot, so its next send cannot come too soon', async () => {
    const b = slots({ chatPerSec: 1, chatBurst: 1, globalPerSec: 10, globalBurst: 1 });
    const t = 3_000_000;
    for (let chat = 1; chat <= 5; chat++) await b.take(chat, 10_000, t); // global queue: 400 ms long
    const first = await b.take(42, 10_000, t);
    expect(first).toEqual({ kind: 'reserved', waitMs: 500 });
    const next = await b.take(42, 10_000, t + 600); // sent at t+500: the chat's token is back at t+1500
    expect(next.kind).toBe('chat_busy');
    expect(next.waitMs).toBe(900);
  });
});

describe('sweeper for notices stuck in sending', () => {
  it('marks old claims failed-uncertain with a follow-up, never requeues, leaves fresh claims alone', async () => {
    const c = await seedCampaign(db, {
      categories: [{ code: 'n', kind: 'needy_worker', nameZh: '困难职工', amountYuan: 1000 }],
    });
    const { union, person } = await seedContact(db, 5501, '扫描测试工会');
    const nom = await db.nomination.create({
      data: {
        campaignId: c.id,
        unionId: union.id,
        submittedById: person.id,
        status: 'paid',
        fullName: '张三',
        benefitForm: 'in_kind',
        amountFen: 100_000,
      },
    });
    const now = new Date();
    const old = await db.notice.create({
      data: {
        uniqueKey: 'sweep-old',
        kind: 'payment',
        nominationId: nom.id,
        status: 'sending',
        attempts: 1,
        template: 'x',
        claimedAt: new Date(now.getTime() - 10 * 60_000),
      },
    });
    const fresh = await db.notice.create({
      data: {
        uniqueKey: 'sweep-fresh',
        kind: 'payment',
        status: 'sending',
        attempts: 1,
        template: 'x',
        claimedAt: now,
      },
    });
    const r = await sweepStuckNotices(db, { now });
    expect(r.noticeIds).toEqual([old.id]);
    const after = await db.notice.findUniqueOrThrow({ where: { id: old.id } });
    expect(after.status).toBe('failed');
    expect(after.attempts).toBe(1);
    expect(after.lastError).toMatch(/^uncertain/);
    expect((await db.notice.findUniqueOrThrow({ where: { id: fresh.id } })).status).toBe('sending');
    const fu = await db.followUp.findMany({ where: { nominationId: nom.id } });
    expect(fu.map((f) => [f.kind, f.status])).toEqual([['unreachable', 'open']]);
    expect((await sweepStuckNotices(db, { now })).marked).toBe(0); // idempotent
  });
});

describe('SMS providers', () => {
  let server: Server;
  let url = '';
  const received: { body: string; auth?: string }[] = [];
  let failNext = false;
  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push({ body, ...(req.headers.authorization ? { auth: req.headers.authorization } : {}) });
        if (failNext) {
          failNext = false;
          res.writeHead(503).end('busy');
          return;
        }
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ id: `m${received.length}` }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const a = server.address();
    url = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}/sms`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('http: posts the configured JSON template with escaped values and a bearer token', async () => {
    const p = new HttpSmsProvider({
      url,
      token: 'tkn',
      template: '{"mobile":"{phone}","content":"{text}","sign":"总工会"}',
    });
    const r = await p.send('13812345678', '您好 "引号"\n第二行');
    expect(r).toEqual({ ok: true, id: 'm1' });
    expect(JSON.parse(received[0]!.body)).toEqual({
      mobile: '13812345678',
      content: '您好 "引号"\n第二行',
      sign: '总工会',
    });
    expect(received[0]!.auth).toBe('Bearer tkn');
  });
  it('http: a gateway error or an unreachable gateway is a failed result, not an exception', async () => {
    failNext = true;
    const p = new HttpSmsProvider({ url });
    const r = await p.send('13812345678', 'x');
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(/503/);
    const down = new HttpSmsProvider({ url: 'http://127.0.0.1:1/sms', timeoutMs: 2000 });
    expect((await down.send('13812345678', 'x')).ok).toBe(false);
  });
  it('log only: records and honestly reports "not delivered"; a bad template is refused at start', async () => {
    const p = new LogOnlySmsProvider();
    expect(await p.send('13812345678', 'hi')).toMatchObject({
      ok: false,
      error: expect.stringMatching(/not delivered/),
    });
    expect(p.sent.map((s) => s.text)).toEqual(['hi']);
    expect(() => new HttpSmsProvider({ url, template: '{"a":"{phone}"' })).toThrow();
    expect(renderSmsBody('{"p":"{phone}"}', '1"2', '')).toBe('{"p":"1\\"2"}');
  });
});
