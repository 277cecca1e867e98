import type { FieldCipher } from '../../src/adapters/crypto/field-cipher.ts';
import type { PrismaClient } from '../../src/generated/prisma/client.ts';
import { makeId } from './fixtures.ts';

// Submitted nominations written directly (as the dialog would leave them), for review tests and the bench.

let seq = 0;

export async function seedSubmitted(
  db: PrismaClient,
  cipher: FieldCipher,
  opts: {
    campaignId: number;
    categoryId: number;
    unionId: number;
    submittedById: number;
    amountFen: number;
    flags?: string[];
    name?: string;
    phone?: string;
    submittedAt?: Date;
  },
) {
  seq++;
  const id = makeId('19700101', (seq % 900) + 1, String(110101 + Math.floor(seq / 900)));
  const phone = opts.phone ?? `138${String(10_000_000 + seq).slice(-8)}`;
  const idHash = cipher.hash('id', id);
  const data = {
    campaignId: opts.campaignId,
    categoryId: opts.categoryId,
    unionId: opts.unionId,
    submittedById: opts.submittedById,
    status: 'submitted' as const,
    revision: 1,
    version: 1,
    fullName: opts.name ?? `职工${seq}`,
    idNumberEnc: cipher.encrypt(id),
    idNumberHash: idHash,
    dedupKey: `${opts.campaignId}:${idHash}`,
    birthDate: new Date('1970-01-01T00:00:00Z'),
    sex: 'male' as const,
    phoneEnc: cipher.encrypt(phone),
    phoneHash: cipher.hash('phone', phone),
    employer: '县环卫所',
    benefitForm: 'in_kind' as const,
    amountFen: opts.amountFen,
    flags: opts.flags ?? [],
    draftAnswered: ['category', 'name', 'id_number', 'phone', 'employer'],
    submittedAt: opts.submittedAt ?? new Date(),
  };
  const n = await db.nomination.create({ data });
  await db.nominationRevision.create({
    data: {
      nominationId: n.id,
      revision: 1,
      createdById: opts.submittedById,
      snapshot: {
        categoryId: opts.categoryId,
        fullName: data.fullName,
        idNumberEnc: data.idNumberEnc,
        birthDate: '1970-01-01',
        sex: 'male',
        phoneEnc: data.phoneEnc,
        employer: data.employer,
        benefitForm: 'in_kind',
        amountFen: opts.amountFen,
        flags: data.flags,
      },
    },
  });
  return n;
}

/** Grants a federation-wide staff role to a Telegram user (creating the person if needed). */
export async function grantStaff(
  db: PrismaClient,
  telegramId: number,
  role: 'reviewer' | 'admin',
  name: string,
) {
  const p = await db.person.upsert({
    where: { telegramId: BigInt(telegramId) },
    create: { telegramId: BigInt(telegramId), displayName: name },
    update: {},
  });
  await db.roleGrant.upsert({
    where: { personId_role_scope: { personId: p.id, role, scope: '' } },
    create: { personId: p.id, role, scope: '' },
    update: { revokedAt: null },
  });
  return p;
}
