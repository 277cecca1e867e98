import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queues } from '../../src/adapters/queue/queues.ts';
import type { PrismaClient } from '../../src/generated/prisma/client.ts';
import { enqueueNotice } from '../../src/usecases/notices.ts';
import { startTestEmulator, type TestEmulator } from '../support/conversation.ts';
import { createPrisma, createTestDatabase, type TestDatabase } from '../support/db.ts';
import { REDIS_URL } from '../support/harness.ts';

// A rolling restart while notices go out (README, "Upgrades while campaigns run"): worker processes
// (`tsx src/main.ts worker`, as in production) send N notices through the emulator with Telegram's
// limits on; when some have gone out a new worker starts, and once it is up the old one gets SIGTERM
// (what `docker compose up -d` and Kubernetes send): it finishes its active jobs and exits 0. Every
// notice reaches its chat exactly once (0 lost, 0 duplicated), counted per chat by the emulator.

// Chats available; notices are fed at about the sending pace until the new worker is up, whatever its
// boot takes on a loaded machine, so the old worker is always mid-flight when it gets SIGTERM.
const N = 1000;
const FIRST = 30;
const AFTER = 30;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const CHAT_BASE = 7_300_000_000;

let emu: TestEmulator;
let tdb: TestDatabase;
let db: PrismaClient;
const prefix = `test-rolling-${randomBytes(4).toString('hex')}`;
const redis = new Redis(REDIS_URL);
const children: ChildProcess[] = [];

beforeAll(async () => {
  emu = await startTestEmulator();
  tdb = await createTestDatabase();
  db = createPrisma(tdb.url);
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await db?.$disconnect();
  await tdb?.drop();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `*${prefix}*`, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
  redis.disconnect();
  await emu?.close();
});

function startWorker(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'worker'], {
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const w = {
    child,
    out: '',
    exited: new Promise<number | null>((r) => child.on('exit', (code) => r(code))),
  };
  child.stdout!.on('data', (d) => {
    w.out += String(d);
  });
  child.stderr!.on('data', (d) => {
    w.out += String(d);
  });
  return w;
}

async function until(what: string, fn: () => boolean | Promise<boolean>, ms: number, log = () => '') {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${log()}`);
    await sleep(100);
  }
}

describe('rolling restart of the worker', () => {
  it('new worker up, old one stopped with SIGTERM while notices go out: 0 lost, 0 duplicated', async () => {
    const env = {
      TELEGRAM_BOT_TOKEN: `${100000 + Math.floor(Math.random() * 900000)}:ROLL${randomBytes(10).toString('hex')}`,
      TELEGRAM_API_ROOT: emu.apiRoot,
      DATABASE_URL: tdb.url,
      REDIS_URL,
      DATA_KEY: randomBytes(32).toString('base64'),
      SMS_PROVIDER: 'log',
      QUEUE_PREFIX: prefix,
      // Paced below the emulator's limits (30/s, 1/s per chat with a burst of 3), as against Telegram.
      NOTIFY_RATE_PER_SEC: '8',
      SEND_RATE_PER_SEC: '30',
      SEND_CHAT_RATE_PER_SEC: '1',
      SEND_CHAT_BURST: '3',
      WORKER_CONCURRENCY: '5',
      PORT: '0',
      LOG_LEVEL: 'info',
    };
    await db.person.createMany({
      data: Array.from({ length: N }, (_, i) => ({
        telegramId: BigInt(CHAT_BASE + i),
        displayName: `r${i}`,
      })),
    });
    const persons = (await db.person.findMany({ orderBy: { telegramId: 'asc' }, select: { id: true } })).map(
      (p) => p.id,
    );
    for (let i = 0; i < N; i++) emu.emulator.registerUser(CHAT_BASE + i, { firstName: `r${i}` });
    const old = startWorker(env);
    await until(
      'the old worker to start',
      () => old.out.includes('warmth-bot started'),
      60_000,
      () => old.out,
    );

    const queues = new Queues(REDIS_URL, prefix);
    let fed = 0;
    const feed = async (n: number) => {
      for (const end = Math.min(N, fed + n); fed < end; fed++)
        await enqueueNotice(db, queues, {
          uniqueKey: `rolling-${fed}`,
          kind: 'decision',
          personId: persons[fed]!,
          template: 'dialog.cancelled',
        });
    };
    const sent = () => emu.emulator.outbound().filter((o) => o.method === 'sendMessage').length;
    let sentAtStop = 0;
    let fresh: ReturnType<typeof startWorker> | undefined;
    try {
      await feed(FIRST);
      await until(
        'the first notices to go out',
        () => sent() >= 5,
        30_000,
        () => old.out,
      );

      // The new release's worker comes up next to the old one (notices keep coming meanwhile);
      // then the old one is told to stop, with work in hand.
      fresh = startWorker(env);
      while (!fresh.out.includes('warmth-bot started')) {
        if (fed >= N) throw new Error(`the new worker did not start:\n${fresh.out}`);
        await feed(4);
        await sleep(500);
      }
      await feed(AFTER);
      sentAtStop = sent();
      old.child.kill('SIGTERM');
      expect(await old.exited).toBe(0);
      expect(old.out).toMatch(/"msg":"shutting down"[\s\S]*"msg":"stopped"/);
      expect(sentAtStop).toBeLessThan(fed);
    } finally {
      await queues.close();
    }
    const total = fed;
    const next = fresh!;

    await until(
      'every notice to be sent',
      async () => (await db.notice.count({ where: { status: 'sent' } })) === total,
      120_000,
      () => next.out,
    );
    await sleep(1_500);
    next.child.kill('SIGTERM');
    expect(await next.exited).toBe(0);

    const perChat = new Map<number, number>();
    for (const o of emu.emulator.outbound())
      if (o.method === 'sendMessage') perChat.set(o.chatId, (perChat.get(o.chatId) ?? 0) + 1);
    const lost = persons.slice(0, total).filter((_, i) => !perChat.has(CHAT_BASE + i)).length;
    const duplicated = [...perChat.values()].filter((n) => n > 1).length;
    expect({ lost, duplicated, chats: perChat.size }).toEqual({ lost: 0, duplicated: 0, chats: total });
    const statuses = await db.notice.groupBy({ by: ['status'], _count: { _all: true } });
    expect(statuses.map((s) => [s.status, s._count._all])).toEqual([['sent', total]]);
    // Both workers sent part of them.
    expect(sentAtStop).toBeGreaterThan(0);
  });
});
