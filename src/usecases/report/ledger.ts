import type { FieldCipher } from '../../adapters/crypto/field-cipher.ts';
import type { Db, Prisma } from '../../adapters/db/client.ts';
import { defaultCalendar } from '../../domain/calendar/index.ts';
import { type IsoDate, shanghaiDateOf } from '../../domain/calendar/date.ts';
import type { WorkingCalendar } from '../../domain/calendar/working-days.ts';
import { birthDateOfIdNumber } from '../../domain/identity/id-number.ts';
import { maskBankCard, maskBirthDate, maskIdNumber, maskPhone } from '../../domain/masking.ts';
import { entryDeadlineOn } from '../../domain/reminders/index.ts';
import type { LedgerAccess } from '../../domain/roles.ts';

// 台账: every nomination of a campaign with its state and amounts, read page by page (keyset on id) so a
// province-sized export never holds more than one page of rows. Sensitive columns (ID number, phone,
// bank card) are full for admins and finance staff (finance pays and enters records into the provincial
// system; admins answer for the data) and masked for reviewers (they judge eligibility from the masked
// card and the other fields). Contacts and recipients get no ledger at all. Every export is audit-logged
// (`ledger.export_full` / `ledger.export_masked`) with the filters and the row count, never any values.
// The birth date is read from the decrypted ID number (not from the clear birth_date column), and a
// masked row carries the birth YEAR only: the full date is exactly what the masked ID number hides.

export const LEDGER_PAGE_SIZE = 1_000;
export type { LedgerAccess } from '../../domain/roles.ts';

export const NOMINATION_STATUSES = [
  'draft',
  'submitted',
  'returned',
  'pending_second_approval',
  'approved',
  'rejected',
  'withdrawn',
  'in_batch',
  'paid',
  'payment_failed',
  'handed_over',
] as const;
export type NominationStatusName = (typeof NOMINATION_STATUSES)[number];

/** The rule lives with the roles (domain/roles.ts); re-exported for the ledger's callers. */
export { ledgerAccess } from '../../domain/roles.ts';

export interface LedgerFilters {
  unionIds?: number[];
  categoryIds?: number[];
  statuses?: NominationStatusName[];
  /** Only records not yet entered into the provincial system. */
  notEntered?: boolean;
}

export interface LedgerRow {
  id: number;
  unionName: string;
  categoryZh: string;
  categoryEn: string;
  categoryKind: string;
  fullName: string;
  sex: 'male' | 'female' | null;
  /** Full access: the birth date (YYYY-MM-DD). Masked: the birth year only (see maskBirthDate). */
  birth: string | null;
  idNumber: string;
  phone: string;
  employer: string;
  workStatus: string | null;
  modelWorkerLevel: string | null;
  hardshipTier: string | null;
  mainCause: string | null;
  secondaryCauses: string[];
  benefitForm: string | null;
  bankName: string;
  bankCard: string;
  amountFen: number | null;
  status: NominationStatusName;
  submittedAt: Date | null;
  decidedAt: Date | null;
  /** Latest paid payment (transfers) or the handover date (goods), as a Shanghai date. */
  deliveredOn: IsoDate | null;
  /** Paid amount (payments) or the nomination amount when handed over; null when not delivered. */
  deliveredFen: number | null;
  entryDeadline: IsoDate | null;
  enteredProvincialAt: Date | null;
  flags: string[];
  source: string;
}

const rowSelect = {
  id: true,
  unionId: true,
  categoryId: true,
  status: true,
  fullName: true,
  sex: true,
  idNumberEnc: true,
  phoneEnc: true,
  employer: true,
  workStatus: true,
  modelWorkerLevel: true,
  hardshipTier: true,
  mainCause: true,
  secondaryCauses: true,
  benefitForm: true,
  bankName: true,
  bankCardEnc: true,
  bankCardLast4: true,
  amountFen: true,
  submittedAt: true,
  decidedAt: true,
  enteredProvincialAt: true,
  flags: true,
  source: true,
  payments: {
    where: { status: 'paid' },
    select: { amountFen: true, paidAt: true },
    orderBy: { paidAt: 'desc' },
  },
  handovers: { select: { handedOverOn: true } },
} satisfies Prisma.NominationSelect;
type RowData = Prisma.NominationGetPayload<{ select: typeof rowSelect }>;

export interface LedgerQuery {
  campaignId: number;
  access: LedgerAccess;
  /** Drafts are private to their contact until submitted: left out unless asked for by status. */
  filters?: LedgerFilters;
  pageSize?: number;
  calendar?: WorkingCalendar;
}

