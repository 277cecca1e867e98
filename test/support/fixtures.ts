import type { PrismaClient } from '../../src/generated/prisma/client.ts';
import { idCheckChar } from '../../src/domain/identity/id-number.ts';
import { defaultRequiredFields } from '../../src/domain/campaign/vocab.ts';

// Rows for tests, written with Prisma directly (campaign files have their own tests).

export interface CategorySeed {
  code: string;
  kind: 'department' | 'needy_worker' | 'needy_model_worker' | 'gig_worker' | 'frontline_worker' | 'other';
  nameZh: string;
  nameEn?: string;
  amountYuan: number;
  forms?: ('transfer' | 'in_kind' | 'unit_condolence')[];
  required?: string[];
  quota?: number;
  yearlyCapYuan?: number;
}

export async function seedCampaign(
  db: PrismaClient,
  opts: { code?: string; budgetYuan?: number; categories: CategorySeed[]; opensAt?: Date; closesAt?: Date },
) {
  const federation =
    (await db.federation.findFirst()) ?? (await db.federation.create({ data: { name: '测试县总工会' } }));
  const now = Date.now();
  return db.campaign.create({
    data: {
      code: opts.code ?? `test-${now.toString(36)}`,
      federationId: federation.id,
      titleZh: '2026年春节送温暖活动（测试）',
      titleEn: 'Spring Festival 2026 Send Warmth (test)',
      organiser: '测试县总工会',
      status: 'open',
      budgetTotalFen: BigInt(Math.round((opts.budgetYuan ?? 150_000) * 100)),
      budgetUnionsFen: 0n,
      nominationOpensAt: opts.opensAt ?? new Date(now - 86_400_000),
      nominationClosesAt: opts.closesAt ?? new Date(now + 10 * 86_400_000),
      reviewDeadline: new Date(now + 15 * 86_400_000),
      targetPaymentDate: new Date(new Date(now + 20 * 86_400_000).toISOString().slice(0, 10)),
      categories: {
        create: opts.categories.map((c, i) => {
          const forms = c.forms ?? ['transfer'];
          const required = c.required ?? defaultRequiredFields(c.kind, forms);
          return {
            code: c.code,
            nameZh: c.nameZh,
            nameEn: c.nameEn ?? c.code,
            kind: c.kind,
            standardAmountFen: Math.round(c.amountYuan * 100),
            benefitForms: forms,
            requiredFields: required,
            quotaPerUnion: c.quota ?? null,
            yearlyCapFen: c.yearlyCapYuan ? c.yearlyCapYuan * 100 : null,
            sortOrder: i,
          };
        }),
      },
    },
    include: { categories: true },
  });
}

/** A union and a contact for it (RoleGrant with scope union:<id>). */
export async function seedContact(
  db: PrismaClient,
  telegramId: number,
  unionName: string,
  displayName = '联系人',
) {
  const federation =
    (await db.federation.findFirst()) ?? (await db.federation.create({ data: { name: '测试县总工会' } }));
  const union =
    (await db.union.findFirst({ where: { name: unionName } })) ??
    (await db.union.create({ data: { name: unionName, federationId: federation.id } }));
  const person = await db.person.upsert({
    where: { telegramId: BigInt(telegramId) },
    create: { telegramId: BigInt(telegramId), displayName },
    update: {},
  });
  await db.roleGrant.upsert({
    where: { personId_role_scope: { personId: person.id, role: 'contact', scope: `union:${union.id}` } },
    create: { personId: person.id, role: 'contact', scope: `union:${union.id}`, unionId: union.id },
    update: { revokedAt: null },
  });
  return { union, person };
}

/** A valid 18-character ID number for a birth date and sequence (check character computed). */
export function makeId(birth = '19800101', seq = 1, region = '110105'): string {
  const first17 = `${region}${birth}${String(seq).padStart(3, '0')}`;
  return first17 + idCheckChar(first17);
}

/** A card number that passes Luhn: `prefix` digits plus the check digit. */
export function makeCard(prefix = '622848001234567890'): string {
  let sum = 0;
  for (let i = 0; i < prefix.length; i++) {
    let d = Number(prefix[prefix.length - 1 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return prefix + String((10 - (sum % 10)) % 10);
}
