import { randomToken } from '../../adapters/crypto/field-cipher.ts';
import type { FieldCipher } from '../../adapters/crypto/field-cipher.ts';
import type { Db } from '../../adapters/db/client.ts';
import { DomainError } from '../../domain/errors.ts';
import { maskName } from '../../domain/masking.ts';
import { audit } from '../audit.ts';
import { openFollowUp, RECEIPT_ACTIONS } from './followups.ts';

// Personal deep links for recipients: `/start rcp_<token>` (unguessable, 24 random characters, only a
// keyed hash stored, expiring). Opening it asks for the last 6 characters of the ID number; a right answer
// binds the chat to the record (and grants the `recipient` role). A recipient only ever sees nominations
// whose recipientId is their own.
//
// A binding cannot be taken over (issue 12, finding 2):
// - a bound record is never rebound by a link: staff unbind first (`unbindRecipient`, audited, the
//   previous recipient told), and no link can be issued for a bound record;
// - issuing a link revokes the record's older links, and the tries carry over: 5 wrong answers per
//   RECORD, not per link; a locked record gets a new link only from admins or finance (who called the
//   person: the follow-up), which starts the count again, audited;
// - a try is claimed by one atomic conditional update BEFORE the answer is compared, so guesses sent at
//   once cannot beat the count;
// - the people who nominated or handle the record (its submitter, the union's contacts, its reviewers,
//   anyone who acted on it) can never bind it to themselves, whatever they answer.

export const LINK_PREFIX = 'rcp_';
export const MAX_ATTEMPTS = 5;
export const DEFAULT_LINK_TTL_DAYS = 60;

export interface RecipientDeps {
  db: Db;
  cipher: FieldCipher;
  now: () => Date;
}

const LINKABLE = ['approved', 'in_batch', 'paid', 'payment_failed', 'handed_over'] as const;
/** Audit actions a recipient (not a handler) is the actor of. */
const RECIPIENT_ACTIONS = ['recipient_link.bound', 'recipient_link.locked', ...RECEIPT_ACTIONS];

export async function createRecipientLink(
  deps: RecipientDeps,
  input: {
    nominationId: number;
    actorId: number;
    ttlDays?: number;
    /** Admins and finance: may give a locked record a new link (the count starts again). */
    mayUnlock?: boolean;
  },
): Promise<{ token: string; payload: string; expiresAt: Date }> {
  const n = await deps.db.nomination.findUnique({ where: { id: input.nominationId } });
  if (!n || !(LINKABLE as readonly string[]).includes(n.status))
    throw new DomainError('recipient_link_not_approved', { id: input.nominationId });
  if (!n.idNumberEnc) throw new DomainError('recipient_link_no_id', { id: n.id });
  if (n.recipientId !== null) throw new DomainError('recipient_link_bound', { id: n.id });
  const token = randomToken(18);
  const now = deps.now();
  const expiresAt = new Date(now.getTime() + (input.ttlDays ?? DEFAULT_LINK_TTL_DAYS) * 86_400_000);
  await deps.db.$transaction(async (tx) => {
    // Serialises link issuing per record (two at once would both carry the same count).
    await tx.$queryRaw`SELECT id FROM nomination WHERE id = ${n.id} FOR UPDATE`;
    const latest = await tx.recipientLink.findFirst({
      where: { nominationId: n.id, boundPersonId: null },
      orderBy: { id: 'desc' },
    });
    const locked = latest?.lockedAt != null;
    if (locked && !input.mayUnlock) throw new DomainError('recipient_link_locked', { id: n.id });
    const carried = locked ? 0 : (latest?.failedAttempts ?? 0);
    await tx.recipientLink.updateMany({
      where: { nominationId: n.id, boundPersonId: null, expiresAt: { gt: now } },
      data: { expiresAt: now },
    });
    const link = await tx.recipientLink.create({
      data: {
        nominationId: n.id,
        tokenHash: deps.cipher.hash('link', token),
        expiresAt,
        failedAttempts: carried,
      },
    });
    await audit(tx, {
      actorId: input.actorId,
      action: locked ? 'recipient_link.unlocked' : 'recipient_link.created',
      entity: 'nomination',
      entityId: n.id,
      after: { linkId: link.id, expiresAt: expiresAt.toISOString(), triesUsed: carried },
    });
  });
  return { token, payload: `${LINK_PREFIX}${token}`, expiresAt };
}

export type LinkCheck =
  | { ok: true; linkId: number; nominationId: number; nameMasked: string; alreadyBound: boolean }
  | { ok: false; reason: 'not_found' | 'expired' | 'locked' | 'bound_other' };

