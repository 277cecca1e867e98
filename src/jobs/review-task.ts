import { DelayedError, type Job } from 'bullmq';
import { z } from 'zod';
import type { Db } from '../adapters/db/client.ts';
import type { I18n } from '../adapters/i18n.ts';
import type { Logger } from '../adapters/logger.ts';
import type { Queues } from '../adapters/queue/queues.ts';
import {
  checkReviewSla,
  recordReviewTask,
  REVIEW_DIGEST_JOB,
  REVIEW_SLA_JOB,
  REVIEW_TASK_JOB,
  sendReviewDigest,
} from '../usecases/review/tasks.ts';
import { defineJob } from './registry.ts';

// Review jobs (payloads are ids only). Each handler calls one use case in usecases/review/tasks.ts;
// "not due yet by the app clock" puts the job back as delayed without using an attempt.

export interface ReviewJobDeps {
  db: Db;
  i18n: I18n;
  logger: Logger;
  queues: Queues;
  now: () => Date;
}

async function deferUntil(job: Job, deps: ReviewJobDeps, until: Date): Promise<never> {
  await job.moveToDelayed(Date.now() + Math.max(0, until.getTime() - deps.now().getTime()), job.token);
  throw new DelayedError();
}

const id = z.number().int().positive();

export const reviewTaskJob = defineJob({
  queue: 'review',
  name: REVIEW_TASK_JOB,
  schema: z.object({ nominationId: id, revision: id }),
  async handle(deps: ReviewJobDeps, data) {
    return recordReviewTask(deps, data);
  },
});

export const reviewDigestJob = defineJob({
  queue: 'review',
  name: REVIEW_DIGEST_JOB,
  schema: z.object({ campaignId: id, kind: z.enum(['new', 'sla']), window: z.number().int().nonnegative() }),
  async handle(deps: ReviewJobDeps, data, job) {
    const r = await sendReviewDigest(
      { ...deps, localeOf: (p) => deps.i18n.resolve(p.locale, p.telegramLanguage) },
      data,
    );
    if (r.outcome === 'deferred') return deferUntil(job, deps, r.until);
    return r.outcome;
  },
});

export const reviewSlaJob = defineJob({
  queue: 'reminders',
  name: REVIEW_SLA_JOB,
  schema: z.object({ nominationId: id, revision: id, period: id }),
  async handle(deps: ReviewJobDeps, data, job) {
    const r = await checkReviewSla(deps, data);
    if (r.outcome === 'deferred') return deferUntil(job, deps, r.until);
    return r.outcome;
  },
});
