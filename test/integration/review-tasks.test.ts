import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FieldCipher } from '../../src/adapters/crypto/field-cipher.ts';
import type { Db } from '../../src/adapters/db/client.ts';
import { Queues } from '../../src/adapters/queue/queues.ts';
import { decideNomination } from '../../src/usecases/review/decide-nomination.ts';
import { nextForReview, releaseLease, reviewCard } from '../../src/usecases/review/queries.ts';
import {
  checkReviewSla,
  digestJobId,
  ensureReviewTasks,
  queueReviewTask,
  recordReviewTask,
  sendReviewDigest,
  taskJobId,
} from '../../src/usecases/review/tasks.ts';
import { digestWindow } from '../../src/domain/review/rules.ts';
import type { PrismaClient } from '../../src/generated/prisma/client.ts';
import { createPrisma, createTestDatabase, type TestDatabase } from '../support/db.ts';
import { seedCampaign, seedContact } from '../support/fixtures.ts';
import { REDIS_URL } from '../support/harness.ts';
import { grantStaff, seedSubmitted } from '../support/review-fixtures.ts';

// Review jobs are delivered at least once: a worker killed mid-task (the job runs again after the stall
// interval) or a duplicated job must not create a second task or a second notification. The handlers
// are run twice here, directly, against real PostgreSQL and Redis (no worker: nothing else consumes).

let tdb: TestDatabase;
let prisma: PrismaClient;
let queues: Queues;
const cipher = new FieldCipher([{ version: 1, key: randomBytes(32) }]);
let now = new Date('2026-01-10T02:00:00Z');
const deps = () => ({ db: prisma as unknown as Db, queues, now: () => now });
let campaign: { id: number; categoryId: number };
let contactId: number;
let unionId: number;

beforeAll(async () => {
  tdb = await createTestDatabase();
  prisma = createPrisma(tdb.url);
  queues = new Queues(REDIS_URL, `test-rv-${randomBytes(4).toString('hex')}`);
  const c = await seedCampaign(prisma, {
    categories: [
      { code: 'f', kind: 'frontline_worker', nameZh: '一线职工', amountYuan: 150, forms: ['in_kind'] },
    ],
  });
  await prisma.campaign.update({
    where: { id: c.id },
    data: { settings: { reviewDigestMinutes: 10, reviewSlaHours: 1 } },
  });
  campaign = { id: c.id, categoryId: c.categories[0]!.id };
  const { person, union } = await seedContact(prisma, 7001, '县环卫工会');
  contactId = person.id;
  unionId = union.id;
  await grantStaff(prisma, 7101, 'reviewer', '审核甲');
  await grantStaff(prisma, 7102, 'reviewer', '审核乙');
});
afterAll(async () => {
  await queues?.close();
  await prisma?.$disconnect();
  await tdb?.drop();
});

const seed = (flags: string[] = []) =>
  seedSubmitted(prisma, cipher, {
    campaignId: campaign.id,
    categoryId: campaign.categoryId,
    unionId,
    submittedById: contactId,
    amountFen: 15_000,
    submittedAt: now,
    flags,
  });

