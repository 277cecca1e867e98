import { uniqueViolation } from '../../adapters/db/client.ts';
import { DomainError } from '../../domain/errors.ts';
import { admit } from '../../domain/nomination/admission.ts';
import { nextStep, stepsFor } from '../../domain/nomination/form.ts';
import { fieldsAtSubmit, payableGaps } from '../../domain/nomination/intake.ts';
import { audit } from '../audit.ts';
import { loadPersonFacts, loadRoom, lockAdmission } from './admission-facts.ts';
import { refusalError, retryConflicts } from './refusals.ts';
import { campaignRow, categoryRow } from '../cached-reads.ts';
import { editableDraftRow } from './draft-row.ts';
import { type NominationDeps, revisionSnapshot, toCategoryInfo } from './shared.ts';
import { clearedColumns } from './stored-fields.ts';

// Submitting a dialog nomination, or resubmitting one returned for correction: it takes its place in
// the campaign under the admission rules (checked again under the campaign's admission lock), gets the
// fields its benefit form needs (the only form of its category, the standard amount) and must then
// satisfy the payable invariant. The unique dedup key is the last guard against two unions submitting
// the same person at the same moment.

export interface SubmitResult {
  id: number;
  revision: number;
  flags: string[];
  amountFen: number;
}

export async function submitNomination(
  deps: NominationDeps,
  input: { personId: number; nominationId: number },
): Promise<SubmitResult> {
  const r = await retryConflicts(() => submitOnce(deps, input));
  await deps.onSubmitted?.(r);
  return r;
}

async function submitOnce(
  deps: NominationDeps,
  input: { personId: number; nominationId: number },
): Promise<SubmitResult> {
  const now = deps.now();
  // The draft with its submitter's name and phone hash in one statement on the pool directly
  // (draft-row.ts); its campaign and category from the per-update-checked cache (cached-reads.ts).
  const d = await editableDraftRow(deps, { ...input, submitter: true });
  if (!d) throw new DomainError('nomination_not_editable');
  const [campaign, category] = await Promise.all([
    campaignRow(deps.db, d.campaignId),
    d.categoryId === null ? null : categoryRow(deps.db, d.categoryId),
  ]);
  if (!campaign) throw new DomainError('nomination_not_editable');
  const n = { ...d, campaign };
  if (!category) throw new DomainError('nomination_incomplete');
  const cat = toCategoryInfo(category);
  if (nextStep(stepsFor(cat, n.benefitForm), n.draftAnswered) !== 'summary')
    throw new DomainError('nomination_incomplete');
  const closesAt = n.status === 'returned' ? n.campaign.reviewDeadline : n.campaign.nominationClosesAt;
  if (now < n.campaign.nominationOpensAt || now >= closesAt) throw new DomainError('nomination_closed');

  const final = fieldsAtSubmit(cat, n.benefitForm);
  const cleared = clearedColumns(final.cleared);
  const after = { ...n, ...cleared, benefitForm: final.benefitForm, amountFen: final.amountFen };
  const gaps = payableGaps({ ...after, hasBankCard: after.bankCardEnc !== null });
  if (gaps.length > 0) throw new DomainError('nomination_incomplete');

  try {
    return await deps.db.$transaction(
      async (tx) => {
        await lockAdmission(tx, { campaignId: n.campaignId, idHash: n.idNumberHash });
        const [person] = await loadPersonFacts(tx, {
          campaignId: n.campaignId,
          targetPaymentDate: n.campaign.targetPaymentDate,
          candidates: [{ idHash: n.idNumberHash, phoneHash: n.phoneHash, cardHash: n.bankCardHash }],
          excludeIds: [n.id],
        });
        const room = await loadRoom(tx, {
          unionId: n.unionId,
          campaignId: n.campaignId,
          budgetFen: n.campaign.budgetTotalFen,
          cat,
          excludeIds: [n.id],
        });
        const decision = admit(
          cat,
          { fullName: n.fullName, idHash: n.idNumberHash, phoneHash: n.phoneHash, answerFlags: n.flags },
          person!,
          room,
          { displayName: n.submitterName ?? '', phoneHash: n.submitterPhoneHash ?? null },
        );
        if (!decision.ok) throw refusalError(decision.refusal, n.unionId);
        const revision = n.revision + 1;
        const res = await tx.nomination.updateMany({
          where: { id: n.id, version: n.version },
          data: {
            ...cleared,
            status: 'submitted',
            revision,
            version: { increment: 1 },
            benefitForm: final.benefitForm,
            amountFen: final.amountFen,
            flags: decision.flags,
            submittedAt: now,
            dedupKey: n.idNumberHash ? `${n.campaignId}:${n.idNumberHash}` : null,
            draftExpiresAt: null,
            draftStep: null,
          },
        });
        if (res.count === 0) throw new DomainError('nomination_changed');
        await tx.nominationRevision.create({
          data: {
            nominationId: n.id,
            revision,
            snapshot: revisionSnapshot(after, cat, decision.flags),
            createdById: input.personId,
          },
        });
        // The nomination id identifies the record; no ID number, masked or not, in the audit log.
        await audit(tx, {
          actorId: input.personId,
          action: n.status === 'returned' ? 'nomination.resubmit' : 'nomination.submit',
          entity: 'nomination',
          entityId: n.id,
          before: { status: n.status, revision: n.revision },
          after: {
            status: 'submitted',
            revision,
            category: cat.code,
            benefitForm: final.benefitForm,
            amountFen: final.amountFen,
            flags: decision.flags,
          },
        });
        return { id: n.id, revision, flags: decision.flags, amountFen: final.amountFen };
      },
      { isolationLevel: 'ReadCommitted', maxWait: 10_000, timeout: 20_000 },
    );
  } catch (err) {
    if (!uniqueViolation(err) || !n.idNumberHash) throw err;
    // Someone submitted the same person a moment ago: tell it like the duplicate check would.
    const [person] = await loadPersonFacts(deps.db, {
      campaignId: n.campaignId,
      targetPaymentDate: n.campaign.targetPaymentDate,
      candidates: [{ idHash: n.idNumberHash, phoneHash: null }],
      excludeIds: [n.id],
    });
    const blocking = person?.blocking ?? { nominationId: 0, status: 'submitted', unionName: '', unionId: -1 };
    throw refusalError({ reason: 'duplicate', params: { ...blocking } }, n.unionId);
  }
}
