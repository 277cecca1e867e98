import { DelayedError } from 'bullmq';
import { z } from 'zod';
import { onReviewSummarySent, REMINDER_JOB } from '../usecases/reminders.ts';
import { sendReminder } from '../usecases/send-reminder.ts';
import type { Db } from '../adapters/db/client.ts';
import type { Metrics } from '../adapters/http/metrics.ts';
import type { Logger } from '../adapters/logger.ts';
import type { Queues } from '../adapters/queue/queues.ts';
import type { SendReminderDeps } from '../usecases/send-reminder.ts';
import { defineJob } from './registry.ts';

// One reminder (payload: its key only). Deferrals (quiet hours, a due time moved later) and 429s put the
// job back as delayed without using an attempt; the Reminder row guards against sending twice.

/** The part of JobDeps this job uses (declared here so jobs/index.ts can import the job without a cycle). */
export interface ReminderJobDeps extends SendReminderDeps {
  db: Db;
  logger: Logger;
  metrics: Metrics;
  queues: Queues;
}

export const sendReminderJob = defineJob({
  queue: 'reminders',
  name: REMINDER_JOB,
  schema: z.object({ key: z.string().min(1).max(200) }),
  async handle(deps: ReminderJobDeps, { key }, job) {
    const r = await sendReminder(deps, key);
    deps.logger.debug({ key, ...r }, 'reminder job');
    if (r.outcome === 'deferred' || r.outcome === 'rate_limited') {
      const waitMs = r.outcome === 'deferred' ? r.until.getTime() - deps.now().getTime() : r.retryAfterMs;
      deps.metrics.inc('warmth_jobs_total', 'Jobs processed', {
        queue: 'reminders',
        job: REMINDER_JOB,
        outcome: r.outcome,
      });
      await job.moveToDelayed(Date.now() + Math.max(0, waitMs), job.token);
      throw new DelayedError();
    }
    // A daily summary schedules the next working day's one.
    if (key.includes('-review-')) {
      const row = await deps.db.reminder.findUnique({ where: { key }, select: { campaignId: true } });
      if (row?.campaignId) await onReviewSummarySent(deps.db, deps.queues, row.campaignId, deps.now());
    }
    return r.outcome;
  },
});
