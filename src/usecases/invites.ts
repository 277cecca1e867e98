import type { FieldCipher } from '../adapters/crypto/field-cipher.ts';
import { randomToken } from '../adapters/crypto/field-cipher.ts';
import type { Db } from '../adapters/db/client.ts';
import { DomainError } from '../domain/errors.ts';
import { audit } from './audit.ts';

// Invites are deep links https://t.me/<bot>?start=inv_<code>. The code is 24 random base64url
// characters (144 bits); only its keyed hash is stored, so a database leak does not leak live links.

export const INVITE_PREFIX = 'inv_';
const CODE_RE = /^[A-Za-z0-9_-]{24}$/;

export async function createInvite(
  db: Db,
  cipher: FieldCipher,
  input: { actorId: number; unionId: number; maxUses: number; ttlDays: number; now?: Date },
): Promise<{ code: string; payload: string; expiresAt: Date; unionName: string }> {
  if (!Number.isInteger(input.maxUses) || input.maxUses < 1 || input.maxUses > 50) {
    throw new DomainError('invite_uses_invalid', { max: 50 });
  }
  const union = await db.union.findFirst({ where: { id: input.unionId, active: true } });
  if (!union) throw new DomainError('union_not_found', { id: input.unionId });
  const code = randomToken(18);
  const now = input.now ?? new Date();
  const expiresAt = new Date(now.getTime() + input.ttlDays * 86_400_000);
  await db.$transaction(async (tx) => {
    const invite = await tx.invite.create({
      data: {
        codeHash: cipher.hash('invite', code),
        unionId: union.id,
        createdById: input.actorId,
        expiresAt,
        maxUses: input.maxUses,
      },
    });
    await audit(tx, {
      actorId: input.actorId,
      action: 'invite.create',
      entity: 'invite',
      entityId: invite.id,
      after: { unionId: union.id, maxUses: input.maxUses, expiresAt: expiresAt.toISOString() },
    });
  });
  return { code, payload: INVITE_PREFIX + code, expiresAt, unionName: union.name };
}

export type InviteCheck =
  | { ok: true; inviteId: number; unionId: number; unionName: string; alreadyMember: boolean }
  | { ok: false; reason: 'unknown' | 'expired' | 'used' | 'revoked' };

export async function checkInvite(
  db: Db,
  cipher: FieldCipher,
  code: string,
  personId: number,
  now = new Date(),
): Promise<InviteCheck> {
  if (!CODE_RE.test(code)) return { ok: false, reason: 'unknown' };
  return checkInviteWhere(db, { codeHash: cipher.hash('invite', code) }, personId, now);
}

/** The same check by invite id: the confirm step keeps the id in the session, never the code. */
export async function checkInviteById(
  db: Db,
  inviteId: number,
  personId: number,
  now = new Date(),
): Promise<InviteCheck> {
  // A session written before the id was kept there (it held the code) has no usable id.
  if (!Number.isSafeInteger(inviteId) || inviteId <= 0) return { ok: false, reason: 'unknown' };
  return checkInviteWhere(db, { id: inviteId }, personId, now);
}

async function checkInviteWhere(
  db: Db,
  where: { codeHash: string } | { id: number },
  personId: number,
  now: Date,
): Promise<InviteCheck> {
  const invite = await db.invite.findUnique({ where, include: { union: true } });
  if (!invite) return { ok: false, reason: 'unknown' };
  if (invite.revokedAt) return { ok: false, reason: 'revoked' };
  if (invite.expiresAt <= now) return { ok: false, reason: 'expired' };
  const member = await db.roleGrant.findFirst({
    where: { personId, role: 'contact', unionId: invite.unionId, revokedAt: null },
  });
  if (invite.uses >= invite.maxUses && !member) return { ok: false, reason: 'used' };
  return {
    ok: true,
    inviteId: invite.id,
    unionId: invite.unionId,
    unionName: invite.union.name,
    alreadyMember: member !== null,
  };
}

/**
 * Binds the person to the invite's union as its contact. The use counter is taken with a guarded
 * update, so two people racing for the last use of a single-use link cannot both win.
 */
export async function redeemInvite(db: Db, inviteId: number, personId: number, now = new Date()) {
  const check = await checkInviteById(db, inviteId, personId, now);
  if (!check.ok) throw new DomainError(`invite_${check.reason}`);
  if (check.alreadyMember) return { unionName: check.unionName, unionId: check.unionId, changed: false };
  return db.$transaction(async (tx) => {
    const taken = await tx.invite.updateMany({
      where: {
        id: check.inviteId,
        revokedAt: null,
        expiresAt: { gt: now },
        uses: { lt: tx.invite.fields.maxUses },
      },
      data: { uses: { increment: 1 } },
    });
    if (taken.count === 0) throw new DomainError('invite_used');
    await tx.inviteRedemption.create({ data: { inviteId: check.inviteId, personId } });
    const scope = `union:${check.unionId}`;
    await tx.roleGrant.upsert({
      where: { personId_role_scope: { personId, role: 'contact', scope } },
      create: { personId, role: 'contact', scope, unionId: check.unionId },
      update: { revokedAt: null, revokedById: null, grantedAt: now },
    });
    await audit(tx, {
      actorId: personId,
      action: 'invite.redeem',
      entity: 'invite',
      entityId: check.inviteId,
      after: { unionId: check.unionId, role: 'contact' },
    });
    return { unionName: check.unionName, unionId: check.unionId, changed: true };
  });
}