describe('review tasks under repeated delivery', () => {
  it('one task per revision however often it is queued or run; one digest notice per reviewer', async () => {
    const n = await seed();
    const m = await seed(['shared_phone']);
    for (let i = 0; i < 3; i++) await queueReviewTask(queues, { nominationId: n.id, revision: 1 });
    await ensureReviewTasks(prisma as unknown as Db, queues, campaign.id);
    const review = queues.get('review');
    const waiting = await review.getJobs(['waiting', 'delayed']);
    expect(
      waiting
        .filter((j) => j.name === 'review-task')
        .map((j) => j.id)
        .sort(),
    ).toEqual([taskJobId(n.id, 1), taskJobId(m.id, 1)].sort());

    // The worker dies after the handler did its work and the job runs again: nothing new is recorded.
    expect(await recordReviewTask(deps(), { nominationId: n.id, revision: 1 })).toBe('recorded');
    expect(await recordReviewTask(deps(), { nominationId: n.id, revision: 1 })).toBe('duplicate');
    expect(await recordReviewTask(deps(), { nominationId: m.id, revision: 1 })).toBe('recorded');
    const window = digestWindow(now, 10);
    expect(await review.getJob(digestJobId('new', campaign.id, window))).toBeTruthy();

    now = new Date(now.getTime() + 10 * 60_000);
    const first = await sendReviewDigest(
      { ...deps(), localeOf: () => 'zh-CN' },
      { campaignId: campaign.id, kind: 'new', window },
    );
    expect(first).toEqual({ outcome: 'sent', items: 2, recipients: 2 });
    const notices = await prisma.notice.findMany({ where: { uniqueKey: { startsWith: 'rvdigest-new-' } } });
    expect(notices).toHaveLength(2);
    expect(notices[0]!.params).toMatchObject({ values: { n: 2, flagged: 1 } });
    const sendJobs = async () =>
      (await queues.get('notifications').getJobs(['waiting', 'delayed', 'active'])).filter((j) =>
        notices.some((x) => j.id === `notice-${x.id}`),
      ).length;
    expect(await sendJobs()).toBe(2);

    // A digest job killed after its notices but before clearing its members runs again: same keys, no new notice.
    await queues.redis.zadd(
      `${queues.prefix}:rvdigest:new:${campaign.id}`,
      String(now.getTime() - 60_000),
      `${n.id}-1`,
    );
    const again = await sendReviewDigest(
      { ...deps(), localeOf: () => 'zh-CN' },
      { campaignId: campaign.id, kind: 'new', window },
    );
    expect(again.outcome).toBe('sent');
    expect(await prisma.notice.count({ where: { uniqueKey: { startsWith: 'rvdigest-new-' } } })).toBe(2);
    expect(await sendJobs()).toBe(2);
    // A late re-run of the task after the digest went out does not put it in the next digest.
    expect(await recordReviewTask(deps(), { nominationId: n.id, revision: 1 })).toBe('duplicate');
    expect(await queues.redis.zcard(`${queues.prefix}:rvdigest:new:${campaign.id}`)).toBe(0);
  });

  it('SLA check run twice in one period escalates once; a decided nomination is skipped', async () => {
    const n = await seed();
    now = new Date(n.submittedAt!.getTime() + 30 * 60_000);
    expect(await checkReviewSla(deps(), { nominationId: n.id, revision: 1, period: 1 })).toMatchObject({
      outcome: 'deferred',
    });
    now = new Date(n.submittedAt!.getTime() + 61 * 60_000);
    expect(await checkReviewSla(deps(), { nominationId: n.id, revision: 1, period: 1 })).toEqual({
      outcome: 'escalated',
    });
    expect(await checkReviewSla(deps(), { nominationId: n.id, revision: 1, period: 1 })).toEqual({
      outcome: 'duplicate',
    });
    expect(await queues.get('reminders').getJob(`rvsla-${n.id}-r1-p2`)).toBeTruthy();
    await prisma.nomination.update({ where: { id: n.id }, data: { status: 'approved' } });
    now = new Date(n.submittedAt!.getTime() + 121 * 60_000);
    expect(await checkReviewSla(deps(), { nominationId: n.id, revision: 1, period: 2 })).toMatchObject({
      outcome: 'skipped',
    });
  });

  it('concurrent decisions on one nomination: exactly one wins, in the database', async () => {
    const n = await seed();
    const reviewers = await prisma.person.findMany({ where: { telegramId: { in: [7101n, 7102n] } } });
    const rd = { ...deps(), cipher };
    const results = await Promise.all(
      reviewers.flatMap((r) =>
        [0, 1, 2].map(() =>
          decideNomination(rd, {
            reviewerId: r.id,
            nominationId: n.id,
            revision: 1,
            version: 1,
            action: 'approve',
          }),
        ),
      ),
    );
    expect(results.filter((r) => r.outcome === 'decided')).toHaveLength(1);
    expect(results.filter((r) => r.outcome === 'taken')).toHaveLength(5);
    expect(await prisma.reviewDecision.count({ where: { nominationId: n.id } })).toBe(1);
    expect(await prisma.notice.count({ where: { nominationId: n.id } })).toBe(1);
    expect(await prisma.auditLog.count({ where: { entityId: String(n.id), action: 'review.approve' } })).toBe(
      1,
    );
  });
});

