import type { Prisma, Tx } from '../../adapters/db/client.ts';
import { DomainError } from '../../domain/errors.ts';
import { maskBankCard, maskName } from '../../domain/masking.ts';
import { audit } from '../audit.ts';
import { enqueueNotices } from '../notices.ts';
import { failedNotices, type PaymentDeps, paidNotices } from './shared.ts';

// Real-name transfer batches (实名制打款): approved transfer nominations are gathered into a batch
// (approved / payment_failed -> in_batch), the bank's payment list is exported, then the batch is paid as
// a whole or reconciled from the bank's return file (in_batch -> paid / payment_failed). Every state change
// is a guarded update (`where status = ...`), so a batch is paid at most once, and is audit-logged.
// Amounts: never above the category's standard amount, never above the per-person yearly cap.

export interface BatchSummary {
  batchId: number;
  code: string;
  count: number;
  totalFen: bigint;
  /** Nominations whose amount was lowered to the cap / left out because the cap was used up. */
  capped: number[];
  skipped: number[];
}

const ELIGIBLE = ['approved', 'payment_failed'] as const;

/**
 * Rows per query where a query names rows one by one (an `in` list, or a nested relation Prisma loads
 * with one bind parameter per parent row): PostgreSQL refuses more than 32,767 parameters in one query.
 */
const PAGE = 5_000;

/** A batch's payments with their nominations (and campaign), read in pages of PAGE. */
async function batchPayments(db: PaymentDeps['db'], batchId: number) {
  const out = [];
  for (let after = 0; ; ) {
    const page = await db.payment.findMany({
      where: { batchId, id: { gt: after } },
      include: { nomination: { include: { campaign: true } } },
      orderBy: { id: 'asc' },
      take: PAGE,
    });
    out.push(...page);
    if (page.length < PAGE) return out;
    after = page[page.length - 1]!.id;
  }
}

