import { randomToken } from '../../adapters/crypto/field-cipher.ts';
import type { FieldCipher } from '../../adapters/crypto/field-cipher.ts';
import type { Db } from '../../adapters/db/client.ts';
import { DomainError } from '../../domain/errors.ts';
import { maskName } from '../../domain/masking.ts';
import { audit } from '../audit.ts';
import { openFollowUp, RECEIPT_ACTIONS } from './followups.ts';

// Personal deep links for recipients: `/start rcp_<token>` (unguessable, 24 random characters, only a
// keyed hash stored, expiring). Opening it asks for the last 6 characters of the ID number; 5 wrong answers
// lock the link and staff get a `link_locked` follow-up. A right answer binds the chat to the record (and
// grants the `recipient` role). A recipient only ever sees nominations whose recipientId is their own.

export const LINK_PREFIX = 'rcp_';
export const MAX_ATTEMPTS = 5;
export const DEFAULT_LINK_TTL_DAYS = 60;

export interface RecipientDeps {
  db: Db;
  cipher: FieldCipher;
  now: () => Date;
}

const LINKABLE = ['approved', 'in_batch', 'paid', 'payment_failed', 'handed_over'] as const;

export async function createRecipientLink(
  deps: RecipientDeps,
  input: { nominationId: number; actorId: number; ttlDays?: number },
): Promise<{ token: string; payload: string; expiresAt: Date }> {
  const n = await deps.db.nomination.findUnique({ where: { id: input.nominationId } });
  if (!n || !(LINKABLE as readonly string[]).includes(n.status))
    throw new DomainError('recipient_link_not_approved', { id: input.nominationId });
  if (!n.idNumberEnc) throw new DomainError('recipient_link_no_id', { id: n.id });
  const token = randomToken(18);
  const expiresAt = new Date(deps.now().getTime() + (input.ttlDays ?? DEFAULT_LINK_TTL_DAYS) * 86_400_000);
  await deps.db.$transaction(async (tx) => {
    const link = await tx.recipientLink.create({
      data: { nominationId: n.id, tokenHash: deps.cipher.hash('link', token), expiresAt },
    });
    await audit(tx, {
      actorId: input.actorId,
      action: 'recipient_link.created',
      entity: 'nomination',
      entityId: n.id,
      after: { linkId: link.id, expiresAt: expiresAt.toISOString() },
    });
  });
  return { token, payload: `${LINK_PREFIX}${token}`, expiresAt };
}

export type LinkCheck =
  | { ok: true; linkId: number; nominationId: number; nameMasked: string; alreadyBound: boolean }
  | { ok: false; reason: 'not_found' | 'expired' | 'locked' | 'bound_other' };

export async function checkRecipientLink(
  deps: RecipientDeps,
  token: string,
  personId: number,
): Promise<LinkCheck> {
  if (!/^[A-Za-z0-9_-]{10,60}$/.test(token)) return { ok: false, reason: 'not_found' };
  const link = await deps.db.recipientLink.findUnique({
    where: { tokenHash: deps.cipher.hash('link', token) },
    include: { nomination: { select: { fullName: true, recipientId: true } } },
  });
  if (!link) return { ok: false, reason: 'not_found' };
  if (link.boundPersonId !== null && link.boundPersonId !== personId)
    return { ok: false, reason: 'bound_other' };
  if (link.boundPersonId === personId)
    return {
      ok: true,
      linkId: link.id,
      nominationId: link.nominationId,
      nameMasked: maskName(link.nomination.fullName ?? ''),
      alreadyBound: true,
    };
  if (link.lockedAt) return { ok: false, reason: 'locked' };
  if (link.expiresAt <= deps.now()) return { ok: false, reason: 'expired' };
  return {
    ok: true,
    linkId: link.id,
    nominationId: link.nominationId,
    nameMasked: maskName(link.nomination.fullName ?? ''),
    alreadyBound: false,
  };
}

export type VerifyResult =
  | { ok: true; nominationId: number }
  | { ok: false; reason: 'wrong'; attemptsLeft: number }
  | { ok: false; reason: 'locked' | 'not_found' | 'expired' | 'bound_other' };

