import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FieldCipher } from '../../src/adapters/crypto/field-cipher.ts';
import { rotateDataKeys } from '../../src/usecases/keys.ts';
import { makeId, seedCampaign, seedContact } from '../support/fixtures.ts';
import { useTestDatabase } from '../support/test-db.ts';

// Finding 6 (issue 12): a leaked key must be retirable. Before, the look-up hash (and the button MAC)
// came from the oldest key forever. After `rotateDataKeys`, a cipher holding ONLY the new key reads every
// field and finds every duplicate; the old key is no longer needed for anything.

const { db } = useTestDatabase();

describe('data key rotation', () => {
  it('re-encrypts and re-hashes everything with the new key; the leaked key can then be dropped', async () => {
    const leaked = { version: 1, key: randomBytes(32) };
    const fresh = { version: 2, key: randomBytes(32) };
    const old = new FieldCipher([leaked]);
    const campaign = await seedCampaign(db, {
      code: 'rotate',
      categories: [{ code: 'needy', kind: 'needy_worker', nameZh: '困难职工', amountYuan: 1000 }],
    });
    const c = await seedContact(db, 770_001, '轮换工会');
    const id = makeId('19800101', 7);
    const n = await db.nomination.create({
      data: {
        campaignId: campaign.id,
        unionId: c.union.id,
        submittedById: c.person.id,
        status: 'submitted',
        idNumberEnc: old.encrypt(id),
        idNumberHash: old.hash('id', id),
        dedupKey: `${campaign.id}:${old.hash('id', id)}`,
        phoneEnc: old.encrypt('13800001111'),
        phoneHash: old.hash('phone', '13800001111'),
        bankCardEnc: old.encrypt('6222480012345678901'),
        bankName: '中国农业银行',
        benefitForm: 'transfer',
        amountFen: 80_000,
      },
    });
    await db.nominationRevision.create({
      data: {
        nominationId: n.id,
        revision: 1,
        createdById: c.person.id,
        snapshot: { idNumberEnc: old.encrypt(id), phoneEnc: old.encrypt('13800001111'), fullName: 'x' },
      },
    });
    await db.invite.create({
      data: {
        codeHash: old.hash('invite', 'abc'),
        unionId: c.union.id,
        createdById: c.person.id,
        expiresAt: new Date(Date.now() + 86_400_000),
      },
    });

    const r = await rotateDataKeys(
      db,
      new FieldCipher([fresh, leaked]),
      new FieldCipher([fresh, leaked], 2),
      {
        now: new Date(),
      },
    );
    expect(r).toMatchObject({ nominations: 1, snapshots: 1, invitesExpired: 1 });

    const only = new FieldCipher([fresh], 2);
    const row = await db.nomination.findUniqueOrThrow({ where: { id: n.id } });
    expect(only.decrypt(row.idNumberEnc!)).toBe(id);
    // Rotation also fills the card's keyed hash (nominations stored before it existed get one here).
    expect(row.bankCardHash).toBe(only.hash('card', '6222480012345678901'));
    expect(only.decrypt(row.phoneEnc!)).toBe('13800001111');
    expect(only.decrypt(row.bankCardEnc!)).toBe('6222480012345678901');
    expect(row.idNumberHash).toBe(only.hash('id', id));
    expect(row.phoneHash).toBe(only.hash('phone', '13800001111'));
    expect(row.dedupKey).toBe(`${campaign.id}:${only.hash('id', id)}`);
    const snap = (await db.nominationRevision.findFirstOrThrow({ where: { nominationId: n.id } }))
      .snapshot as Record<string, string>;
    expect(only.decrypt(snap['idNumberEnc']!)).toBe(id);
    expect(snap['fullName']).toBe('x');
    // The leaked key is useless against the new hashes.
    expect(row.idNumberHash).not.toBe(old.hash('id', id));
    expect(await db.auditLog.count({ where: { action: 'keys.rotated' } })).toBe(1);
  });
});
