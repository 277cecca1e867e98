import { Prisma, uniqueViolation } from '../../adapters/db/client.ts';
import { DomainError } from '../../domain/errors.ts';
import { nextStep, stepsFor } from '../../domain/nomination/form.ts';
import { formatYuan } from '../../domain/campaign/money.ts';
import { maskIdNumber } from '../../domain/masking.ts';
import { audit } from '../audit.ts';
import { budgetRemaining, duplicateFacts, quotaRemaining, yearlyAmount } from './entry-checks.ts';
import { EDITABLE_STATUSES, type NominationDeps, revisionSnapshot, toCategoryInfo } from './shared.ts';

// Submitting takes the nomination's place in the campaign: duplicate, quota, budget and yearly cap
// are checked again inside a serializable transaction, and the unique dedup key is the last guard
// against two unions submitting the same person at the same moment.

const normaliseName = (s: string) =>
  s
    .normalize('NFKC')
    .replace(/[\s·•]/g, '')
    .toLowerCase();

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
  for (let attempt = 1; ; attempt++) {
    try {
      const r = await submitOnce(deps, input);
      await deps.onSubmitted?.(r);
      return r;
    } catch (err) {
      const retryable =
        err instanceof Prisma.PrismaClientKnownRequestError &&
        (err.code === 'P2034' || /40001|could not serialize/i.test(err.message));
      if (!retryable || attempt >= 4) throw err;
    }
  }
}

async function submitOnce(
  deps: NominationDeps,
  input: { personId: number; nominationId: number },
): Promise<SubmitResult> {
  const now = deps.now();
  const n = await deps.db.nomination.findFirst({
    where: { id: input.nominationId, submittedById: input.personId, status: { in: [...EDITABLE_STATUSES] } },
    include: { campaign: true, category: true, submittedBy: true },
  });
  if (!n) throw new DomainError('nomination_not_editable');
  if (!n.category) throw new DomainError('nomination_incomplete');
  const cat = toCategoryInfo(n.category);
  if (nextStep(stepsFor(cat, n.benefitForm), n.draftAnswered) !== 'summary')
    throw new DomainError('nomination_incomplete');
  const closesAt = n.status === 'returned' ? n.campaign.reviewDeadline : n.campaign.nominationClosesAt;
  if (now < n.campaign.nominationOpensAt || now >= closesAt) throw new DomainError('nomination_closed');

  const flags = new Set<string>(n.flags.filter((f) => f === 'luhn_warning'));
  if (n.fullName && normaliseName(n.fullName) === normaliseName(n.submittedBy.displayName))
    flags.add('self_nomination');
  if (n.phoneHash && n.submittedBy.phoneHash === n.phoneHash) flags.add('self_phone');
  if (n.phoneHash) {
    const shared = await deps.db.nomination.count({
      where: {
        campaignId: n.campaignId,
        phoneHash: n.phoneHash,
        id: { not: n.id },
        status: { notIn: ['draft', 'withdrawn', 'rejected'] },
        ...(n.idNumberHash ? { NOT: { idNumberHash: n.idNumberHash } } : {}),
      },
    });
    if (shared > 0) flags.add('shared_phone');
  }

  try {
    return await deps.db.$transaction(
      async (tx) => {
        if (n.idNumberHash) {
          const dup = await duplicateFacts(tx, {
            campaignId: n.campaignId,
            idHash: n.idNumberHash,
            excludeId: n.id,
          });
          if (dup.blocking)
            throw new DomainError('nomination_duplicate', {
              union: dup.blocking.unionName,
              status: dup.blocking.status,
            });
          if (dup.earlier.length > 0) flags.add('earlier_campaign');
        }
        const quota = await quotaRemaining(tx, {
          unionId: n.unionId,
          categoryId: cat.id,
          quota: cat.quotaPerUnion,
          excludeId: n.id,
        });
        if (quota !== null && quota < 1)
          throw new DomainError('nomination_quota_full', { quota: cat.quotaPerUnion ?? 0 });
        const budget = await budgetRemaining(tx, {
          campaignId: n.campaignId,
          budgetFen: n.campaign.budgetTotalFen,
          excludeId: n.id,
        });
        if (budget < BigInt(cat.standardAmountFen))
          throw new DomainError('nomination_budget_exhausted', {
            remaining: formatYuan(Number(budget < 0n ? 0n : budget)),
          });
        if (cat.yearlyCapFen !== null && n.idNumberHash) {
          const year = Number(n.campaign.targetPaymentDate.toISOString().slice(0, 4));
          const already = await yearlyAmount(tx, { idHash: n.idNumberHash, year, excludeId: n.id });
          if (already + cat.standardAmountFen > cat.yearlyCapFen) {
            throw new DomainError('nomination_yearly_cap', {
              cap: formatYuan(cat.yearlyCapFen),
              already: formatYuan(already),
            });
          }
        }
        const revision = n.revision + 1;
        const flagList = [...flags].sort();
        const res = await tx.nomination.updateMany({
          where: { id: n.id, version: n.version },
          data: {
            status: 'submitted',
            revision,
            version: { increment: 1 },
            amountFen: cat.standardAmountFen,
            flags: flagList,
            submittedAt: now,
            dedupKey: n.idNumberHash ? `${n.campaignId}:${n.idNumberHash}` : null,
            draftExpiresAt: null,
            draftStep: null,
          },
        });
        if (res.count === 0) throw new DomainError('nomination_changed');
        const snapshot = revisionSnapshot(n, cat, flagList);
        await tx.nominationRevision.create({
          data: { nominationId: n.id, revision, snapshot, createdById: input.personId },
        });
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
            amountFen: cat.standardAmountFen,
            flags: flagList,
            idNumber: n.idNumberEnc ? maskIdNumber(deps.cipher.decrypt(n.idNumberEnc)) : null,
          },
        });
        return { id: n.id, revision, flags: flagList, amountFen: cat.standardAmountFen };
      },
      { isolationLevel: 'Serializable' },
    );
  } catch (err) {
    if (uniqueViolation(err)) {
      const dup = n.idNumberHash
        ? await duplicateFacts(deps.db, { campaignId: n.campaignId, idHash: n.idNumberHash, excludeId: n.id })
        : undefined;
      throw new DomainError('nomination_duplicate', {
        union: dup?.blocking?.unionName ?? '-',
        status: dup?.blocking?.status ?? 'submitted',
      });
    }
    throw err;
  }
}

/** A contact withdraws a nomination that has not been decided yet; the person may be nominated again. */
export async function withdrawNomination(
  deps: NominationDeps,
  input: { personId: number; nominationId: number },
): Promise<void> {
  await deps.db.$transaction(async (tx) => {
    const n = await tx.nomination.findFirst({
      where: { id: input.nominationId, submittedById: input.personId },
    });
    if (!n) throw new DomainError('nomination_not_found');
    const res = await tx.nomination.updateMany({
      where: { id: n.id, version: n.version, status: { in: ['submitted', 'returned'] } },
      data: { status: 'withdrawn', dedupKey: null, version: { increment: 1 } },
    });
    if (res.count === 0) throw new DomainError('nomination_not_withdrawable', { status: n.status });
    await audit(tx, {
      actorId: input.personId,
      action: 'nomination.withdraw',
      entity: 'nomination',
      entityId: n.id,
      before: { status: n.status },
      after: { status: 'withdrawn' },
    });
  });
}