export async function createBatch(
  deps: PaymentDeps,
  input: {
    campaignCode: string;
    actorId: number;
    limit?: number;
    /** Runs in the batch's transaction after it is written (a staff job stores its result there). */
    inTransaction?: (tx: Tx, summary: BatchSummary) => Promise<void>;
  },
): Promise<BatchSummary> {
  const { db } = deps;
  const campaign = await db.campaign.findUnique({ where: { code: input.campaignCode } });
  if (!campaign) throw new DomainError('campaign_not_found', { code: input.campaignCode });
  const year = deps.now().getUTCFullYear();
  const yearStart = new Date(Date.UTC(year, 0, 1) - 8 * 3600_000); // Asia/Shanghai calendar year
  const yearEnd = new Date(Date.UTC(year + 1, 0, 1) - 8 * 3600_000);

  return db.$transaction(
    async (tx) => {
      const candidates = await tx.nomination.findMany({
        where: {
          campaignId: campaign.id,
          status: { in: [...ELIGIBLE] },
          benefitForm: 'transfer',
          bankCardEnc: { not: null },
        },
        select: {
          id: true,
          version: true,
          status: true,
          categoryId: true,
          amountFen: true,
          idNumberHash: true,
        },
        orderBy: { id: 'asc' },
        take: input.limit ?? 50_000,
      });
      // The campaign's categories once (an `include` loads them with one bind parameter per candidate).
      const categories = new Map(
        (await tx.campaignCategory.findMany({ where: { campaignId: campaign.id } })).map((k) => [k.id, k]),
      );
      if (candidates.length === 0) throw new DomainError('batch_empty', { campaign: campaign.code });

      // Already paid or being paid this year, per person (keyed ID hash), across campaigns.
      const hashes = [...new Set(candidates.map((c) => c.idNumberHash).filter((h): h is string => !!h))];
      const used = new Map<string, number>();
      if (hashes.length > 0) {
        // In pages: one bind parameter per person in one query fails above ~32,000 (PostgreSQL's limit).
        for (let i = 0; i < hashes.length; i += PAGE) {
          const rows = await tx.payment.findMany({
            where: {
              status: { in: ['paid', 'pending'] },
              nomination: { idNumberHash: { in: hashes.slice(i, i + PAGE) } },
              createdAt: { gte: yearStart, lt: yearEnd },
            },
            select: { amountFen: true, nomination: { select: { idNumberHash: true } } },
          });
          for (const r of rows) {
            const h = r.nomination.idNumberHash!;
            used.set(h, (used.get(h) ?? 0) + r.amountFen);
          }
        }
      }

      const batch = await tx.paymentBatch.create({
        data: {
          campaignId: campaign.id,
          code: `tmp-${Date.now()}-${Math.random()}`,
          createdById: input.actorId,
        },
      });
      const code = `${campaign.code}-B${batch.id}`;
      const capped: number[] = [];
      const skipped: number[] = [];
      const payments: Prisma.PaymentCreateManyInput[] = [];
      let total = 0n;
      // Amounts first (in id order, the yearly cap counted per person as rows are planned), then the
      // guarded moves to in_batch set-based, PAGE rows per statement (a row changed meanwhile is skipped).
      const planned: { id: number; version: number; status: string; amount: number }[] = [];
      for (const n of candidates) {
        const category = n.categoryId !== null ? categories.get(n.categoryId) : undefined;
        const standard = category?.standardAmountFen ?? 0;
        let amount = Math.min(n.amountFen ?? standard, standard);
        const cap = category?.yearlyCapFen ?? null;
        if (cap !== null && n.idNumberHash) {
          const left = cap - (used.get(n.idNumberHash) ?? 0);
          if (left < amount) {
            capped.push(n.id);
            amount = Math.max(0, left);
          }
        }
        if (amount <= 0) {
          skipped.push(n.id);
          continue;
        }
        if (n.idNumberHash) used.set(n.idNumberHash, (used.get(n.idNumberHash) ?? 0) + amount);
        planned.push({ id: n.id, version: n.version, status: n.status, amount });
      }
      const moved = new Set<number>();
      for (let i = 0; i < planned.length; i += PAGE) {
        const chunk = planned.slice(i, i + PAGE);
        const rows = await tx.$queryRaw<{ id: number }[]>`
          UPDATE nomination n SET status = 'in_batch', version = n.version + 1, updated_at = now()
          FROM unnest(${chunk.map((p) => p.id)}::int[], ${chunk.map((p) => p.version)}::int[],
                      ${chunk.map((p) => p.status)}::text[]) AS u(id, version, status)
          WHERE n.id = u.id AND n.version = u.version AND n.status::text = u.status
          RETURNING n.id`;
        for (const r of rows) moved.add(r.id);
      }
      for (const p of planned) {
        if (!moved.has(p.id)) {
          skipped.push(p.id);
          continue;
        }
        payments.push({ batchId: batch.id, nominationId: p.id, amountFen: p.amount });
        total += BigInt(p.amount);
      }
      if (payments.length === 0) throw new DomainError('batch_empty', { campaign: campaign.code });
      for (let i = 0; i < payments.length; i += PAGE)
        await tx.payment.createMany({ data: payments.slice(i, i + PAGE) });
      await tx.paymentBatch.update({
        where: { id: batch.id },
        data: { code, totalFen: total, itemCount: payments.length },
      });
      await audit(tx, {
        actorId: input.actorId,
        action: 'batch.created',
        entity: 'payment_batch',
        entityId: batch.id,
        after: {
          code,
          count: payments.length,
          totalFen: total.toString(),
          nominations: payments.map((p) => p.nominationId),
          capped,
          skipped,
        },
      });
      const summary = { batchId: batch.id, code, count: payments.length, totalFen: total, capped, skipped };
      await input.inTransaction?.(tx, summary);
      return summary;
    },
    { timeout: 60_000, maxWait: 10_000 },
  );
}

export interface BankListRow {
  ref: number;
  nominationId: number;
  name: string;
  card: string;
  bank: string;
  amountFen: number;
}

/**
 * The bank's payment list. Full card numbers only for finance staff and admins; anyone else gets masked
 * names and cards. Only the full list (the one sent to the bank) marks an open batch as exported: a
 * reviewer's masked look changes nothing. Audit-logged either way.
 */