export function ledgerWhere(campaignId: number, f: LedgerFilters = {}): Prisma.NominationWhereInput {
  return {
    campaignId,
    ...(f.unionIds?.length ? { unionId: { in: f.unionIds } } : {}),
    ...(f.categoryIds?.length ? { categoryId: { in: f.categoryIds } } : {}),
    status: f.statuses?.length ? { in: f.statuses } : { not: 'draft' },
    ...(f.notEntered ? { enteredProvincialAt: null } : {}),
  };
}

/** Ledger rows, one page at a time, in id order. */
export async function* ledgerPages(db: Db, cipher: FieldCipher, q: LedgerQuery): AsyncGenerator<LedgerRow[]> {
  const campaign = await db.campaign.findUniqueOrThrow({
    where: { id: q.campaignId },
    select: { entryWorkingDays: true },
  });
  const [unions, categories] = await Promise.all([
    db.union.findMany({ select: { id: true, name: true } }),
    db.campaignCategory.findMany({
      where: { campaignId: q.campaignId },
      select: { id: true, nameZh: true, nameEn: true, kind: true },
    }),
  ]);
  const unionName = new Map(unions.map((u) => [u.id, u.name]));
  const category = new Map(categories.map((c) => [c.id, c]));
  const calendar = q.calendar ?? defaultCalendar;
  const deadlines = new Map<IsoDate, IsoDate>();
  const where = ledgerWhere(q.campaignId, q.filters);
  const take = q.pageSize ?? LEDGER_PAGE_SIZE;
  const full = q.access === 'full';
  const open = (enc: string | null) => (enc ? cipher.decrypt(enc) : '');

  const toRow = (n: RowData): LedgerRow => {
    const cat = n.categoryId !== null ? category.get(n.categoryId) : undefined;
    const paid = n.payments[0];
    const handover = n.handovers[0];
    let deliveredOn: IsoDate | null = null;
    let deliveredFen: number | null = null;
    // Delivered: the latest paid payment's day, or the handover day; the entry deadline counts from it
    // (the rule the reminders and the evaluation figures use).
    if (n.status === 'paid') {
      deliveredFen = n.payments.length > 0 ? n.payments.reduce((a, p) => a + p.amountFen, 0) : n.amountFen;
      deliveredOn = paid?.paidAt ? shanghaiDateOf(paid.paidAt) : null;
    } else if (n.status === 'handed_over') {
      deliveredFen = n.amountFen;
      deliveredOn = handover ? handover.handedOverOn.toISOString().slice(0, 10) : null;
    }
    let deadline: IsoDate | null = null;
    if (deliveredOn) {
      deadline =
        deadlines.get(deliveredOn) ?? entryDeadlineOn(deliveredOn, campaign.entryWorkingDays, calendar);
      deadlines.set(deliveredOn, deadline);
    }
    const id = open(n.idNumberEnc);
    const phone = open(n.phoneEnc);
    return {
      id: n.id,
      unionName: unionName.get(n.unionId) ?? String(n.unionId),
      categoryZh: cat?.nameZh ?? '',
      categoryEn: cat?.nameEn ?? '',
      categoryKind: cat?.kind ?? '',
      fullName: n.fullName ?? '',
      sex: n.sex,
      birth: full ? birthDateOfIdNumber(id) : maskBirthDate(birthDateOfIdNumber(id)) || null,
      idNumber: full || !id ? id : maskIdNumber(id),
      phone: full || !phone ? phone : maskPhone(phone),
      employer: n.employer ?? '',
      workStatus: n.workStatus,
      modelWorkerLevel: n.modelWorkerLevel,
      hardshipTier: n.hardshipTier,
      mainCause: n.mainCause,
      secondaryCauses: n.secondaryCauses,
      benefitForm: n.benefitForm,
      bankName: n.bankName ?? '',
      bankCard: full ? open(n.bankCardEnc) : n.bankCardLast4 ? maskBankCard(n.bankCardLast4) : '',
      amountFen: n.amountFen,
      status: n.status,
      submittedAt: n.submittedAt,
      decidedAt: n.decidedAt,
      deliveredOn,
      deliveredFen,
      entryDeadline: deadline,
      enteredProvincialAt: n.enteredProvincialAt,
      flags: n.flags,
      source: n.source,
    };
  };

  let after = 0;
  for (;;) {
    const page = await db.nomination.findMany({
      where: { ...where, id: { gt: after } },
      select: rowSelect,
      orderBy: { id: 'asc' },
      take,
    });
    if (page.length === 0) return;
    yield page.map(toRow);
    after = page[page.length - 1]!.id;
    if (page.length < take) return;
  }
}

export interface LedgerExportInput extends LedgerQuery {
  actorId: number;
  /** Writes the rows somewhere (a streamed .xlsx, a CSV...); resolves when the file is complete. */
  sink: (pages: AsyncIterable<LedgerRow[]>) => Promise<unknown>;
}

