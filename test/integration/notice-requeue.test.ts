import { randomBytes } from 'node:crypto';
import { UnrecoverableError, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queues, workerConnection } from '../../src/adapters/queue/queues.ts';
import type { PrismaClient } from '../../src/generated/prisma/client.ts';
import { enqueueNotice, requeueQueuedNotices } from '../../src/usecases/notices.ts';
import { createPrisma, createTestDatabase, type TestDatabase } from '../support/db.ts';
import { REDIS_URL } from '../support/harness.ts';

// Worker start re-queues notices from PostgreSQL: one job per notice still queued (none for a notice
// whose job is already there), and a job that used up its attempts while its notice is unsent (Telegram
// unreachable for longer than the backoff) is retried; sent notices are left alone.

let tdb: TestDatabase;
let db: PrismaClient;
let queues: Queues;
beforeAll(async () => {
  tdb = await createTestDatabase();
  db = createPrisma(tdb.url);
  queues = new Queues(REDIS_URL, `test-requeue-${randomBytes(4).toString('hex')}`);
});
afterAll(async () => {
  await queues.get('notifications').obliterate({ force: true });
  await queues.close();
  await db.$disconnect();
  await tdb.drop();
});

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
    const failing = new Worker(
      'notifications',
      async (job) => {
        if (job.id === `notice-${exhausted.id}`) throw new UnrecoverableError('telegram unreachable');
        await job.moveToDelayed(Date.now() + 60_000, job.token);
        const { DelayedError } = await import('bullmq');
        throw new DelayedError();
      },
      { connection: workerConnection(REDIS_URL), prefix: queues.prefix },
    );
    for (let i = 0; i < 100 && (await q.getJobState(`notice-${exhausted.id}`)) !== 'failed'; i++)
      await new Promise((r) => setTimeout(r, 100));
    await failing.close();
    expect(await q.getJobState(`notice-${exhausted.id}`)).toBe('failed');
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
    expect(r).toEqual({ queued: 3, retried: 1 });
    expect(await q.getJobState(`notice-${missing.id}`)).toBe('waiting');
    expect(await q.getJobState(`notice-${exhausted.id}`)).toBe('waiting');
    expect(await q.getJobState(`notice-${present.id}`)).toMatch(/waiting|delayed/);
    expect(await q.getJobState(`notice-${sent.id}`)).toBe('unknown');
    // A second pass adds and retries nothing.
    const before = await q.getJobCounts('waiting', 'delayed', 'failed');
    expect(await requeueQueuedNotices(db, queues)).toEqual({ queued: 3, retried: 0 });
    expect(await q.getJobCounts('waiting', 'delayed', 'failed')).toEqual(before);
  });
});