export async function bankList(
  deps: PaymentDeps,
  input: { batchId: number; actorId: number; fullNumbers: boolean },
): Promise<{ code: string; status: string; rows: BankListRow[]; totalFen: bigint }> {
  const { db, cipher } = deps;
  const batch = await db.paymentBatch.findUnique({ where: { id: input.batchId } });
  if (!batch) throw new DomainError('batch_not_found', { id: input.batchId });
  const rows = (await batchPayments(db, batch.id)).map((p) => {
    const card = p.nomination.bankCardEnc ? cipher.decrypt(p.nomination.bankCardEnc) : '';
    return {
      ref: p.id,
      nominationId: p.nominationId,
      name: input.fullNumbers ? (p.nomination.fullName ?? '') : maskName(p.nomination.fullName ?? ''),
      card: input.fullNumbers ? card : maskBankCard(card),
      bank: p.nomination.bankName ?? '',
      amountFen: p.amountFen,
    };
  });
  await db.$transaction(async (tx) => {
    if (input.fullNumbers)
      await tx.paymentBatch.updateMany({
        where: { id: batch.id, status: 'open' },
        data: { status: 'exported' },
      });
    await audit(tx, {
      actorId: input.actorId,
      action: input.fullNumbers ? 'batch.exported' : 'batch.viewed_masked',
      entity: 'payment_batch',
      entityId: batch.id,
      after: { fullNumbers: input.fullNumbers, rows: rows.length },
    });
  });
  return {
    code: batch.code,
    status: batch.status === 'open' && input.fullNumbers ? 'exported' : batch.status,
    rows,
    totalFen: batch.totalFen,
  };
}

export interface PaidResult {
  changed: boolean;
  status: string;
  paid: number;
  failed: number;
  noticesQueued: number;
}

async function loadForNotices(deps: PaymentDeps, batchId: number) {
  return batchPayments(deps.db, batchId);
}

/** "All paid": the whole batch at once. A second call (or a reconciled batch) changes nothing. */
export async function markBatchPaid(
  deps: PaymentDeps,
  input: {
    batchId: number;
    actorId: number /** default true; the benchmark sends payment notices only */;
    letters?: boolean;
  },
): Promise<PaidResult> {
  const { db } = deps;
  const paidAt = deps.now();
  const changed = await db.$transaction(
    async (tx) => {
      const done = await tx.paymentBatch.updateMany({
        where: { id: input.batchId, status: { in: ['open', 'exported'] } },
        data: { status: 'paid', paidAt },
      });
      if (done.count === 0) return false;
      await tx.payment.updateMany({
        where: { batchId: input.batchId, status: 'pending' },
        data: { status: 'paid', paidAt },
      });
      await tx.$executeRaw`UPDATE nomination SET status = 'paid', version = version + 1, updated_at = now()
        WHERE status = 'in_batch' AND id IN (SELECT nomination_id FROM payment WHERE batch_id = ${input.batchId})`;
      await audit(tx, {
        actorId: input.actorId,
        action: 'batch.paid',
        entity: 'payment_batch',
        entityId: input.batchId,
        after: { paidAt: paidAt.toISOString() },
      });
      return true;
    },
    { timeout: 60_000 },
  );
  const batch = await db.paymentBatch.findUnique({ where: { id: input.batchId } });
  if (!batch) throw new DomainError('batch_not_found', { id: input.batchId });
  if (!changed) return { changed: false, status: batch.status, paid: 0, failed: 0, noticesQueued: 0 };
  const payments = await loadForNotices(deps, input.batchId);
  const notices = payments
    .filter((p) => p.status === 'paid')
    .flatMap((p) => paidNotices(deps, p.nomination, { id: p.id, amountFen: p.amountFen, paidAt }))
    .filter((n) => input.letters !== false || n.kind === 'payment');
  const noticesQueued = await enqueueNotices(db, deps.queues, notices);
  return { changed: true, status: 'paid', paid: payments.length, failed: 0, noticesQueued };
}

export interface ReturnRow {
  line: number;
  ref: number;
  status: 'paid' | 'failed';
  reason?: string;
}

export interface ReturnResult extends PaidResult {
  problems: { line: number; code: string; ref?: number }[];
}

/**
 * Reconciles a batch from the bank's return file: every payment of the batch must appear exactly once;
 * otherwise nothing changes and the problems are returned. Paid rows -> paid (payment + thank-you notices);
 * failed rows -> payment_failed (the contact is asked to correct; the nomination can join a later batch).
 */