/** Streams the ledger into `sink`, counting rows, then writes the audit row. Returns the row count. */
export async function exportLedger(db: Db, cipher: FieldCipher, input: LedgerExportInput): Promise<number> {
  let rows = 0;
  const counted = async function* () {
    for await (const page of ledgerPages(db, cipher, input)) {
      rows += page.length;
      yield page;
    }
  };
  await input.sink(counted());
  await db.auditLog.create({
    data: {
      actorId: input.actorId,
      action: input.access === 'full' ? 'ledger.export_full' : 'ledger.export_masked',
      entity: 'campaign',
      entityId: String(input.campaignId),
      after: {
        rows,
        unionIds: input.filters?.unionIds ?? [],
        categoryIds: input.filters?.categoryIds ?? [],
        statuses: input.filters?.statuses ?? [],
      },
    },
  });
  return rows;
}

// ---------------------------------------------------------------------------------------- filter parsing

export type FilterProblem =
  | { code: 'union_unknown'; value: string }
  | { code: 'category_unknown'; value: string }
  | { code: 'status_unknown'; value: string }
  | { code: 'token_unknown'; value: string };

const STATUS_ALIASES: Record<string, NominationStatusName> = {
  草稿: 'draft',
  已提交: 'submitted',
  待审核: 'submitted',
  退回: 'returned',
  已退回: 'returned',
  待复核: 'pending_second_approval',
  已通过: 'approved',
  通过: 'approved',
  驳回: 'rejected',
  已驳回: 'rejected',
  撤回: 'withdrawn',
  已撤回: 'withdrawn',
  发放中: 'in_batch',
  已发放: 'paid',
  已打款: 'paid',
  打款失败: 'payment_failed',
  已交付: 'handed_over',
  已领取: 'handed_over',
};

const KEY_ALIASES: Record<string, 'union' | 'category' | 'status'> = {
  union: 'union',
  u: 'union',
  工会: 'union',
  category: 'category',
  cat: 'category',
  类别: 'category',
  status: 'status',
  状态: 'status',
};

/**
 * Parses `union=3,县供电局工会 category=needy_worker status=paid,handed_over` (also `key:value`, Chinese
 * keys 工会 / 类别 / 状态, and bare status or category codes). Unions by id or exact name.
 */
export async function parseLedgerFilters(
  db: Db,
  campaignId: number,
  tokens: string[],
): Promise<{ ok: true; filters: LedgerFilters } | { ok: false; problem: FilterProblem }> {
  const categories = await db.campaignCategory.findMany({
    where: { campaignId },
    select: { id: true, code: true, nameZh: true },
  });
  const filters: Required<Omit<LedgerFilters, 'notEntered'>> = {
    unionIds: [],
    categoryIds: [],
    statuses: [],
  };
  const addStatus = (v: string) => {
    const s = (NOMINATION_STATUSES as readonly string[]).includes(v)
      ? (v as NominationStatusName)
      : STATUS_ALIASES[v];
    if (s && !filters.statuses.includes(s)) filters.statuses.push(s);
    return s !== undefined;
  };
  const addCategory = (v: string) => {
    const c = categories.find((k) => k.code === v || k.nameZh === v || String(k.id) === v);
    if (c && !filters.categoryIds.includes(c.id)) filters.categoryIds.push(c.id);
    return c !== undefined;
  };
  for (const token of tokens) {
    const m = /^([^=:：]+)[=:：](.+)$/.exec(token);
    if (!m) {
      if (addStatus(token) || addCategory(token)) continue;
      return { ok: false, problem: { code: 'token_unknown', value: token } };
    }
    const key = KEY_ALIASES[m[1]!.toLowerCase()];
    const values = m[2]!
      .split(/[,，、]/)
      .map((v) => v.trim())
      .filter(Boolean);
    if (!key) return { ok: false, problem: { code: 'token_unknown', value: token } };
    for (const v of values) {
      if (key === 'status' && !addStatus(v))
        return { ok: false, problem: { code: 'status_unknown', value: v } };
      if (key === 'category' && !addCategory(v))
        return { ok: false, problem: { code: 'category_unknown', value: v } };
      if (key === 'union') {
        const u = /^\d{1,9}$/.test(v)
          ? await db.union.findUnique({ where: { id: Number(v) }, select: { id: true } })
          : await db.union.findFirst({ where: { name: v }, select: { id: true } });
        if (!u) return { ok: false, problem: { code: 'union_unknown', value: v } };
        if (!filters.unionIds.includes(u.id)) filters.unionIds.push(u.id);
      }
    }
  }
  return { ok: true, filters };
}
