import { DomainError } from '../../domain/errors.ts';
import { draftExpiresAt } from '../../domain/nomination/intake.ts';
import type { Step } from '../../domain/nomination/form.ts';
import { rememberWritten } from '../../adapters/db/query-scope.ts';
import { nominationOpenWhere } from '../campaigns.ts';
import { updateDraftRow } from './draft-row.ts';
import { EDITABLE_STATUSES, type NominationDeps } from './shared.ts';
import type { StoredFields } from './stored-fields.ts';

// Drafts live in PostgreSQL (not in the chat session), so a contact can leave and resume, also after a
// bot restart. Sensitive answers are stored encrypted with a keyed hash; nothing is kept in clear.

/** The contact's open dialog draft (not expired), newest first; expired drafts of this person are removed. */
export async function findDraft(deps: NominationDeps, personId: number) {
  const now = deps.now();
  await deps.db.nomination.deleteMany({
    where: { submittedById: personId, status: 'draft', draftExpiresAt: { lte: now } },
  });
  return deps.db.nomination.findFirst({
    // Spreadsheet drafts (source 'upload') belong to an import batch, not to the chat dialog.
    where: { submittedById: personId, status: 'draft', source: { not: 'upload' } },
    orderBy: { updatedAt: 'desc' },
    select: { id: true, fullName: true },
  });
}

/** A new dialog draft in a campaign open for nomination. */
export async function startDraft(
  deps: NominationDeps,
  input: { personId: number; unionId: number; campaignId: number },
) {
  const now = deps.now();
  const campaign = await deps.db.campaign.findFirst({
    where: { id: input.campaignId, ...nominationOpenWhere(now) },
  });
  if (!campaign) throw new DomainError('nomination_closed');
  return deps.db.nomination.create({
    data: {
      campaignId: input.campaignId,
      unionId: input.unionId,
      submittedById: input.personId,
      status: 'draft',
      draftExpiresAt: draftExpiresAt(campaign.settings, now),
    },
    select: { id: true },
  });
}

/** What saveAnswer needs of the draft: the caller has just read it (no second read per answer). */
export interface DraftRow {
  id: number;
  version: number;
  status: string;
  draftAnswered: string[];
  campaign: { settings: unknown };
}

/**
 * Stores one answer (a partial update of the nomination) and marks the step answered (unless
 * `answered` is false: an answer that waits for a confirmation). `forget` un-marks steps whose answer
 * no longer holds (e.g. the benefit form after a change of category). Guarded by the version the caller
 * read, so only that state of the draft is changed; returns the steps now answered.
 */
export async function saveAnswer(
  deps: NominationDeps,
  input: {
    draft: DraftRow;
    step: Step;
    data: StoredFields & { categoryId?: number; amountFen?: number; flags?: string[] };
    answered?: boolean;
    forget?: readonly Step[];
  },
): Promise<string[]> {
  const current = input.draft;
  if (!(EDITABLE_STATUSES as readonly string[]).includes(current.status))
    throw new DomainError('nomination_not_editable');
  const kept = current.draftAnswered.filter((s) => !(input.forget ?? []).includes(s as Step));
  const answered = input.answered === false || kept.includes(input.step) ? kept : [...kept, input.step];
  // One statement that returns the row as written: the dialog's next question is drawn from it
  // (rememberWritten), not read again. On the pool directly (draft-row.ts).
  const row = await updateDraftRow(deps, {
    id: current.id,
    version: current.version,
    changes: {
      ...input.data,
      draftAnswered: answered,
      draftStep: input.step,
      ...(current.status === 'draft'
        ? { draftExpiresAt: draftExpiresAt(current.campaign.settings, deps.now()) }
        : {}),
    },
  });
  // No row matched the guard: changed or submitted meanwhile.
  if (!row) throw new DomainError('nomination_changed');
  rememberWritten(`nomination:${row.id}`, row);
  return answered;
}

/** Deletes the contact's draft (the dialog's "discard and start again"). */
export async function discardDraft(
  deps: NominationDeps,
  input: { personId: number; nominationId: number },
): Promise<boolean> {
  const res = await deps.db.nomination.deleteMany({
    where: { id: input.nominationId, submittedById: input.personId, status: 'draft' },
  });
  return res.count > 0;
}
