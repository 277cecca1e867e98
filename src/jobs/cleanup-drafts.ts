import { z } from 'zod';
import type { Db } from '../adapters/db/client.ts';
import { defineJob } from './registry.ts';

// Abandoned nomination drafts expire (campaign setting draft_ttl_hours, default 72): this hourly job
// deletes those past their expiry. A contact's own expired drafts are also removed when they next
// run /nominate, so the job only keeps the table tidy and personal data from lingering.

export const CLEANUP_DRAFTS_JOB = 'cleanup-drafts';

export const cleanupDraftsJob = defineJob({
  queue: 'reminders',
  name: CLEANUP_DRAFTS_JOB,
  schema: z.object({}).passthrough(),
  async handle(deps: { db: Db; now: () => Date }) {
    const res = await deps.db.nomination.deleteMany({
      where: { status: 'draft', draftExpiresAt: { lte: deps.now() } },
    });
    return res.count > 0 ? 'deleted' : 'nothing';
  },
});
