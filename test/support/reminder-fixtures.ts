// Rows for reminder tests, created directly with Prisma (campaign, unions, people with roles, nominations).
import type { PrismaClient } from '../../src/generated/prisma/client.ts';
import { parseShanghaiDateTime } from '../../src/domain/calendar/date.ts';

export const sh = (s: string): Date => parseShanghaiDateTime(s)!;

export async function federation(db: PrismaClient): Promise<number> {
  const f = await db.federation.create({ data: { name: '富民县总工会' } });
  return f.id;
}

export async function person(
  db: PrismaClient,
  telegramId: number,
  role: 'admin' | 'reviewer' | 'finance' | 'contact' | null,
  opts: { unionId?: number; name?: string; lang?: string } = {},
): Promise<number> {
  const p = await db.person.create({
    data: {
      telegramId: BigInt(telegramId),
      displayName: opts.name ?? `p${telegramId}`,
      telegramLanguage: opts.lang ?? 'zh-hans',
    },
  });
  if (role) {
    await db.roleGrant.create({
      data: {
        personId: p.id,
        role,
        scope: opts.unionId ? `union:${opts.unionId}` : '',
        unionId: opts.unionId ?? null,
      },
    });
  }
  return p.id;
}

export async function union(db: PrismaClient, federationId: number, name: string): Promise<number> {
  const u = await db.union.create({ data: { federationId, name } });
  return u.id;
}

export async function campaign(
  db: PrismaClient,
  federationId: number,
  t: { opens: Date; closes: Date; review: Date; payment: string; code?: string; settings?: object },
): Promise<number> {
  const c = await db.campaign.create({
    data: {
      code: t.code ?? `test-${Math.random().toString(36).slice(2, 8)}`,
      federationId,
      titleZh: '2026年春节送温暖活动',
      titleEn: '2026 Spring Festival Send Warmth campaign',
      organiser: '富民县总工会',
      status: 'open',
      budgetTotalFen: 15_000_000n,
      nominationOpensAt: t.opens,
      nominationClosesAt: t.closes,
      reviewDeadline: t.review,
      targetPaymentDate: new Date(`${t.payment}T00:00:00Z`),
      settings: t.settings ?? {},
    },
  });
  return c.id;
}

export async function nomination(
  db: PrismaClient,
  data: {
    campaignId: number;
    unionId: number;
    submittedById: number;
    status: 'draft' | 'submitted' | 'returned' | 'approved' | 'withdrawn' | 'paid';
    amountFen?: number;
  },
): Promise<number> {
  const n = await db.nomination.create({
    data: { ...data, amountFen: data.amountFen ?? 80_000, benefitForm: 'in_kind' },
  });
  return n.id;
}

/** Records a paid payment (batch + payment, nomination → paid), as the disbursement use case will. */
export async function recordPayment(
  db: PrismaClient,
  nominationId: number,
  paidAt: Date,
  createdById: number,
): Promise<number> {
  const n = await db.nomination.findUniqueOrThrow({ where: { id: nominationId } });
  const batch = await db.paymentBatch.create({
    data: {
      campaignId: n.campaignId,
      code: `B${nominationId}-${Date.now()}`,
      createdById,
      status: 'paid',
      paidAt,
    },
  });
  const p = await db.payment.create({
    data: { batchId: batch.id, nominationId, amountFen: n.amountFen ?? 0, status: 'paid', paidAt },
  });
  await db.nomination.update({ where: { id: nominationId }, data: { status: 'paid' } });
  return p.id;
}