export async function applyReturnFile(
  deps: PaymentDeps,
  input: { batchId: number; actorId: number; rows: ReturnRow[] },
): Promise<ReturnResult> {
  const { db } = deps;
  const batch = await db.paymentBatch.findUnique({
    where: { id: input.batchId },
    include: { payments: { select: { id: true } } },
  });
  if (!batch) throw new DomainError('batch_not_found', { id: input.batchId });
  const none = { changed: false, status: batch.status, paid: 0, failed: 0, noticesQueued: 0 };
  if (batch.status !== 'open' && batch.status !== 'exported') return { ...none, problems: [] };
  const ids = new Set(batch.payments.map((p) => p.id));
  const seen = new Map<number, ReturnRow>();
  const problems: ReturnResult['problems'] = [];
  for (const r of input.rows) {
    if (!ids.has(r.ref)) problems.push({ line: r.line, code: 'unknown_ref', ref: r.ref });
    else if (seen.has(r.ref)) problems.push({ line: r.line, code: 'duplicate_ref', ref: r.ref });
    else seen.set(r.ref, r);
  }
  for (const id of ids) if (!seen.has(id)) problems.push({ line: 0, code: 'missing_ref', ref: id });
  if (problems.length > 0) return { ...none, problems };

  const paidAt = deps.now();
  const paidIds = [...seen.values()].filter((r) => r.status === 'paid').map((r) => r.ref);
  const failedRows = [...seen.values()].filter((r) => r.status === 'failed');
  const changed = await db.$transaction(
    async (tx) => {
      const done = await tx.paymentBatch.updateMany({
        where: { id: batch.id, status: { in: ['open', 'exported'] } },
        data: { status: 'reconciled', paidAt },
      });
      if (done.count === 0) return false;
      if (paidIds.length > 0) {
        // One array parameter (a batch's return file can list more rows than PostgreSQL takes parameters).
        await tx.$executeRaw`UPDATE payment SET status = 'paid', paid_at = ${paidAt}
          WHERE id = ANY(${paidIds}::int[]) AND status = 'pending'`;
        await tx.$executeRaw`UPDATE nomination SET status = 'paid', version = version + 1, updated_at = now()
          WHERE status = 'in_batch' AND id IN (SELECT nomination_id FROM payment WHERE id = ANY(${paidIds}))`;
      }
      for (const r of failedRows) {
        const reason = (r.reason ?? '').trim().slice(0, 200) || '—';
        await tx.payment.updateMany({
          where: { id: r.ref, status: 'pending' },
          data: { status: 'failed', failureReason: reason },
        });
      }
      if (failedRows.length > 0) {
        const failedIds = failedRows.map((r) => r.ref);
        await tx.$executeRaw`UPDATE nomination SET status = 'payment_failed', version = version + 1, updated_at = now()
          WHERE status = 'in_batch' AND id IN (SELECT nomination_id FROM payment WHERE id = ANY(${failedIds}))`;
      }
      await audit(tx, {
        actorId: input.actorId,
        action: 'batch.reconciled',
        entity: 'payment_batch',
        entityId: batch.id,
        after: {
          paid: paidIds,
          failed: failedRows.map((r) => ({ ref: r.ref, reason: r.reason ?? '' })),
        },
      });
      return true;
    },
    { timeout: 60_000 },
  );
  if (!changed) {
    const now = await db.paymentBatch.findUniqueOrThrow({ where: { id: batch.id } });
    return { ...none, status: now.status, problems: [] };
  }
  const payments = await loadForNotices(deps, batch.id);
  const notices = payments.flatMap((p) =>
    p.status === 'paid'
      ? paidNotices(deps, p.nomination, { id: p.id, amountFen: p.amountFen, paidAt })
      : failedNotices(p.nomination, { id: p.id, amountFen: p.amountFen, reason: p.failureReason ?? '' }),
  );
  const noticesQueued = await enqueueNotices(db, deps.queues, notices);
  return {
    changed: true,
    status: 'reconciled',
    paid: paidIds.length,
    failed: failedRows.length,
    noticesQueued,
    problems: [],
  };
}

export async function listBatches(deps: PaymentDeps, opts: { limit?: number } = {}) {
  return deps.db.paymentBatch.findMany({
    orderBy: { id: 'desc' },
    take: opts.limit ?? 10,
    include: { campaign: { select: { code: true } } },
  });
}

/** A batch's code and campaign (null when there is no such batch). */
export async function findBatch(deps: Pick<PaymentDeps, 'db'>, batchId: number) {
  return deps.db.paymentBatch.findUnique({
    where: { id: batchId },
    select: { id: true, code: true, campaignId: true },
  });
}
