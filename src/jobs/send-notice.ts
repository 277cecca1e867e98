import { DelayedError } from 'bullmq';
import { z } from 'zod';
import type { Metrics } from '../adapters/http/metrics.ts';
import type { Logger } from '../adapters/logger.ts';
import { SEND_NOTICE_JOB } from '../usecases/notices.ts';
import { type SendNoticeDeps, sendNotice } from '../usecases/send-notice.ts';
import { defineJob } from './registry.ts';

// One notice (payload: its id only). The use case returns an outcome; a rate-limited send puts the job
// back as delayed without using an attempt. The global pace of notices is the worker's BullMQ limiter
// (NOTIFY_RATE_PER_SEC, leaving room for chat replies); every send also goes through the outbound path.

export interface NoticeJobDeps extends SendNoticeDeps {
  logger: Logger;
  metrics: Metrics;
}

export const sendNoticeJob = defineJob({
  queue: 'notifications',
  name: SEND_NOTICE_JOB,
  schema: z.object({ noticeId: z.number().int().positive() }),
  async handle(deps: NoticeJobDeps, { noticeId }, job, { token }) {
    const r = await sendNotice(deps, noticeId);
    if (r.outcome === 'rate_limited') {
      deps.metrics.inc('warmth_jobs_total', 'Jobs processed', {
        queue: 'notifications',
        job: SEND_NOTICE_JOB,
        outcome: r.outcome,
      });
      await job.moveToDelayed(Date.now() + r.retryAfterMs, token ?? job.token);
      throw new DelayedError();
    }
    return r.outcome;
  },
});
