import type { Prisma } from '../../adapters/db/client.ts';
import { DomainError } from '../../domain/errors.ts';
import type { Step } from '../../domain/nomination/form.ts';
import { EDITABLE_STATUSES, type NominationDeps } from './shared.ts';

// Drafts live in PostgreSQL (not in the chat session), so a contact can leave and resume, also after a
// bot restart. Sensitive answers are stored encrypted with a keyed hash; nothing is kept in clear.

export const DEFAULT_DRAFT_TTL_HOURS = 72;

function ttlHours(settings: unknown): number {
  const v = (settings as { draft_ttl_hours?: unknown } | null)?.draft_ttl_hours;
  return typeof v === 'number' && v > 0 ? v : DEFAULT_DRAFT_TTL_HOURS;
}

/** The contact's open draft (not expired), newest first; expired drafts of this person are removed. */
export async function findDraft(deps: NominationDeps, personId: number) {
  const now = deps.now();
  await deps.db.nomination.deleteMany({
    where: { submittedById: personId, status: 'draft', draftExpiresAt: { lte: now } },
  });
  return deps.db.nomination.findFirst({
    // Spreadsheet drafts (source 'upload') belong to an import batch, not to the chat dialog.
    where: { submittedById: personId, status: 'draft', source: { not: 'upload' } },
    orderBy: { updatedAt: 'desc' },
  });
}

export async function startDraft(
  deps: NominationDeps,
  input: { personId: number; unionId: number; campaignId: number },
) {
  const campaign = await deps.db.campaign.findUniqueOrThrow({ where: { id: input.campaignId } });
  const now = deps.now();
  return deps.db.nomination.create({
    data: {
      campaignId: input.campaignId,
      unionId: input.unionId,
      submittedById: input.personId,
      status: 'draft',
      draftExpiresAt: new Date(now.getTime() + ttlHours(campaign.settings) * 3600_000),
    },
  });
}

/**
 * Stores one answer (a partial update of the nomination) and marks the step answered. Only the
 * contact who owns the draft may change it, and only while it is a draft or returned for correction.
 */
export async function saveAnswer(
  deps: NominationDeps,
  input: {
    personId: number;
    nominationId: number;
    step: Step;
    data: Prisma.NominationUncheckedUpdateManyInput;
  },
): Promise<void> {
  const current = await deps.db.nomination.findFirst({
    where: { id: input.nominationId, submittedById: input.personId, status: { in: [...EDITABLE_STATUSES] } },
    include: { campaign: { select: { settings: true } } },
  });
  if (!current) throw new DomainError('nomination_not_editable');
  const answered = current.draftAnswered.includes(input.step)
    ? current.draftAnswered
    : [...current.draftAnswered, input.step];
  const res = await deps.db.nomination.updateMany({
    where: { id: current.id, version: current.version },
    data: {
      ...input.data,
      draftAnswered: answered,
      draftStep: input.step,
      version: { increment: 1 },
      ...(current.status === 'draft'
        ? { draftExpiresAt: new Date(deps.now().getTime() + ttlHours(current.campaign.settings) * 3600_000) }
        : {}),
    },
  });
  if (res.count === 0) throw new DomainError('nomination_changed');
}

/** Forgets the answers of steps that no longer apply (e.g. bank details after choosing in kind). */
export async function discardDraft(
  deps: NominationDeps,
  input: { personId: number; nominationId: number },
): Promise<boolean> {
  const res = await deps.db.nomination.deleteMany({
    where: { id: input.nominationId, submittedById: input.personId, status: 'draft' },
  });
  return res.count > 0;
}
