import { DomainError } from '../../domain/errors.ts';
import { audit } from '../audit.ts';
import type { NominationDeps } from './shared.ts';

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