describe('next card: leases', () => {
  it('two reviewers get different cards; a reviewer keeps their own; a decided one is passed over', async () => {
    const c = await seedCampaign(prisma, {
      code: 'rv-lease',
      categories: [
        { code: 'f', kind: 'frontline_worker', nameZh: '一线职工', amountYuan: 150, forms: ['in_kind'] },
      ],
    });
    const [n1, n2, n3] = await Promise.all(
      [0, 1, 2].map((i) =>
        seedSubmitted(prisma, cipher, {
          campaignId: c.id,
          categoryId: c.categories[0]!.id,
          unionId,
          submittedById: contactId,
          amountFen: 15_000,
          submittedAt: new Date(now.getTime() + i),
        }),
      ),
    );
    const ids = [n1!.id, n2!.id, n3!.id].sort((a, b) => a - b);
    const [a, b] = await Promise.all(
      [7101n, 7102n].map((t) => prisma.person.findUniqueOrThrow({ where: { telegramId: t } })),
    );
    const leases = { db: prisma as unknown as Db, redis: queues.redis, prefix: queues.prefix };
    const next = (reviewerId: number) => nextForReview(leases, { reviewerId, filter: { campaignId: c.id } });
    expect((await next(a!.id))?.id).toBe(ids[0]);
    expect((await next(b!.id))?.id).toBe(ids[1]); // the first is A's
    expect((await next(a!.id))?.id).toBe(ids[0]); // A's own lease
    // Decided (its lease not yet released): not pending any more, so the re-check passes it over.
    await prisma.nomination.update({ where: { id: ids[0]! }, data: { status: 'approved' } });
    const row = await next(a!.id);
    expect(row?.id).toBe(ids[2]);
    // The card drawn from the row nextForReview read is the card read on its own.
    const rd = { ...deps(), cipher };
    expect(await reviewCard(rd, row!.id, row!)).toEqual(await reviewCard(rd, row!.id));
    // Nothing else free for B: its own lease again, and nothing once that one is released and decided.
    expect((await next(b!.id))?.id).toBe(ids[1]);
    await prisma.nomination.update({ where: { id: ids[1]! }, data: { status: 'approved' } });
    await releaseLease(leases, ids[1]!);
    expect(await next(b!.id)).toBeNull();
  });
});

describe('review-task sweep at worker start', () => {
  it('queues only the tasks that are neither queued nor recorded, and nothing the second time', async () => {
    await ensureReviewTasks(prisma as unknown as Db, queues, campaign.id); // whatever earlier tests left
    const queued = await seed();
    const recorded = await seed();
    const missing = await seed();
    await queueReviewTask(queues, { nominationId: queued.id, revision: 1 });
    // Recorded by a worker whose completed job is gone since (removed by age/count).
    expect(await recordReviewTask(deps(), { nominationId: recorded.id, revision: 1 })).toBe('recorded');
    const review = queues.get('review');
    expect(await review.getJob(taskJobId(recorded.id, 1))).toBeUndefined();

    expect(await ensureReviewTasks(prisma as unknown as Db, queues, campaign.id)).toBe(1);
    expect(await review.getJob(taskJobId(missing.id, 1))).toBeTruthy();
    expect(await review.getJob(taskJobId(recorded.id, 1))).toBeUndefined();
    expect(await ensureReviewTasks(prisma as unknown as Db, queues, campaign.id)).toBe(0);
  });
});
