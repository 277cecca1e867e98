import { z } from 'zod';
import type { Db } from '../adapters/db/client.ts';
import type { Logger } from '../adapters/logger.ts';
import type { Queues } from '../adapters/queue/queues.ts';
import { SWEEP_NOTICES_JOB, sweepStuckNotices } from '../usecases/notice-sweeper.ts';
import { requeueQueuedNotices } from '../usecases/notices.ts';
import { scanNoAnswer } from '../usecases/recipients/followups.ts';
import { defineJob } from './registry.ts';

// Periodic housekeeping of the notice pipeline: notices stuck in `sending` after a crash become
// failed-uncertain with a follow-up (never resent); notices still `queued` for minutes without a job
// (the process died between the row's commit and queueing its job) get their job; and payment notices
// nobody confirmed after N working days become `no_answer` follow-ups.

/** A queued notice this old should have its job: younger ones may be between commit and queueing. */
export const REQUEUE_AFTER_MS = 2 * 60_000;

export const sweepNoticesJob = defineJob({
  queue: 'notifications',
  name: SWEEP_NOTICES_JOB,
  schema: z.object({}).passthrough(),
  async handle(deps: { db: Db; queues: Queues; logger: Logger; now: () => Date }) {
    const now = deps.now();
    const swept = await sweepStuckNotices(deps.db, { now });
    const requeued = await requeueQueuedNotices(deps.db, deps.queues, {
      olderThanMs: REQUEUE_AFTER_MS,
      retryFailed: false,
    });
    const noAnswer = await scanNoAnswer(deps.db, { now });
    if (swept.marked > 0 || requeued.missing > 0 || noAnswer.created > 0)
      deps.logger.warn(
        { swept: swept.noticeIds, requeued: requeued.missing, noAnswer: noAnswer.created },
        'notice sweep',
      );
    return 'swept';
  },
});
