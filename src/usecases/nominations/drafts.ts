import { DomainError } from '../../domain/errors.ts';
import { draftExpiresAt } from '../../domain/nomination/intake.ts';
import type { Step } from '../../domain/nomination/form.ts';
import { rememberWritten } from '../../adapters/db/query-scope.ts';
import { sqlRows } from '../../adapters/db/direct-sql.ts';
import type { AuditEntry } from '../audit.ts';
import { campaignRow } from '../cached-reads.ts';
import { insertDraftRow, updateDraftRow } from './draft-row.ts';
import { EDITABLE_STATUSES, type NominationDeps } from './shared.ts';
import type { StoredFields } from './stored-fields.ts';

// Drafts live in PostgreSQL (not in the chat session), so a contact can leave and resume, also after a
// bot restart. Sensitive answers are stored encrypted with a keyed hash; nothing is kept in clear.

/**
 * The contact's open dialog draft (not expired), newest first; expired drafts of this person are removed.
 * One statement on the pool directly (draft-row.ts): the removal is a CTE, and the SELECT, which sees
 * the rows as they were before it, leaves the expired ones out itself.
 */
export async function findDraft(deps: NominationDeps, personId: number) {
  const now = deps.now();
  // Spreadsheet drafts (source 'upload') belong to an import batch, not to the chat dialog.
  const [row] = await sqlRows<{ id: number; fullName: string | null }>(deps.db)`
    WITH expired AS (
      DELETE FROM nomination WHERE submitted_by_id = ${personId} AND status = 'draft'
        AND draft_expires_at <= ${now}
    )
    SELECT id, full_name AS "fullName" FROM nomination
    WHERE submitted_by_id = ${personId} AND status = 'draft' AND source <> 'upload'
      AND (draft_expires_at IS NULL OR draft_expires_at > ${now})
    ORDER BY updated_at DESC LIMIT 1`;
  return row ?? null;
}

/**
 * A new dialog draft in a campaign open for nomination: one statement that inserts it only if the
 * campaign is open now, and returns the row, kept for the first question (rememberWritten).
 */
export async function startDraft(
  deps: NominationDeps,
  input: { personId: number; unionId: number; campaignId: number },
) {
  const now = deps.now();
  // The settings (draft lifetime) from the per-update-checked cache; the open check in the statement.
  const campaign = await campaignRow(deps.db, input.campaignId);
  if (!campaign) throw new DomainError('nomination_closed');
  const row = await insertDraftRow(deps, {
    ...input,
    draftExpiresAt: draftExpiresAt(campaign.settings, now),
    now,
  });
  if (!row) throw new DomainError('nomination_closed');
  rememberWritten(`nomination:${row.id}`, row);
  return { id: row.id };
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
    /** An audit record written in the same statement, whether or not the guard matches. */
    audit?: AuditEntry;
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
    ...(input.audit ? { audit: input.audit } : {}),
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
