import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queues } from '../../src/adapters/queue/queues.ts';
import { collectHealth, healthProblems } from '../../src/usecases/health.ts';
import { useTestDatabase } from '../support/test-db.ts';
import { REDIS_URL } from '../support/harness.ts';
import * as fx from '../support/reminder-fixtures.ts';

// The health figures behind /metrics and the operator's check: counted from PostgreSQL and the queues.

const { db } = useTestDatabase();
let queues: Queues;
beforeAll(async () => {
  queues = new Queues(REDIS_URL, `test-health-${randomBytes(4).toString('hex')}`);
});
afterAll(async () => {
  for (const q of Object.values(queues.byName)) await q.obliterate({ force: true });
  await queues.close();
});

describe('health figures', () => {
  it('count the review backlog and SLA breaches per campaign SLA, late reminders, notices and queue age', async () => {
    const now = fx.sh('2026-03-10 10:00');
    const hoursAgo = (h: number) => new Date(now.getTime() - h * 3_600_000);
    const fed = await fx.federation(db);
    const unionId = await fx.union(db, fed, '县医院工会');
    const contact = await fx.person(db, 9401, 'contact', { unionId });
    const t = {
      opens: fx.sh('2026-02-24 09:00'),
      closes: fx.sh('2026-03-20 17:00'),
      review: fx.sh('2026-03-25 17:00'),
      payment: '2026-03-31',
    };
    const a = await fx.campaign(db, fed, { ...t, code: 'h-a' }); // default SLA 48 h
    const b = await fx.campaign(db, fed, { ...t, code: 'h-b', settings: { review_sla_hours: 12 } });
    const nominate = async (campaignId: number, status: 'submitted' | 'approved', submittedAt: Date) => {
      const id = await fx.nomination(db, { campaignId, unionId, submittedById: contact, status });
      await db.nomination.update({ where: { id }, data: { submittedAt } });
    };
    await nominate(a, 'submitted', hoursAgo(50)); // breach (48 h)
    await nominate(a, 'submitted', hoursAgo(20)); // within
    await nominate(b, 'submitted', hoursAgo(20)); // breach (12 h)
    await nominate(b, 'approved', hoursAgo(100)); // decided: not in the backlog
    await db.reminder.createMany({
      data: [
        {
          key: 'h-late',
          kind: 'close',
          campaignId: a,
          personId: contact,
          dueAt: new Date(now.getTime() - 10 * 60_000),
        },
        {
          key: 'h-soon',
          kind: 'close',
          campaignId: a,
          personId: contact,
          dueAt: new Date(now.getTime() - 60_000),
        },
        {
          key: 'h-sent',
          kind: 'close',
          campaignId: a,
          personId: contact,
          dueAt: hoursAgo(5),
          status: 'sent',
        },
      ],
    });
    await db.notice.createMany({
      data: [
        { uniqueKey: 'h-1', kind: 'decision', personId: contact, template: 'x', createdAt: hoursAgo(1) },
        { uniqueKey: 'h-2', kind: 'decision', personId: contact, template: 'x', status: 'sent' },
        { uniqueKey: 'h-3', kind: 'decision', personId: contact, template: 'x', status: 'unreachable' },
      ],
    });
    await queues.get('review').add('x', {}, { jobId: 'h-job' });

    const h = await collectHealth(db, queues, now);
    expect(h.review).toEqual({ backlog: 3, slaBreaches: 2 });
    expect(h.reminders).toEqual({ scheduled: 2, late: 1 });
    expect(h.notices.byStatus).toEqual({ queued: 1, sending: 0, sent: 1, failed: 0, unreachable: 1 });
    expect(h.notices.oldestQueuedSeconds).toBe(3600);
    expect(h.queues.review.waiting).toBe(1);
    expect(h.queues.notifications).toEqual({
      waiting: 0,
      active: 0,
      delayed: 0,
      failed: 0,
      oldestWaitingSeconds: 0,
    });
    expect(healthProblems(h).map((p) => p.kind)).toEqual([
      'notices_waiting',
      'reminders_late',
      'review_sla_breaches',
    ]);
    // The job was added just now (real time); `now` is the app's clock.
    const later = await collectHealth(db, queues, new Date(Date.now() + 90_000));
    expect(later.queues.review.oldestWaitingSeconds).toBeGreaterThanOrEqual(89);
  });
});
