import type { FieldCipher } from '../adapters/crypto/field-cipher.ts';
import type { Db } from '../adapters/db/client.ts';
import { isValidIsoDate, shanghaiDateOf } from '../domain/calendar/date.ts';
import { validateIdNumber } from '../domain/identity/id-number.ts';
import { validateName } from '../domain/identity/name.ts';
import { duplicateRefusal, paidByUnionRefusal } from '../domain/nomination/admission.ts';
import { audit } from './audit.ts';
import { loadPersonFacts, lockAdmission } from './nominations/admission-facts.ts';

// Money allocated to grassroots unions (campaign file `budget.allocations`): each union's contact
// reports how it was spent (its own recipients, amounts, goods, dates, the photo/scan of the signed
// list); each row gets the same ID check as a nomination and the same duplicate rule (admission.ts
// `duplicateRefusal`) against the federation's own recipients, so nobody is paid twice through two
// routes; the federation's nominations are checked against these reports the same way
// (`paidByUnionRefusal`, facts loaded by admission-facts.ts). Staff record what was returned and reconcile allocated vs reported vs returned.

export interface AllocationRowInput {
  /** Row number in the sheet (or the dialog's position), for the problems. */
  line: number;
  fullName: string;
  idNumber: string;
  amountFen: number;
  goods?: string | null;
  /** YYYY-MM-DD (Asia/Shanghai). */
  paidOn: string;
}

export type AllocationProblemCode =
  | 'name'
  | 'id'
  | 'amount'
  | 'date'
  | 'duplicate_in_report'
  | 'paid_by_federation'
  | 'paid_by_other_union'
  | 'over_allocation';

export interface AllocationProblem {
  line: number;
  code: AllocationProblemCode;
  params: Record<string, string | number>;
}

export type AllocationReportResult =
  | { ok: true; recipients: number; reportedFen: number; allocatedFen: number }
  | { ok: false; problems: AllocationProblem[] }
  | { ok: false; noAllocation: true };

/**
 * Stores a union's report of how its allocation was spent, all or nothing: every row is checked (name,
 * ID number, amount, date), then against the federation's own live nominations of the campaign (the
 * admission rule) and the other unions' reports; a report replaces the union's previous one.
 */
export async function reportAllocationUse(
  db: Db,
  cipher: FieldCipher,
  input: {
    campaignId: number;
    unionId: number;
    actorId: number;
    rows: AllocationRowInput[];
    /** Telegram file id of the photo or scan of the signed list. */
    evidenceFileId: string | null;
    now: Date;
  },
): Promise<AllocationReportResult> {
  const allocation = await db.unionAllocation.findUnique({
    where: { campaignId_unionId: { campaignId: input.campaignId, unionId: input.unionId } },
  });
  if (!allocation) return { ok: false, noAllocation: true };
  const campaign = await db.campaign.findUniqueOrThrow({ where: { id: input.campaignId } });
  const today = shanghaiDateOf(input.now);
  const problems: AllocationProblem[] = [];
  const valid: { row: AllocationRowInput; name: string; id: string; idHash: string }[] = [];
  const seen = new Map<string, number>();
  for (const row of input.rows) {
    const name = validateName(row.fullName);
    const id = validateIdNumber(row.idNumber, { today });
    if (!name.ok) problems.push({ line: row.line, code: 'name', params: { code: name.code } });
    if (!id.ok) problems.push({ line: row.line, code: 'id', params: { code: id.code } });
    if (!Number.isInteger(row.amountFen) || row.amountFen <= 0)
      problems.push({ line: row.line, code: 'amount', params: {} });
    if (!isValidIsoDate(row.paidOn) || row.paidOn > today)
      problems.push({ line: row.line, code: 'date', params: { value: row.paidOn } });
    if (!name.ok || !id.ok) continue;
    const idHash = cipher.hash('id', id.value);
    const first = seen.get(idHash);
    if (first !== undefined) {
      problems.push({ line: row.line, code: 'duplicate_in_report', params: { row: first } });
      continue;
    }
    seen.set(idHash, row.line);
    valid.push({ row, name: name.value, id: id.value, idHash });
  }
  const total = input.rows.reduce((s, r) => s + (Number.isInteger(r.amountFen) ? r.amountFen : 0), 0);
  if (total > Number(allocation.amountFen))
    problems.push({
      line: 0,
      code: 'over_allocation',
      params: { reportedFen: total, allocatedFen: Number(allocation.amountFen) },
    });

  return db.$transaction(
    async (tx) => {
      // The same lock as nominations of this campaign: a nomination and a report of the same person
      // cannot both pass at the same moment.
      await lockAdmission(tx, { campaignId: input.campaignId });
      // One set of facts for both routes: the federation's live nominations (duplicateRefusal) and the
      // other unions' reports (paidByUnionRefusal); this union's earlier report is replaced, not counted.
      const facts = await loadPersonFacts(tx, {
        campaignId: input.campaignId,
        targetPaymentDate: campaign.targetPaymentDate,
        candidates: valid.map((v) => ({ idHash: v.idHash, phoneHash: null })),
        excludeAllocationIds: [allocation.id],
      });
      valid.forEach((v, i) => {
        const dup = duplicateRefusal(facts[i]!);
        if (dup)
          problems.push({
            line: v.row.line,
            code: 'paid_by_federation',
            params: { nominationId: dup.params['nominationId']!, status: dup.params['status']! },
          });
        const paid = paidByUnionRefusal(facts[i]!);
        if (paid)
          problems.push({
            line: v.row.line,
            code: 'paid_by_other_union',
            params: { union: paid.params['union']! },
          });
      });
      if (problems.length > 0) {
        problems.sort((a, b) => a.line - b.line);
        return { ok: false as const, problems };
      }
      await tx.allocationRecipient.deleteMany({ where: { allocationId: allocation.id } });
      await tx.allocationRecipient.createMany({
        data: valid.map((v) => ({
          allocationId: allocation.id,
          fullName: v.name,
          idNumberEnc: cipher.encrypt(v.id),
          idNumberHash: v.idHash,
          amountFen: v.row.amountFen,
          goods: v.row.goods ?? null,
          paidOn: new Date(`${v.row.paidOn}T00:00:00Z`),
        })),
      });
      await tx.unionAllocation.update({
        where: { id: allocation.id },
        data: { reportedAt: input.now, evidenceFileId: input.evidenceFileId },
      });
      await audit(tx, {
        actorId: input.actorId,
        action: 'allocation.report',
        entity: 'union_allocation',
        entityId: allocation.id,
        after: { recipients: valid.length, reportedFen: total, evidence: input.evidenceFileId !== null },
      });
      return {
        ok: true as const,
        recipients: valid.length,
        reportedFen: total,
        allocatedFen: Number(allocation.amountFen),
      };
    },
    { timeout: 60_000, maxWait: 10_000 },
  );
}

