import { randomBytes } from 'node:crypto';
import type { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/adapters/db/client.ts';
import { Metrics } from '../../src/adapters/http/metrics.ts';
import { I18n } from '../../src/adapters/i18n.ts';
import { createLogger } from '../../src/adapters/logger.ts';
import { Queues } from '../../src/adapters/queue/queues.ts';
import { startWorkers } from '../../src/adapters/queue/workers.ts';
import type { PrismaClient } from '../../src/generated/prisma/client.ts';
import { reviewTaskJob } from '../../src/jobs/review-task.ts';
import { ensureReviewTasks } from '../../src/usecases/review/tasks.ts';
import { createPrisma, createTestDatabase, type TestDatabase } from '../support/db.ts';
import { REDIS_URL } from '../support/harness.ts';
import * as fx from '../support/reminder-fixtures.ts';
import { seedScale } from '../support/scale-seed.ts';

// Redis memory grows with a campaign only by what a pending nomination needs while it waits (its SLA
// check, its field in the campaign's review hash, its place in the digest set): no finished job and no
// marker key is kept per nomination. 2,000 pending nominations through the start-up sweep and a real
// worker, then every key under the installation's prefix is counted and sized (MEMORY USAGE).

const N = 2_000;
let tdb: TestDatabase;
let prisma: PrismaClient;
let queues: Queues;
let workers: Worker[] = [];

beforeAll(async () => {
  tdb = await createTestDatabase();
  prisma = createPrisma(tdb.url);
  queues = new Queues(REDIS_URL, `test-mem-${randomBytes(4).toString('hex')}`);
});
afterAll(async () => {
  await Promise.all(workers.map((w) => w.close()));
  let cursor = '0';
  do {
    const [next, keys] = await queues.redis.scan(cursor, 'MATCH', `${queues.prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await queues.redis.unlink(...keys);
  } while (cursor !== '0');
  await queues?.close();
  await prisma?.$disconnect();
  await tdb?.drop();
});

async function keysUnderPrefix() {
  const out: { key: string; bytes: number }[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await queues.redis.scan(cursor, 'MATCH', `${queues.prefix}*`, 'COUNT', 1000);
    cursor = next;
    const pipe = queues.redis.pipeline();
    for (const k of keys) pipe.memory('USAGE', k, 'SAMPLES', 0);
    const sizes = (await pipe.exec()) ?? [];
    for (const [i, key] of keys.entries()) out.push({ key, bytes: Number(sizes[i]?.[1] ?? 0) });
  } while (cursor !== '0');
  return out;
}

describe('Redis memory per pending nomination', () => {
  it('is bounded: one delayed SLA check and a hash field each, no finished job or marker kept', async () => {
    const fed = await fx.federation(prisma);
    const union = await fx.union(prisma, fed, '内存测试工会');
    const contact = await fx.person(prisma, 990_001, 'contact', { unionId: union });
    const now = Date.now();
    const campaignId = await fx.campaign(prisma, fed, {
      opens: new Date(now - 5 * 86_400_000),
      closes: new Date(now + 5 * 86_400_000),
      review: new Date(now + 10 * 86_400_000),
      payment: new Date(now + 20 * 86_400_000).toISOString().slice(0, 10),
    });
    await seedScale(prisma, {
      campaignId,
      unionIds: [union],
      submittedById: contact,
      mix: { paid: 0, handedOver: 0, approved: 0, submitted: N, returned: 0, draft: 0 },
      lastPaidAt: new Date(now - 86_400_000),
    });
    const db = prisma as unknown as Db;
    expect(await ensureReviewTasks(db, queues, campaignId)).toBe(N);
    workers = startWorkers({
      redisUrl: REDIS_URL,
      prefix: queues.prefix,
      concurrency: 10,
      jobs: [reviewTaskJob as never],
      deps: {
        db,
        queues,
        now: () => new Date(),
        i18n: new I18n('zh-CN'),
        logger: createLogger({ level: 'silent' }),
      },
      logger: createLogger({ level: 'silent' }),
      metrics: new Metrics(),
    });
    const review = queues.get('review');
    for (let i = 0; ; i++) {
      const c = await review.getJobCounts('waiting', 'active', 'completed');
      if (c['waiting'] === 0 && c['active'] === 0) break;
      expect(i, 'review tasks recorded within 120 s').toBeLessThan(1200);
      await new Promise((r) => setTimeout(r, 100));
    }
    // A worker restart finds every task recorded (the completed jobs beyond the retained 1,000 are gone).
    expect(await ensureReviewTasks(db, queues, campaignId)).toBe(0);

    const keys = await keysUnderPrefix();
    const slaJobs = keys.filter((k) => /:reminders:rvsla-/.test(k.key));
    const reviewJobs = keys.filter((k) => /:review:rvtask-/.test(k.key));
    expect(slaJobs).toHaveLength(N);
    // Finished review tasks: the retained 1,000, not one per nomination.
    expect(reviewJobs.length).toBeLessThanOrEqual(1_000);
    // Everything else is a fixed set of bookkeeping keys (queue lists, streams, the hash, the digest set).
    expect(keys.length - slaJobs.length - reviewJobs.length).toBeLessThan(40);
    const perPending =
      (slaJobs.reduce((a, k) => a + k.bytes, 0) +
        keys.filter((k) => /:rv(seen|digest):/.test(k.key)).reduce((a, k) => a + k.bytes, 0)) /
      N;
    // ≈ 740 B for the SLA check, ≈ 50 B in the hash, ≈ 50 B in the digest set (200,000-row bench).
    expect(perPending).toBeLessThan(1_200);
  });
});
