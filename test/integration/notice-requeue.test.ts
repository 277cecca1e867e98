import { randomBytes } from 'node:crypto';
import { DelayedError, UnrecoverableError, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queues, workerConnection } from '../../src/adapters/queue/queues.ts';
import { REQUEUE_AFTER_MS, sweepNoticesJob } from '../../src/jobs/sweep-notices.ts';
import { enqueueNotice, requeueQueuedNotices } from '../../src/usecases/notices.ts';
import { bulkApprove } from '../../src/usecases/review/bulk-approve.ts';
import { FieldCipher } from '../../src/adapters/crypto/field-cipher.ts';
import { seedCampaign, seedContact } from '../support/fixtures.ts';
import { grantStaff, seedSubmitted } from '../support/review-fixtures.ts';
import { useTestDatabase } from '../support/test-db.ts';
import { REDIS_URL } from '../support/harness.ts';

// Worker start re-queues notices from PostgreSQL: one job per notice still queued (none for a notice
// whose job is already there), and a job that used up its attempts while its notice is unsent (Telegram
// unreachable for longer than the backoff) is retried; sent notices are left alone.

const { db } = useTestDatabase();
let queues: Queues;
beforeAll(async () => {
  queues = new Queues(REDIS_URL, `test-requeue-${randomBytes(4).toString('hex')}`);
});
afterAll(async () => {
  await queues.get('notifications').obliterate({ force: true });
  await queues.close();
});

/**
 * Runs a worker until notice `id`'s job has failed for good (as when Telegram stays unreachable); every
 * other job it meets is put back, delayed.
 */
async function giveUp(id: number) {
  const q = queues.get('notifications');
  const failing = new Worker(
    'notifications',
    async (job) => {
      if (job.id === `notice-${id}`) throw new UnrecoverableError('telegram unreachable');
      await job.moveToDelayed(Date.now() + 60_000, job.token);
      throw new DelayedError();
    },
    { connection: workerConnection(REDIS_URL), prefix: queues.prefix },
  );
  for (let i = 0; i < 100 && (await q.getJobState(`notice-${id}`)) !== 'failed'; i++)
    await new Promise((r) => setTimeout(r, 100));
  await failing.close();
  expect(await q.getJobState(`notice-${id}`)).toBe('failed');
}

