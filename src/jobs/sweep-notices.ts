import { z } from 'zod';
import type { Db } from '../adapters/db/client.ts';
import type { Logger } from '../adapters/logger.ts';
import { SWEEP_NOTICES_JOB, sweepStuckNotices } from '../usecases/notice-sweeper.ts';
import { scanNoAnswer } from '../usecases/recipients/followups.ts';
import { defineJob } from './registry.ts';

// Periodic housekeeping of the notice pipeline: notices stuck in `sending` after a crash become
// failed-uncertain with a follow-up (never resent), and payment notices nobody confirmed after N
// working days become `no_answer` follow-ups.

export const sweepNoticesJob = defineJob({
  queue: 'notifications',
  name: SWEEP_NOTICES_JOB,
  schema: z.object({}).passthrough(),
  async handle(deps: { db: Db; logger: Logger; now: () => Date }) {
    const now = deps.now();
    const swept = await sweepStuckNotices(deps.db, { now });
    const noAnswer = await scanNoAnswer(deps.db, { now });
    if (swept.marked > 0 || noAnswer.created > 0)
      deps.logger.warn({ swept: swept.noticeIds, noAnswer: noAnswer.created }, 'notice sweep');
    return 'swept';
  },
});
