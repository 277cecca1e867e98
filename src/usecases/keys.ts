import type { FieldCipher } from '../adapters/crypto/field-cipher.ts';
import type { Db } from '../adapters/db/client.ts';
import { audit } from './audit.ts';

// Key rotation that can retire a leaked key (issue 12, finding 6). Encrypted fields carry their key
// version, so they only need re-encrypting; look-up hashes (duplicates, shared phones) and button MACs
// are keyed by ONE key version, so retiring that key means re-computing every hash from the decrypted
// value. Hashes of secrets we never stored in clear (invite codes, recipient-link tokens, a person's own
// phone) cannot be re-computed: those invitations and links are expired (staff issue new ones) and the
// person's phone hash is cleared. Run with the bot and worker stopped (`npm run keys -- rotate`).

const PAGE = 500;
const ENC_FIELDS = ['idNumberEnc', 'phoneEnc', 'bankCardEnc'] as const;

export interface RotationResult {
  nominations: number;
  snapshots: number;
  invitesExpired: number;
  linksExpired: number;
  personPhonesCleared: number;
}

/** Re-encrypts with `to`'s current key and re-hashes with `to`'s hash key; `from` reads the old values. */
export async function rotateDataKeys(
  db: Db,
  from: FieldCipher,
  to: FieldCipher,
  input: { now: Date; actorId?: number | null },
): Promise<RotationResult> {
  const r: RotationResult = {
    nominations: 0,
    snapshots: 0,
    invitesExpired: 0,
    linksExpired: 0,
    personPhonesCleared: 0,
  };
  const again = (v: string | null) => (v ? to.encrypt(from.decrypt(v)) : v);
  const hashOf = (kind: 'id' | 'phone' | 'card', enc: string | null) =>
    enc ? to.hash(kind, from.decrypt(enc)) : null;

  for (let after = 0; ; ) {
    const page = await db.nomination.findMany({
      where: { id: { gt: after } },
      orderBy: { id: 'asc' },
      take: PAGE,
      select: {
        id: true,
        campaignId: true,
        idNumberEnc: true,
        phoneEnc: true,
        bankCardEnc: true,
        dedupKey: true,
      },
    });
    if (page.length === 0) break;
    await db.$transaction(async (tx) => {
      for (const n of page) {
        const idHash = hashOf('id', n.idNumberEnc);
        await tx.nomination.update({
          where: { id: n.id },
          data: {
            idNumberEnc: again(n.idNumberEnc),
            idNumberHash: idHash,
            phoneEnc: again(n.phoneEnc),
            phoneHash: hashOf('phone', n.phoneEnc),
            bankCardEnc: again(n.bankCardEnc),
            bankCardHash: hashOf('card', n.bankCardEnc),
            dedupKey: n.dedupKey && idHash ? `${n.campaignId}:${idHash}` : n.dedupKey,
          },
        });
      }
    });
    r.nominations += page.length;
    after = page[page.length - 1]!.id;
  }

  for (let after = 0; ; ) {
    const page = await db.nominationRevision.findMany({
      where: { id: { gt: after } },
      orderBy: { id: 'asc' },
      take: PAGE,
      select: { id: true, snapshot: true },
    });
    if (page.length === 0) break;
    await db.$transaction(async (tx) => {
      for (const rev of page) {
        const snap = { ...(rev.snapshot as Record<string, unknown>) };
        let changed = false;
        for (const f of ENC_FIELDS) {
          if (typeof snap[f] === 'string' && snap[f]) {
            snap[f] = again(snap[f] as string);
            changed = true;
          }
        }
        if (changed)
          await tx.nominationRevision.update({ where: { id: rev.id }, data: { snapshot: snap as never } });
      }
    });
    r.snapshots += page.length;
    after = page[page.length - 1]!.id;
  }

  await db.$transaction(async (tx) => {
    r.invitesExpired = (
      await tx.invite.updateMany({
        where: { revokedAt: null, expiresAt: { gt: input.now } },
        data: { expiresAt: input.now },
      })
    ).count;
    r.linksExpired = (
      await tx.recipientLink.updateMany({
        where: { boundPersonId: null, expiresAt: { gt: input.now } },
        data: { expiresAt: input.now },
      })
    ).count;
    r.personPhonesCleared = (
      await tx.person.updateMany({ where: { phoneHash: { not: null } }, data: { phoneHash: null } })
    ).count;
    await audit(tx, {
      actorId: input.actorId ?? null,
      action: 'keys.rotated',
      entity: 'installation',
      entityId: 'data_key',
      after: { encryptionKeyVersion: to.currentVersion, ...r },
    });
  });
  return r;
}
