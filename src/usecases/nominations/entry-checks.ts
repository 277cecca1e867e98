import type { Db, Tx } from '../../adapters/db/client.ts';
import { LIVE_STATUSES } from './shared.ts';

// Checks made when an answer is given and again, inside the submit transaction, before a nomination
// takes its place. Each returns facts; callers decide whether they refuse, flag or inform.

type Reader = Db | Tx;

export interface DuplicateFacts {
  /** A live nomination of the same person in this campaign (any union): refuse. */
  blocking?: { nominationId: number; status: string; unionName: string };
  /** Nominations of the same person in earlier campaigns: shown as information. */
  earlier: { campaignTitleZh: string; campaignTitleEn: string; status: string }[];
}

export async function duplicateFacts(
  db: Reader,
  input: { campaignId: number; idHash: string; excludeId?: number },
): Promise<DuplicateFacts> {
  const rows = await db.nomination.findMany({
    where: {
      idNumberHash: input.idHash,
      status: { in: [...LIVE_STATUSES] },
      ...(input.excludeId ? { id: { not: input.excludeId } } : {}),
    },
    include: { union: { select: { name: true } }, campaign: { select: { titleZh: true, titleEn: true } } },
    orderBy: { createdAt: 'desc' },
    take: 20,
  });
  const same = rows.find((r) => r.campaignId === input.campaignId);
  return {
    ...(same ? { blocking: { nominationId: same.id, status: same.status, unionName: same.union.name } } : {}),
    earlier: rows
      .filter((r) => r.campaignId !== input.campaignId)
      .map((r) => ({
        campaignTitleZh: r.campaign.titleZh,
        campaignTitleEn: r.campaign.titleEn,
        status: r.status,
      })),
  };
}

/** Places left for a union in a category with a quota (null = no quota). */
export async function quotaRemaining(
  db: Reader,
  input: { unionId: number; categoryId: number; quota: number | null; excludeId?: number },
): Promise<number | null> {
  if (input.quota === null) return null;
  const used = await db.nomination.count({
    where: {
      unionId: input.unionId,
      categoryId: input.categoryId,
      status: { in: [...LIVE_STATUSES] },
      ...(input.excludeId ? { id: { not: input.excludeId } } : {}),
    },
  });
  return Math.max(0, input.quota - used);
}

/** Budget left in the campaign after every live nomination's amount (fen). */
export async function budgetRemaining(
  db: Reader,
  input: { campaignId: number; budgetFen: bigint; excludeId?: number },
): Promise<bigint> {
  const agg = await db.nomination.aggregate({
    _sum: { amountFen: true },
    where: {
      campaignId: input.campaignId,
      status: { in: [...LIVE_STATUSES] },
      ...(input.excludeId ? { id: { not: input.excludeId } } : {}),
    },
  });
  return input.budgetFen - BigInt(agg._sum.amountFen ?? 0);
}

/** Amount already granted to this person in the calendar year of `year` (fen), across campaigns. */
export async function yearlyAmount(
  db: Reader,
  input: { idHash: string; year: number; excludeId?: number },
): Promise<number> {
  const from = new Date(Date.UTC(input.year, 0, 1) - 8 * 3600_000);
  const to = new Date(Date.UTC(input.year + 1, 0, 1) - 8 * 3600_000);
  const agg = await db.nomination.aggregate({
    _sum: { amountFen: true },
    where: {
      idNumberHash: input.idHash,
      status: { in: [...LIVE_STATUSES] },
      campaign: { targetPaymentDate: { gte: from, lt: to } },
      ...(input.excludeId ? { id: { not: input.excludeId } } : {}),
    },
  });
  return agg._sum.amountFen ?? 0;
}