describe('re-queueing notices at worker start', () => {
  it('queues the missing, keeps the present, retries the exhausted, skips the sent', async () => {
    const person = await db.person.create({ data: { telegramId: 9_301n, displayName: 'r' } });
    const req = (k: string) => ({
      uniqueKey: `requeue-${k}`,
      kind: 'decision' as const,
      personId: person.id,
      template: 'dialog.cancelled',
    });
    const present = await enqueueNotice(db, queues, req('present'));
    const exhausted = await enqueueNotice(db, queues, req('exhausted'));
    const q = queues.get('notifications');
    // The exhausted one: its job fails every attempt (as when Telegram stays unreachable).
    await giveUp(exhausted.id);
    // The missing one: a row without a job (Redis lost it); the sent one: done before.
    const missing = await db.notice.create({
      data: {
        uniqueKey: 'requeue-missing',
        kind: 'decision',
        personId: person.id,
        template: 'dialog.cancelled',
      },
    });
    const sent = await db.notice.create({
      data: {
        uniqueKey: 'requeue-sent',
        kind: 'decision',
        personId: person.id,
        template: 'dialog.cancelled',
        status: 'sent',
      },
    });

    const r = await requeueQueuedNotices(db, queues);
    expect(r).toEqual({ queued: 3, retried: 1, missing: 1 });
    expect(await q.getJobState(`notice-${missing.id}`)).toBe('waiting');
    expect(await q.getJobState(`notice-${exhausted.id}`)).toBe('waiting');
    expect(await q.getJobState(`notice-${present.id}`)).toMatch(/waiting|delayed/);
    expect(await q.getJobState(`notice-${sent.id}`)).toBe('unknown');
    // A second pass adds and retries nothing.
    const before = await q.getJobCounts('waiting', 'delayed', 'failed');
    expect(await requeueQueuedNotices(db, queues)).toEqual({ queued: 3, retried: 0, missing: 0 });
    expect(await q.getJobCounts('waiting', 'delayed', 'failed')).toEqual(before);
  });

  it('the minute sweep gives a job to a notice left without one for minutes, not to a fresh one, and retries nothing', async () => {
    // As when the bot died between a decision's commit (the notice row) and queueing the notice's job.
    const person = await db.person.create({ data: { telegramId: 9_302n, displayName: 's' } });
    const row = (k: string, minutesAgo: number) =>
      db.$queryRaw<{ id: number }[]>`
        INSERT INTO notice (unique_key, kind, person_id, template, created_at)
        VALUES (${`sweep-${k}`}, 'decision', ${person.id}, 'dialog.cancelled',
                LOCALTIMESTAMP - make_interval(mins => ${minutesAgo}::int))
        RETURNING id`.then((r) => r[0]!.id);
    const orphan = await row('orphan', 10);
    const fresh = await row('fresh', 0);
    // A job that gave up (Telegram unreachable for longer than its backoff), its notice minutes old.
    const gaveUp = await enqueueNotice(db, queues, {
      uniqueKey: 'sweep-gave-up',
      kind: 'decision',
      personId: person.id,
      template: 'dialog.cancelled',
    });
    await db.$executeRaw`UPDATE notice SET created_at = created_at - interval '10 minutes' WHERE id = ${gaveUp.id}`;
    await giveUp(gaveUp.id);
    const q = queues.get('notifications');
    const warnings: unknown[] = [];
    const logger = { warn: (o: unknown) => warnings.push(o) } as never;
    await sweepNoticesJob.handle(
      { db: db as never, queues, logger, now: () => new Date() },
      {},
      {} as never,
      {
        worker: {} as never,
      },
    );
    expect(await q.getJobState(`notice-${orphan}`)).toBe('waiting');
    expect(await q.getJobState(`notice-${fresh}`)).toBe('unknown');
    expect(REQUEUE_AFTER_MS).toBeGreaterThanOrEqual(60_000);
    // The job that gave up stays failed until the next worker start (or the sweep would retry it every
    // minute for as long as Telegram stays away).
    expect(await q.getJobState(`notice-${gaveUp.id}`)).toBe('failed');
    expect(warnings).toEqual([expect.objectContaining({ requeued: 1 })]);
  });

  it("a bulk approval's notices commit with its decisions: Redis gone after the commit, the rows wait for the sweep", async () => {
    const cipher = new FieldCipher([{ version: 1, key: randomBytes(32) }]);
    const c = await seedCampaign(db, {
      code: 'requeue-bulk',
      categories: [
        { code: 'front', kind: 'frontline_worker', nameZh: '一线职工', amountYuan: 150, forms: ['in_kind'] },
      ],
    });
    const { union, person } = await seedContact(db, 9_303, '批量通知工会');
    const reviewer = await grantStaff(db, 9_304, 'reviewer', '批量审核');
    const ns = [];
    for (let i = 0; i < 3; i++)
      ns.push(
        await seedSubmitted(db, cipher, {
          campaignId: c.id,
          categoryId: c.categories[0]!.id,
          unionId: union.id,
          submittedById: person.id,
          amountFen: 15_000,
        }),
      );
    // Redis goes away after the transaction: its connection is closed before the jobs are queued.
    const gone = new Queues(REDIS_URL, `test-gone-${randomBytes(4).toString('hex')}`);
    await gone.get('notifications').waitUntilReady();
    gone.redis.disconnect();
    try {
      await expect(
        bulkApprove(
          { db: db as never, cipher, queues: gone, now: () => new Date() },
          {
            reviewerId: reviewer.id,
            filter: { campaignId: c.id },
            expectCount: 3,
            maxId: ns.at(-1)!.id,
          },
        ),
      ).rejects.toThrow();
    } finally {
      await gone.close().catch(() => {});
    }
    const ids = ns.map((n) => n.id);
    expect(await db.nomination.count({ where: { id: { in: ids }, status: 'approved' } })).toBe(3);
    const notices = await db.notice.findMany({
      where: { nominationId: { in: ids } },
      orderBy: { id: 'asc' },
    });
    expect(notices.map((n) => [n.status, n.template])).toEqual(
      ids.map(() => ['queued', 'review.notice_approved']),
    );
    // Minutes later the sweep gives them their jobs.
    await db.$executeRaw`UPDATE notice SET created_at = created_at - interval '10 minutes' WHERE nomination_id = ANY(${ids}::int[])`;
    const r = await requeueQueuedNotices(db, queues, { olderThanMs: 120_000, retryFailed: false });
    expect(r.missing).toBe(3);
    for (const n of notices)
      expect(await queues.get('notifications').getJobState(`notice-${n.id}`)).toBe('waiting');
  });
});
