import { DelayedError } from 'bullmq';
import { z } from 'zod';
import type { Db } from '../adapters/db/client.ts';
import type { Logger } from '../adapters/logger.ts';
import type { Queues } from '../adapters/queue/queues.ts';
import { CAMPAIGN_OPENING_JOB, fanOutOpening } from '../usecases/announcements.ts';
import { defineJob } from './registry.ts';

// A campaign's nominations open (delayed job at `opens`, or at once when loaded open): one opening
// notice per active contact, queued through the notice pipeline. Idempotent (one row per contact and
// campaign), so a duplicated job, a retry or a worker restart sends nothing twice. Opened inside the
// campaign's quiet hours (default 22:00-08:00), the job waits until they end.

export const campaignOpeningJob = defineJob({
  queue: 'notifications',
  name: CAMPAIGN_OPENING_JOB,
  schema: z.object({ campaignId: z.number().int().positive() }),
  async handle(deps: { db: Db; queues: Queues; logger: Logger; now: () => Date }, { campaignId }, job, run) {
    const r = await fanOutOpening(deps.db, deps.queues, campaignId, deps.now());
    if (r.state === 'quiet' && r.until) {
      // Opened in quiet hours: the notices go out when they end (the job waits, nothing is queued yet).
      await job.moveToDelayed(r.until.getTime(), run.token ?? job.token);
      throw new DelayedError();
    }
    if (r.created > 0) deps.logger.info({ campaignId, ...r }, 'campaign opening notices queued');
    return r.state;
  },
});
