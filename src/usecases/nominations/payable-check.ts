import type { Db } from '../../adapters/db/client.ts';
import { PAYABLE_EXEMPT_STATUSES, type PayableGap, payableGaps } from '../../domain/nomination/intake.ts';

// Nominations past the draft that miss what their benefit form needs (rows stored before the
// `nomination_payable_check` constraint that its migration could not repair). Listed, never changed:
// staff return them for correction or reject them.

export interface PayableViolation {
  id: number;
  status: string;
  campaignId: number;
  unionId: number;
  gaps: PayableGap[];
}

export async function listPayableViolations(db: Db): Promise<PayableViolation[]> {
  const out: PayableViolation[] = [];
  let cursor = 0;
  for (;;) {
    const rows = await db.nomination.findMany({
      where: { id: { gt: cursor }, status: { notIn: [...PAYABLE_EXEMPT_STATUSES] } },
      select: {
        id: true,
        status: true,
        campaignId: true,
        unionId: true,
        benefitForm: true,
        amountFen: true,
        bankName: true,
        bankCardEnc: true,
        employer: true,
      },
      orderBy: { id: 'asc' },
      take: 5000,
    });
    if (rows.length === 0) return out;
    for (const r of rows) {
      const gaps = payableGaps({ ...r, hasBankCard: r.bankCardEnc !== null });
      if (gaps.length > 0)
        out.push({ id: r.id, status: r.status, campaignId: r.campaignId, unionId: r.unionId, gaps });
    }
    cursor = rows[rows.length - 1]!.id;
  }
}
