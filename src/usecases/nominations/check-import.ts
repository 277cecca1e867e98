import type { CipherWorker } from '../../adapters/crypto/field-cipher.ts';
import { recordEntryBlocked } from '../report/figures.ts';
import type { NominationDeps } from './shared.ts';
import { storeImportDrafts } from './store-import-drafts.ts';
import {
  type ImportInput,
  type ImportProgress,
  type ImportValidation,
  validateImport,
} from './validate-import.ts';

/**
 * A contact's filled list, checked: validated, its valid rows held as drafts of a batch until the
 * contact submits or cancels, and what the checks caught counted for the evaluation's data-accuracy
 * figures (as the dialog counts its refusals).
 */
export async function checkImport(
  deps: NominationDeps,
  input: ImportInput,
  opts: ImportProgress = {},
): Promise<{ validation: ImportValidation; batch?: { batchId: string; stored: number } }> {
  // A long file gets one cipher worker for both steps (look-up hashes while checking, encryption while
  // storing): one thread boot per file instead of two (under tsx a boot costs ~250 ms of CPU), booted
  // as soon as the file is known or expected to be long (a large upload: when it starts; else a feed's
  // first slice). A short file is hashed on this thread, and the store boots its own worker if there is
  // anything to store.
  let worker: CipherWorker | undefined;
  const bootWorker = () => {
    worker ??= deps.cipher.worker();
    return worker;
  };
  let validation: ImportValidation;
  let batch: { batchId: string; stored: number } | undefined;
  try {
    validation = await validateImport(deps, input, { ...opts, bootWorker });
    batch =
      validation.valid > 0 ? await storeImportDrafts(deps, validation, worker ? { worker } : {}) : undefined;
  } finally {
    await worker?.close();
  }
  const blocked = validation.rows.flatMap((row) => {
    const codes = row.issues.map((i) => i.code);
    const reason = codes.some((c) => c.startsWith('duplicate_') || c.startsWith('paid_by_union'))
      ? ('duplicate' as const)
      : codes.some((c) => c.startsWith('id.'))
        ? ('id_invalid' as const)
        : undefined;
    return reason
      ? [{ campaignId: validation.campaignId, actorId: input.personId, reason, source: 'sheet' as const }]
      : [];
  });
  await recordEntryBlocked(deps.db, blocked);
  return { validation, ...(batch ? { batch } : {}) };
}

/** The category a file is for, with its campaign (if given, the category must belong to it). */
export async function importTarget(deps: NominationDeps, t: { campaignId?: number; categoryId: number }) {
  const category = await deps.db.campaignCategory.findUnique({
    where: { id: t.categoryId },
    include: { campaign: true },
  });
  if (!category || (t.campaignId !== undefined && category.campaignId !== t.campaignId)) return undefined;
  return category;
}
