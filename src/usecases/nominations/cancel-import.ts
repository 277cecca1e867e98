import { importMarker } from './store-import-drafts.ts';
import type { NominationDeps } from './shared.ts';

/** Spreadsheet import, the other way out of step 2: deletes the drafts of an unconfirmed batch. */
export async function cancelImport(
  deps: NominationDeps,
  input: { personId: number; batchId: string },
): Promise<number> {
  const res = await deps.db.nomination.deleteMany({
    where: {
      submittedById: input.personId,
      status: 'draft',
      source: 'upload',
      draftStep: importMarker(input.batchId),
    },
  });
  return res.count;
}