/** Staff record what a union gave back of its allocation (replaces the earlier figure; audited). */
export async function recordAllocationReturn(
  db: Db,
  input: { campaignId: number; unionId: number; returnedFen: number; actorId: number },
): Promise<boolean> {
  return db.$transaction(async (tx) => {
    const a = await tx.unionAllocation.findUnique({
      where: { campaignId_unionId: { campaignId: input.campaignId, unionId: input.unionId } },
    });
    if (!a || input.returnedFen < 0 || BigInt(input.returnedFen) > a.amountFen) return false;
    await tx.unionAllocation.update({
      where: { id: a.id },
      data: { returnedFen: BigInt(input.returnedFen) },
    });
    await audit(tx, {
      actorId: input.actorId,
      action: 'allocation.returned',
      entity: 'union_allocation',
      entityId: a.id,
      before: { returnedFen: Number(a.returnedFen) },
      after: { returnedFen: input.returnedFen },
    });
    return true;
  });
}

export interface AllocationLine {
  unionId: number;
  unionName: string;
  allocatedFen: number;
  reportedFen: number;
  returnedFen: number;
  /** allocated − reported − returned: not yet accounted for. */
  unaccountedFen: number;
  recipients: number;
  reported: boolean;
  evidence: boolean;
}

/** Allocated vs reported vs returned, per union, for staff and the figures. */
export async function allocationReconciliation(db: Db, campaignId: number): Promise<AllocationLine[]> {
  const rows = await db.unionAllocation.findMany({
    where: { campaignId },
    orderBy: { id: 'asc' },
    include: { union: { select: { name: true } }, recipients: { select: { amountFen: true } } },
  });
  return rows.map((a) => {
    const reportedFen = a.recipients.reduce((s, r) => s + r.amountFen, 0);
    return {
      unionId: a.unionId,
      unionName: a.union.name,
      allocatedFen: Number(a.amountFen),
      reportedFen,
      returnedFen: Number(a.returnedFen),
      unaccountedFen: Number(a.amountFen) - reportedFen - Number(a.returnedFen),
      recipients: a.recipients.length,
      reported: a.reportedAt !== null,
      evidence: a.evidenceFileId !== null,
    };
  });
}

/** The allocation of one of the contact's unions in the campaign (the first one that has one). */
export async function allocationForContact(
  db: Db,
  campaignId: number,
  unionIds: readonly number[],
): Promise<{ unionId: number; unionName: string; allocatedFen: number } | null> {
  const a = await db.unionAllocation.findFirst({
    where: { campaignId, unionId: { in: [...unionIds] } },
    orderBy: { id: 'asc' },
    include: { union: { select: { name: true } } },
  });
  return a ? { unionId: a.unionId, unionName: a.union.name, allocatedFen: Number(a.amountFen) } : null;
}

/** The reconciliation for /allocations, the read recorded in the audit trail. */
export async function viewAllocations(
  db: Db,
  input: { campaignId: number; actorId: number },
): Promise<AllocationLine[]> {
  const lines = await allocationReconciliation(db, input.campaignId);
  await db.auditLog.create({
    data: {
      actorId: input.actorId,
      action: 'allocation.view',
      entity: 'campaign',
      entityId: String(input.campaignId),
      after: { unions: lines.length },
    },
  });
  return lines;
}