const norm6 = (s: string) =>
  s
    .replace(/[\uFF10-\uFF19]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
    .replace(/\s/g, '')
    .toUpperCase();

export async function verifyRecipientLink(
  deps: RecipientDeps,
  input: { token: string; personId: number; idLast6: string },
): Promise<VerifyResult> {
  const check = await checkRecipientLink(deps, input.token, input.personId);
  if (!check.ok) return check;
  if (check.alreadyBound) return { ok: true, nominationId: check.nominationId };
  // Count the try BEFORE comparing, atomically and only while tries are left: answers sent at once
  // (several chats, several processes) can never evaluate more than MAX_ATTEMPTS.
  const counted = await deps.db.recipientLink
    .update({
      where: { id: check.linkId, lockedAt: null, boundPersonId: null, failedAttempts: { lt: MAX_ATTEMPTS } },
      data: { failedAttempts: { increment: 1 } },
      select: { failedAttempts: true },
    })
    .catch((err: unknown) => {
      if ((err as { code?: unknown }).code === 'P2025') return null; // no try left (or just bound)
      throw err;
    });
  if (!counted) return { ok: false, reason: 'locked' };
  const n = await deps.db.nomination.findUniqueOrThrow({ where: { id: check.nominationId } });
  const id = n.idNumberEnc ? deps.cipher.decrypt(n.idNumberEnc) : '';
  const answer = norm6(input.idLast6);
  if (answer.length === 6 && id.length >= 6 && id.slice(-6).toUpperCase() === answer) {
    return deps.db.$transaction(async (tx) => {
      const bound = await tx.recipientLink.updateMany({
        where: { id: check.linkId, boundPersonId: null, lockedAt: null },
        // The right answer does not count as a failed try.
        data: { boundPersonId: input.personId, boundAt: deps.now(), failedAttempts: { decrement: 1 } },
      });
      if (bound.count === 0) return { ok: false as const, reason: 'bound_other' as const };
      await tx.nomination.update({ where: { id: n.id }, data: { recipientId: input.personId } });
      const grant = await tx.roleGrant.findUnique({
        where: { personId_role_scope: { personId: input.personId, role: 'recipient', scope: '' } },
      });
      if (!grant)
        await tx.roleGrant.create({ data: { personId: input.personId, role: 'recipient', scope: '' } });
      else if (grant.revokedAt)
        await tx.roleGrant.update({ where: { id: grant.id }, data: { revokedAt: null, revokedById: null } });
      await audit(tx, {
        actorId: input.personId,
        action: 'recipient_link.bound',
        entity: 'nomination',
        entityId: n.id,
        after: { linkId: check.linkId },
      });
      return { ok: true as const, nominationId: n.id };
    });
  }
  const updated = counted;
  if (updated.failedAttempts >= MAX_ATTEMPTS) {
    const locked = await deps.db.recipientLink.updateMany({
      where: { id: check.linkId, lockedAt: null },
      data: { lockedAt: deps.now() },
    });
    if (locked.count > 0) {
      await deps.db.$transaction(async (tx) =>
        audit(tx, {
          actorId: input.personId,
          action: 'recipient_link.locked',
          entity: 'nomination',
          entityId: n.id,
          after: { linkId: check.linkId, attempts: updated.failedAttempts },
        }),
      );
      await openFollowUp(deps.db, n.id, 'link_locked');
    }
    return { ok: false, reason: 'locked' };
  }
  return { ok: false, reason: 'wrong', attemptsLeft: MAX_ATTEMPTS - updated.failedAttempts };
}

export interface RecipientRecord {
  id: number;
  status: string;
  campaignZh: string;
  campaignEn: string;
  organiser: string;
  amountFen: number | null;
  benefitForm: string | null;
  bankCardLast4: string | null;
  paidAt: Date | null;
  handedOverOn: Date | null;
}

export async function listRecipientRecords(
  deps: RecipientDeps,
  personId: number,
): Promise<RecipientRecord[]> {
  const rows = await deps.db.nomination.findMany({
    where: { recipientId: personId },
    orderBy: { id: 'asc' },
    take: 20,
    include: { campaign: true, payments: { where: { status: 'paid' } }, handovers: true },
  });
  return rows.map((n) => ({
    id: n.id,
    status: n.status,
    campaignZh: n.campaign.titleZh,
    campaignEn: n.campaign.titleEn,
    organiser: n.campaign.organiser,
    amountFen: n.payments[0]?.amountFen ?? n.amountFen,
    benefitForm: n.benefitForm,
    bankCardLast4: n.bankCardLast4,
    paidAt: n.payments[0]?.paidAt ?? null,
    handedOverOn: n.handovers[0]?.handedOverOn ?? null,
  }));
}

/** One record, only if it is the person's own (anyone else's id looks like a missing record). */
export async function recipientRecord(
  deps: RecipientDeps,
  personId: number,
  nominationId: number,
): Promise<RecipientRecord | null> {
  const all = await listRecipientRecords(deps, personId);
  return all.find((r) => r.id === nominationId) ?? null;
}

/** The recipient's answer to a payment notice. "Not received" opens a follow-up for staff. */
export async function answerReceipt(
  deps: RecipientDeps,
  input: { personId: number; nominationId: number; received: boolean },
): Promise<'recorded' | 'already'> {
  const n = await deps.db.nomination.findUnique({ where: { id: input.nominationId } });
  if (!n || n.recipientId !== input.personId) throw new DomainError('nomination_not_found');
  const previous = await deps.db.auditLog.count({
    where: { entity: 'nomination', entityId: String(n.id), action: { in: [...RECEIPT_ACTIONS] } },
  });
  await deps.db.$transaction(async (tx) =>
    audit(tx, {
      actorId: input.personId,
      action: input.received ? 'receipt.received' : 'receipt.not_received',
      entity: 'nomination',
      entityId: n.id,
    }),
  );
  if (!input.received) await openFollowUp(deps.db, n.id, 'not_received');
  return previous > 0 ? 'already' : 'recorded';
}
