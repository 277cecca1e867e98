import type { Db } from '../adapters/db/client.ts';
import { QUEUE_NAMES, type QueueName, type Queues } from '../adapters/queue/queues.ts';
import { BACKLOG_STATUSES } from '../domain/reminders/derive.ts';
import { reviewSettingsFrom } from '../domain/review/rules.ts';

// The installation's health in figures, from PostgreSQL and the queues: one place for what /metrics
// exposes (src/app.ts, watchHealth) and what an operator's check (`npm run doctor`) reports in words,
// with the thresholds of ops/alerts.yml. Plain data, no formatting.

/** A scheduled reminder this long past its due time is late (a worker picks one up within seconds). */
export const REMINDER_LATE_AFTER_MS = 5 * 60_000;

export interface QueueHealth {
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  /** Seconds the oldest job ready to run has been waiting (0: none waiting). */
  oldestWaitingSeconds: number;
}

export interface Health {
  at: Date;
  queues: Record<QueueName, QueueHealth>;
  notices: {
    byStatus: Record<'queued' | 'sending' | 'sent' | 'failed' | 'unreachable', number>;
    /** Seconds since the oldest notice still queued was created (0: none). */
    oldestQueuedSeconds: number;
  };
  reminders: {
    scheduled: number;
    /** Scheduled reminders more than REMINDER_LATE_AFTER_MS past due (the worker is not sending). */
    late: number;
  };
  review: {
    /** Nominations waiting for a review decision (first or second approval). */
    backlog: number;
    /** Of those, waiting longer than their campaign's review SLA (`review_sla_hours`, default 48). */
    slaBreaches: number;
  };
}

export async function queueHealth(queues: Queues, now: Date): Promise<Record<QueueName, QueueHealth>> {
  const entries = await Promise.all(
    QUEUE_NAMES.map(async (name) => {
      const q = queues.get(name);
      const [counts, oldest] = await Promise.all([
        q.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized'),
        q.getJobs(['waiting'], 0, 0, true),
      ]);
      const job = oldest[0];
      // A job that was delayed became ready at timestamp + delay.
      const readyAt = job ? job.timestamp + (job.opts.delay ?? 0) : now.getTime();
      return [
        name,
        {
          waiting: (counts['waiting'] ?? 0) + (counts['prioritized'] ?? 0),
          active: counts['active'] ?? 0,
          delayed: counts['delayed'] ?? 0,
          failed: counts['failed'] ?? 0,
          oldestWaitingSeconds: Math.max(0, (now.getTime() - readyAt) / 1000),
        },
      ] as const;
    }),
  );
  return Object.fromEntries(entries) as Record<QueueName, QueueHealth>;
}

export async function collectHealth(db: Db, queues: Queues, now: Date): Promise<Health> {
  const [queueFigures, noticeRows, oldestQueued, scheduled, late, review] = await Promise.all([
    queueHealth(queues, now),
    db.notice.groupBy({ by: ['status'], _count: { _all: true } }),
    db.notice.findFirst({ where: { status: 'queued' }, orderBy: { id: 'asc' }, select: { createdAt: true } }),
    db.reminder.count({ where: { status: 'scheduled' } }),
    db.reminder.count({
      where: { status: 'scheduled', dueAt: { lt: new Date(now.getTime() - REMINDER_LATE_AFTER_MS) } },
    }),
    reviewHealth(db, now),
  ]);
  const byStatus = { queued: 0, sending: 0, sent: 0, failed: 0, unreachable: 0 };
  for (const r of noticeRows) byStatus[r.status] = r._count._all;
  return {
    at: now,
    queues: queueFigures,
    notices: {
      byStatus,
      oldestQueuedSeconds: oldestQueued
        ? Math.max(0, (now.getTime() - oldestQueued.createdAt.getTime()) / 1000)
        : 0,
    },
    reminders: { scheduled, late },
    review,
  };
}

async function reviewHealth(db: Db, now: Date): Promise<Health['review']> {
  const campaigns = await db.campaign.findMany({
    where: { status: { not: 'archived' } },
    select: { id: true, settings: true },
  });
  let backlog = 0;
  let slaBreaches = 0;
  for (const c of campaigns) {
    const { slaHours } = reviewSettingsFrom(c.settings);
    const where = { campaignId: c.id, status: { in: [...BACKLOG_STATUSES] } };
    const [all, breached] = await Promise.all([
      db.nomination.count({ where }),
      db.nomination.count({
        where: { ...where, submittedAt: { lt: new Date(now.getTime() - slaHours * 3_600_000) } },
      }),
    ]);
    backlog += all;
    slaBreaches += breached;
  }
  return { backlog, slaBreaches };
}

/**
 * The thresholds of the example alert rules (ops/alerts.yml; test/e2e/alerts.test.ts keeps them equal)
 * for a check that looks once instead of over time.
 */
export const HEALTH_THRESHOLDS = {
  queueOldestWaitingSeconds: 300,
  noticeOldestQueuedSeconds: 1800,
  noticesSending: 0,
  remindersLate: 0,
  reviewSlaBreaches: 0,
  reviewBacklog: 500,
} as const;

export type HealthProblem =
  | { kind: 'queue_stalled'; queue: QueueName; seconds: number; threshold: number }
  | { kind: 'notices_waiting'; seconds: number; threshold: number }
  | { kind: 'notices_sending'; count: number; threshold: number }
  | { kind: 'reminders_late'; count: number; threshold: number }
  | { kind: 'review_sla_breaches'; count: number; threshold: number }
  | { kind: 'review_backlog'; count: number; threshold: number };

/** What in `h` is past a threshold (empty: healthy). Words are the caller's (doctor, chat, log). */
export function healthProblems(h: Health, t = HEALTH_THRESHOLDS): HealthProblem[] {
  const out: HealthProblem[] = [];
  for (const [queue, q] of Object.entries(h.queues) as [QueueName, QueueHealth][])
    if (q.oldestWaitingSeconds > t.queueOldestWaitingSeconds)
      out.push({
        kind: 'queue_stalled',
        queue,
        seconds: q.oldestWaitingSeconds,
        threshold: t.queueOldestWaitingSeconds,
      });
  if (h.notices.oldestQueuedSeconds > t.noticeOldestQueuedSeconds)
    out.push({
      kind: 'notices_waiting',
      seconds: h.notices.oldestQueuedSeconds,
      threshold: t.noticeOldestQueuedSeconds,
    });
  if (h.notices.byStatus.sending > t.noticesSending)
    out.push({ kind: 'notices_sending', count: h.notices.byStatus.sending, threshold: t.noticesSending });
  if (h.reminders.late > t.remindersLate)
    out.push({ kind: 'reminders_late', count: h.reminders.late, threshold: t.remindersLate });
  if (h.review.slaBreaches > t.reviewSlaBreaches)
    out.push({ kind: 'review_sla_breaches', count: h.review.slaBreaches, threshold: t.reviewSlaBreaches });
  if (h.review.backlog > t.reviewBacklog)
    out.push({ kind: 'review_backlog', count: h.review.backlog, threshold: t.reviewBacklog });
  return out;
}
