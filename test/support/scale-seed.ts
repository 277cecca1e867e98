// Many nominations in one campaign, written with set-based SQL (INSERT ... SELECT generate_series): tens of
// thousands of rows in a few seconds. Used by the reminder scale test and bench/reminders-scale.bench.ts.
import type { PrismaClient } from '../../src/generated/prisma/client.ts';

export interface ScaleMix {
  /** Paid, one payment each, all in one paid batch (delivery spread over `paidDays` consecutive days). */
  paid: number;
  handedOver: number;
  approved: number;
  submitted: number;
  returned: number;
  draft: number;
}

/** Optional column values shared by every seeded row (one ciphertext reused: decrypting works, it is one ID). */
export interface ScaleFields {
  categoryId?: number;
  /** For everything but drafts; drafts stay in_kind so they need no bank card. */
  benefitForm?: 'in_kind' | 'transfer';
  idNumberEnc?: string;
  phoneEnc?: string;
  bankCardEnc?: string;
  bankCardLast4?: string;
  bankName?: string;
}

export interface ScaleSeed {
  batchId: number;
  /** Nomination ids by status, first and last (ids are consecutive per status block). */
  blocks: Record<keyof ScaleMix, { first: number; last: number }>;
  total: number;
}

/**
 * Seeds `mix` nominations in `campaignId`, spread round-robin over `unionIds`, submitted by
 * `submittedById`. Paid ones share one batch; deliveries fall on the `paidDays` days ending at `lastPaidAt`.
 */
export async function seedScale(
  db: PrismaClient,
  opts: {
    campaignId: number;
    unionIds: number[];
    submittedById: number;
    mix: ScaleMix;
    lastPaidAt: Date;
    paidDays?: number;
    fields?: ScaleFields;
  },
): Promise<ScaleSeed> {
  const { campaignId, unionIds, submittedById, mix } = opts;
  const f = opts.fields ?? {};
  const paidDays = opts.paidDays ?? 3;
  const blocks = {} as ScaleSeed['blocks'];
  const insert = async (key: keyof ScaleMix, status: string, count: number) => {
    const rows = await db.$queryRaw<{ first: number | null; last: number | null }[]>`
      WITH ins AS (
        INSERT INTO nomination (campaign_id, union_id, submitted_by_id, status, amount_fen, benefit_form,
                                full_name, submitted_at, updated_at, revision, version, category_id,
                                id_number_enc, id_number_hash, phone_enc, bank_card_enc, bank_card_last4,
                                bank_name, employer)
        SELECT ${campaignId}, (${unionIds}::int[])[1 + (g % ${unionIds.length})], ${submittedById},
               ${status}::"NominationStatus", 80000,
               (CASE WHEN ${status} = 'draft' THEN 'in_kind' ELSE ${f.benefitForm ?? 'in_kind'} END)::"BenefitForm",
               'x', now(), now(), CASE WHEN ${status} = 'draft' THEN 0 ELSE 1 END, 1, ${f.categoryId ?? null}::int,
               ${f.idNumberEnc ?? null}::text,
               CASE WHEN ${f.idNumberEnc ?? null}::text IS NULL THEN NULL ELSE 'scale-' || ${campaignId}::int || '-' || ${status} || '-' || g END,
               ${f.phoneEnc ?? null}::text, ${f.bankCardEnc ?? null}::text, ${f.bankCardLast4 ?? null}::text,
               ${f.bankName ?? null}::text, ${f.idNumberEnc ? '某单位' : null}::text
        FROM generate_series(1, ${count}::int) g
        RETURNING id)
      SELECT min(id)::int AS first, max(id)::int AS last FROM ins`;
    blocks[key] = { first: rows[0]?.first ?? 0, last: rows[0]?.last ?? -1 };
  };
  await insert('paid', 'paid', mix.paid);
  await insert('handedOver', 'handed_over', mix.handedOver);
  await insert('approved', 'approved', mix.approved);
  await insert('submitted', 'submitted', mix.submitted);
  await insert('returned', 'returned', mix.returned);
  await insert('draft', 'draft', mix.draft);

  const batch = await db.paymentBatch.create({
    data: {
      campaignId,
      code: `SCALE-${campaignId}-${Date.now()}`,
      createdById: submittedById,
      status: 'paid',
      paidAt: opts.lastPaidAt,
      itemCount: mix.paid,
    },
  });
  const day = 86_400_000;
  await db.$executeRaw`
    INSERT INTO payment (batch_id, nomination_id, amount_fen, status, paid_at)
    SELECT ${batch.id}, n.id, 80000, 'paid',
           ${opts.lastPaidAt}::timestamptz - ((n.id % ${paidDays}) * ${day}::bigint) * interval '1 millisecond'
    FROM nomination n WHERE n.id BETWEEN ${blocks.paid.first} AND ${blocks.paid.last}`;
  await db.$executeRaw`
    INSERT INTO handover (nomination_id, handed_over_on, handed_over_by, recorded_by_id)
    SELECT n.id, (${opts.lastPaidAt}::timestamptz AT TIME ZONE 'Asia/Shanghai')::date - (n.id % ${paidDays}),
           '工会', ${submittedById}
    FROM nomination n WHERE n.id BETWEEN ${blocks.handedOver.first} AND ${blocks.handedOver.last}`;
  await db.$executeRaw`ANALYZE nomination`;
  await db.$executeRaw`ANALYZE payment`;
  await db.$executeRaw`ANALYZE handover`;
  return { batchId: batch.id, blocks, total: Object.values(mix).reduce((a, b) => a + b, 0) };
}
