import { createServer, type IncomingMessage, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatBucket } from '../../src/adapters/queue/chat-bucket.ts';
import { HttpSmsProvider, LogOnlySmsProvider, renderSmsBody } from '../../src/adapters/sms/provider.ts';
import { sweepStuckNotices } from '../../src/usecases/notice-sweeper.ts';
import { createPrisma, createTestDatabase, type TestDatabase } from '../support/db.ts';
import { REDIS_URL } from '../support/harness.ts';
import { seedCampaign, seedContact } from '../support/fixtures.ts';

let redis: Redis;
let tdb: TestDatabase;
let db: ReturnType<typeof createPrisma>;
beforeAll(async () => {
  redis = new Redis(REDIS_URL);
  tdb = await createTestDatabase();
  db = createPrisma(tdb.url);
});
afterAll(async () => {
  redis?.disconnect();
  await db?.$disconnect();
  await tdb?.drop();
});

describe('per-chat token bucket (Redis)', () => {
  it('allows 1 per second per chat, independently per chat', async () => {
    const b = new ChatBucket(redis, { prefix: `test-bucket-${randomBytes(4).toString('hex')}` });
    const t = 1_000_000;
    expect(await b.take(1, t)).toBe(0);
    const wait = await b.take(1, t + 100);
    expect(wait).toBeGreaterThan(800);
    expect(wait).toBeLessThanOrEqual(900);
    expect(await b.take(2, t + 100)).toBe(0); // another chat is not affected
    expect(await b.take(1, t + 1000)).toBe(0); // refilled after 1 s
    expect(await b.take(1, t + 1500)).toBeGreaterThan(0);
  });
  it('shares the budget between concurrent takers (atomic)', async () => {
    const b = new ChatBucket(redis, { prefix: `test-bucket-${randomBytes(4).toString('hex')}`, burst: 3 });
    const results = await Promise.all(Array.from({ length: 10 }, () => b.take(7, 5_000_000)));
    expect(results.filter((w) => w === 0)).toHaveLength(3);
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