async function checkLink(
  deps: RecipientDeps,
  where: { tokenHash: string } | { id: number },
  personId: number,
): Promise<LinkCheck> {
  const link = await deps.db.recipientLink.findUnique({
    where,
    include: { nomination: { select: { fullName: true, recipientId: true } } },
  });
  if (!link) return { ok: false, reason: 'not_found' };
  const ok = (alreadyBound: boolean): LinkCheck => ({
    ok: true,
    linkId: link.id,
    nominationId: link.nominationId,
    nameMasked: maskName(link.nomination.fullName ?? ''),
    alreadyBound,
  });
  if (link.boundPersonId !== null) {
    // A link used for a binding that staff have since undone is spent.
    if (link.nomination.recipientId !== link.boundPersonId) return { ok: false, reason: 'expired' };
    return link.boundPersonId === personId ? ok(true) : { ok: false, reason: 'bound_other' };
  }
  if (link.nomination.recipientId !== null)
    return link.nomination.recipientId === personId ? ok(true) : { ok: false, reason: 'bound_other' };
  if (link.lockedAt) return { ok: false, reason: 'locked' };
  if (link.expiresAt <= deps.now()) return { ok: false, reason: 'expired' };
  return ok(false);
}

/** The link named by a deep-link token (only its hash is looked up). */
export async function checkRecipientLink(
  deps: RecipientDeps,
  token: string,
  personId: number,
): Promise<LinkCheck> {
  if (!/^[A-Za-z0-9_-]{10,60}$/.test(token)) return { ok: false, reason: 'not_found' };
  return checkLink(deps, { tokenHash: deps.cipher.hash('link', token) }, personId);
}

/** The same check by link id: the dialog keeps the id in the session, never the token. */
export async function checkRecipientLinkById(
  deps: RecipientDeps,
  linkId: number,
  personId: number,
): Promise<LinkCheck> {
  // A session written before the id was kept there (it held the token) has no usable id.
  if (!Number.isSafeInteger(linkId) || linkId <= 0) return { ok: false, reason: 'not_found' };
  return checkLink(deps, { id: linkId }, personId);
}

export type VerifyResult =
  | { ok: true; nominationId: number }
  | { ok: false; reason: 'wrong'; attemptsLeft: number }
  | { ok: false; reason: 'locked' | 'not_found' | 'expired' | 'bound_other' | 'handler' };

