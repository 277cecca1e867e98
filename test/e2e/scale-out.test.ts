import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/adapters/logger.ts';
import { startApp, type RunningApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { DEFAULT_LIMITS } from '../../src/emulator/rate-limit.ts';
import type { PrismaClient } from '../../src/generated/prisma/client.ts';
import { enqueueNotice, SEND_NOTICE_JOB } from '../../src/usecases/notices.ts';
import { ensureReviewTasks, queueReviewTask, taskJobId } from '../../src/usecases/review/tasks.ts';
import { startTestEmulator, type Person } from '../support/conversation.ts';
import { freePort, type Harness, startHarness } from '../support/harness.ts';
import { seedCampaign, seedContact } from '../support/fixtures.ts';
import { seedSubmitted } from '../support/review-fixtures.ts';
import { postUpdate, textUpdate } from '../support/webhook.ts';

// One installation scaled out: 3 worker processes and 2 webhook bot processes (in-process instances of
// the real app, each with its own connections) against one Redis and one PostgreSQL, Telegram's limits on
// in the emulator. Every notice is sent exactly once whichever worker takes it (also when its job is
// queued again after its finished record was dropped), updates of one chat are answered in order
// whichever bot process receives them, and a restarted worker does not re-run review tasks already done.

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let h: Harness;
let botB: RunningApp;
let urlA: string;
let urlB: string;
const workers: RunningApp[] = [];
const db = () => h.app.db as unknown as PrismaClient;

const startWorker = () =>
  startApp({
    // PORT 0: a worker serves only /healthz and /metrics, on a port of its own.
    config: loadConfig({ ...h.env, PORT: '0' }),
    role: 'worker',
    apiRoot: h.emu.apiRoot,
    logger: createLogger({ level: 'warn' }),
    queuePrefix: h.app.queues.prefix,
  });

/** Jobs of `name` the worker processed (its own metrics), by outcome. */
function processed(w: RunningApp, job: string): number {
  let sum = 0;
  for (const queue of ['review', 'reminders', 'notifications'])
    for (const outcome of [
      'sent',
      'sent_sms',
      'recorded',
      'duplicate',
      'stale',
      'skipped',
      'unreachable',
      'uncertain',
    ])
      sum += w.metrics.get('warmth_jobs_total', { queue, job, outcome });
  return sum;
}

beforeAll(async () => {
  h = await startHarness({
    emulator: await startTestEmulator({ limits: { ...DEFAULT_LIMITS }, timeoutMs: 60_000 }),
    mode: 'webhook',
    role: 'bot',
  });
  urlA = h.env['WEBHOOK_URL']!;
  const portB = await freePort();
  urlB = `http://127.0.0.1:${portB}/telegram/hook`;
  botB = await startApp({
    config: loadConfig({ ...h.env, PORT: String(portB), WEBHOOK_URL: urlB }),
    role: 'bot',
    apiRoot: h.emu.apiRoot,
    logger: createLogger({ level: 'warn' }),
    queuePrefix: h.app.queues.prefix,
  });
  for (let i = 0; i < 3; i++) workers.push(await startWorker());
}, 60_000);
afterAll(async () => {
  for (const w of workers) await w.stop();
  await botB?.stop();
  await h?.emu.close();
  await h?.stop();
});

describe('3 workers and 2 webhook bots on one Redis and one PostgreSQL', () => {
  it('uses the installation prefix as a Redis Cluster hash tag for every key', async () => {
    expect(h.app.queues.prefix).toMatch(/^\{test-[0-9a-f]{8}\}$/);
    const keys = await h.app.redis.keys(`*${h.app.queues.prefix.slice(1, -1)}*`);
    expect(keys.length).toBeGreaterThan(0);
    // Queues, send slots, chat order, sessions: all start with {prefix}, so all share one hash slot.
    expect(keys.filter((k) => !k.startsWith(`${h.app.queues.prefix}:`))).toEqual([]);
  });

  it('every notice is sent exactly once, by whichever worker takes it, also when queued again', async () => {
    const people = Array.from({ length: 12 }, (_, i) =>
      h.emu.user(883_000 + i, { firstName: `分${i}`, languageCode: 'zh-hans' }),
    );
    const ids: number[] = [];
    for (const u of people) {
      await u.handle.register();
      const p = await db().person.create({
        data: { telegramId: BigInt(u.id), displayName: `分${u.id}`, telegramLanguage: 'zh-hans' },
      });
      ids.push(p.id);
    }
    const requests = ids.flatMap((personId, i) =>
      [1, 2, 3].map((k) => ({
        uniqueKey: `scale-out-${personId}-${k}`,
        kind: 'decision' as const,
        personId,
        template: 'admin.granted',
        params: { id: `${i}-${k}`, role: '@roles.reviewer' },
      })),
    );
    // Each notice requested twice at once, from two processes (a retried request, two bots).
    for (const r of requests)
      await Promise.all([enqueueNotice(h.app.db, h.app.queues, r), enqueueNotice(botB.db, botB.queues, r)]);
    const keys = requests.map((r) => r.uniqueKey);
    const allSent = async () =>
      (await db().notice.count({ where: { uniqueKey: { in: keys }, status: 'sent' } })) === keys.length;
    for (let i = 0; !(await allSent()); i++) {
      expect(i, 'all notices sent within 60 s').toBeLessThan(600);
      await sleep(100);
    }
    // The same jobs queued again after their finished records were dropped (retention): the Notice row
    // claimed in PostgreSQL keeps them from sending twice.
    const q = h.app.queues.get('notifications');
    await q.clean(0, 10_000, 'completed');
    const rows = await db().notice.findMany({ where: { uniqueKey: { in: keys } }, select: { id: true } });
    for (const r of rows) expect(await q.getJob(`notice-${r.id}`)).toBeUndefined();
    await q.addBulk(
      rows.map((r) => ({
        name: SEND_NOTICE_JOB,
        data: { noticeId: r.id },
        opts: { jobId: `notice-${r.id}` },
      })),
    );
    for (let i = 0; (await q.getJobCounts('waiting', 'active', 'delayed')).waiting! > 0; i++) {
      expect(i).toBeLessThan(300);
      await sleep(100);
    }
    await sleep(500);
    for (const [i, u] of people.entries()) {
      const texts = (await u.messages()).map((m: { text?: string }) => m.text ?? '');
      expect(texts.filter((t) => t.includes(`${i}-1`))).toHaveLength(1);
      expect(texts.filter((t) => t.includes(`${i}-2`))).toHaveLength(1);
      expect(texts.filter((t) => t.includes(`${i}-3`))).toHaveLength(1);
      expect(texts).toHaveLength(3);
    }
    const attempts = await db().noticeAttempt.findMany({
      where: { notice: { uniqueKey: { in: keys } } },
      select: { outcome: true },
    });
    expect(attempts.map((a) => a.outcome)).toEqual(keys.map(() => 'sent'));
    // The load was shared: more than one worker process sent notices.
    const perWorker = workers.map((w) => processed(w, SEND_NOTICE_JOB));
    expect(perWorker.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(keys.length);
    expect(perWorker.filter((n) => n > 0).length).toBeGreaterThanOrEqual(2);
  });

  it('updates of one chat, spread over both bot processes, are answered in order (several chats at once)', async () => {
    const post = (url: string, chatId: number, text: string) =>
      postUpdate(url, h.env['WEBHOOK_SECRET']!, textUpdate(chatId, '顺序', text));
    const chats: Person[] = Array.from({ length: 3 }, (_, i) =>
      h.emu.user(884_000 + i, { firstName: '顺序', languageCode: 'zh-hans' }),
    );
    for (const u of chats) await u.handle.register();
    const posts: Promise<Response>[] = [];
    for (let i = 1; i <= 6; i++) {
      for (const [c, u] of chats.entries()) posts.push(post((i + c) % 2 ? urlA : urlB, u.id, `/o${i}`));
      await sleep(10); // a load balancer passing on the updates in the order Telegram sent them
    }
    for (const r of await Promise.all(posts)) expect(r.status).toBe(200);
    for (const u of chats) {
      for (let i = 0; (await u.messages()).length < 6; i++) {
        expect(i).toBeLessThan(300);
        await sleep(100);
      }
      const texts = (await u.messages()).map((m: { text?: string }) => m.text ?? '');
      expect(texts.map((t) => /没有 \/(o\d) /.exec(t)?.[1])).toEqual(
        Array.from({ length: 6 }, (_, i) => `o${i + 1}`),
      );
    }
  });

  it('a worker restart does not re-run a review task already done, though its finished job is gone', async () => {
    const c = await seedCampaign(db(), {
      categories: [
        { code: 'f', kind: 'frontline_worker', nameZh: '一线职工', amountYuan: 150, forms: ['in_kind'] },
      ],
    });
    const { person, union } = await seedContact(db(), 885_001, '横向扩展工会');
    const n = await seedSubmitted(db(), h.app.cipher, {
      campaignId: c.id,
      categoryId: c.categories[0]!.id,
      unionId: union.id,
      submittedById: person.id,
      amountFen: 15_000,
    });
    const review = h.app.queues.get('review');
    await queueReviewTask(h.app.queues, { nominationId: n.id, revision: 1 });
    for (let i = 0; (await review.getJobState(taskJobId(n.id, 1))) !== 'completed'; i++) {
      expect(i).toBeLessThan(300);
      await sleep(100);
    }
    expect(workers.reduce((a, w) => a + processed(w, 'review-task'), 0)).toBeGreaterThanOrEqual(1);
    await review.clean(0, 10_000, 'completed');
    expect(await review.getJob(taskJobId(n.id, 1))).toBeUndefined();
    const others = [1, 2].map((i) => processed(workers[i]!, 'review-task'));

    // Restart one worker and wait for its start-up sweep: the task is recorded (the campaign's review
    // hash), so nothing is queued and no worker runs it again.
    await workers[0]!.stop();
    workers[0] = await startWorker();
    await workers[0].startup;
    await sleep(500);
    expect(await review.getJob(taskJobId(n.id, 1))).toBeUndefined();
    expect(processed(workers[0], 'review-task')).toBe(0);
    expect([1, 2].map((i) => processed(workers[i]!, 'review-task'))).toEqual(others);
    expect(await ensureReviewTasks(h.app.db, h.app.queues, c.id)).toBe(0);
  });
});