const norm6 = (s: string) =>
  s
    .replace(/[\uFF10-\uFF19]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
    .replace(/\s/g, '')
    .toUpperCase();

/** People who nominated or handle a record: they may never bind it to themselves. */
export async function recordHandlers(db: Db, nominationId: number): Promise<Set<number>> {
  const n = await db.nomination.findUniqueOrThrow({
    where: { id: nominationId },
    select: { submittedById: true, unionId: true },
  });
  const [contacts, decisions, actors] = await Promise.all([
    db.roleGrant.findMany({ where: { role: 'contact', unionId: n.unionId }, select: { personId: true } }),
    db.reviewDecision.findMany({ where: { nominationId }, select: { reviewerId: true } }),
    db.auditLog.findMany({
      where: { entity: 'nomination', entityId: String(nominationId), action: { notIn: RECIPIENT_ACTIONS } },
      select: { actorId: true },
      distinct: ['actorId'],
    }),
  ]);
  return new Set([
    n.submittedById,
    ...contacts.map((c) => c.personId),
    ...decisions.map((d) => d.reviewerId),
    ...actors.flatMap((a) => (a.actorId === null ? [] : [a.actorId])),
  ]);
}

async function lockRecord(deps: RecipientDeps, linkId: number, nominationId: number, personId: number) {
  const locked = await deps.db.recipientLink.updateMany({
    where: { id: linkId, lockedAt: null },
    data: { lockedAt: deps.now() },
  });
  if (locked.count === 0) return;
  await deps.db.$transaction(async (tx) =>
    audit(tx, {
      actorId: personId,
      action: 'recipient_link.locked',
      entity: 'nomination',
      entityId: nominationId,
      after: { linkId, attempts: MAX_ATTEMPTS },
    }),
  );
  await openFollowUp(deps.db, nominationId, 'link_locked');
}

export async function verifyRecipientLink(
  deps: RecipientDeps,
  input: { linkId: number; personId: number; idLast6: string },
): Promise<VerifyResult> {
  const check = await checkRecipientLinkById(deps, input.linkId, input.personId);
  if (!check.ok) return check;
  if (check.alreadyBound) return { ok: true, nominationId: check.nominationId };
  if ((await recordHandlers(deps.db, check.nominationId)).has(input.personId))
    return { ok: false, reason: 'handler' };
  // Claim one try atomically BEFORE comparing: guesses sent at once each need a row update that only
  // succeeds while tries remain.
  const claimed = await deps.db.$queryRaw<{ failed_attempts: number }[]>`
    UPDATE recipient_link SET failed_attempts = failed_attempts + 1
    WHERE id = ${check.linkId} AND locked_at IS NULL AND bound_person_id IS NULL
      AND expires_at > ${deps.now()} AND failed_attempts < ${MAX_ATTEMPTS}
    RETURNING failed_attempts`;
  const used = claimed[0]?.failed_attempts;
  if (used === undefined) {
    const again = await checkRecipientLinkById(deps, input.linkId, input.personId);
    if (!again.ok) return again;
    if (again.alreadyBound) return { ok: true, nominationId: again.nominationId };
    // No try left: the guess that used the last one locks the record (or binds it, if it was right).
    return { ok: false, reason: 'locked' };
  }
  const n = await deps.db.nomination.findUniqueOrThrow({ where: { id: check.nominationId } });
  const id = n.idNumberEnc ? deps.cipher.decrypt(n.idNumberEnc) : '';
  const answer = norm6(input.idLast6);
  if (answer.length === 6 && id.length >= 6 && id.slice(-6).toUpperCase() === answer) {
    return deps.db
      .$transaction(async (tx) => {
        const bound = await tx.recipientLink.updateMany({
          where: { id: check.linkId, boundPersonId: null, lockedAt: null },
          data: { boundPersonId: input.personId, boundAt: deps.now(), failedAttempts: { decrement: 1 } },
        });
        if (bound.count === 0) return { ok: false as const, reason: 'bound_other' as const };
        // Never overwrite an existing binding: staff unbind first.
        const taken = await tx.nomination.updateMany({
          where: { id: n.id, recipientId: null },
          data: { recipientId: input.personId },
        });
        if (taken.count === 0) throw new DomainError('recipient_link_bound', { id: n.id });
        const grant = await tx.roleGrant.findUnique({
          where: { personId_role_scope: { personId: input.personId, role: 'recipient', scope: '' } },
        });
        if (!grant)
          await tx.roleGrant.create({ data: { personId: input.personId, role: 'recipient', scope: '' } });
        else if (grant.revokedAt)
          await tx.roleGrant.update({
            where: { id: grant.id },
            data: { revokedAt: null, revokedById: null },
          });
        await audit(tx, {
          actorId: input.personId,
          action: 'recipient_link.bound',
          entity: 'nomination',
          entityId: n.id,
          after: { linkId: check.linkId },
        });
        return { ok: true as const, nominationId: n.id };
      })
      .catch((err: unknown) => {
        if (err instanceof DomainError) return { ok: false as const, reason: 'bound_other' as const };
        throw err;
      });
  }
  if (used >= MAX_ATTEMPTS) {
    await lockRecord(deps, check.linkId, n.id, input.personId);
    return { ok: false, reason: 'locked' };
  }
  return { ok: false, reason: 'wrong', attemptsLeft: MAX_ATTEMPTS - used };
}

/**
 * Staff undo a binding (a wrong person bound, a phone changed hands): the record is free for a new link,
 * every link of it is spent, the audit row keeps who was bound, and the caller tells that person.
 */
export async function unbindRecipient(
  deps: RecipientDeps,
  input: { nominationId: number; actorId: number },
): Promise<{ previous: { personId: number; telegramId: bigint | null; locale: string | null } }> {
  return deps.db.$transaction(async (tx) => {
    const n = await tx.nomination.findUnique({
      where: { id: input.nominationId },
      select: { id: true, recipientId: true, recipient: { select: { telegramId: true, locale: true } } },
    });
    if (!n) throw new DomainError('nomination_not_found', { id: input.nominationId });
    if (n.recipientId === null || !n.recipient) throw new DomainError('recipient_not_bound', { id: n.id });
    const res = await tx.nomination.updateMany({
      where: { id: n.id, recipientId: n.recipientId },
      data: { recipientId: null },
    });
    if (res.count === 0) throw new DomainError('recipient_not_bound', { id: n.id });
    await tx.recipientLink.updateMany({
      where: { nominationId: n.id, expiresAt: { gt: deps.now() } },
      data: { expiresAt: deps.now() },
    });
    await audit(tx, {
      actorId: input.actorId,
      action: 'recipient.unbound',
      entity: 'nomination',
      entityId: n.id,
      before: { recipientId: n.recipientId },
      after: { recipientId: null },
    });
    return {
      previous: { personId: n.recipientId, telegramId: n.recipient.telegramId, locale: n.recipient.locale },
    };
  });
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
