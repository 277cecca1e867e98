import type { DecryptedRowsQuery, FieldCipher } from '../../adapters/crypto/field-cipher.ts';
import type { Db } from '../../adapters/db/client.ts';
import { cursorSource } from '../../adapters/db/cursor.ts';
import { defaultCalendar } from '../../domain/calendar/index.ts';
import { type IsoDate, shanghaiDateOf } from '../../domain/calendar/date.ts';
import type { WorkingCalendar } from '../../domain/calendar/working-days.ts';
import { birthDateOfIdNumber } from '../../domain/identity/id-number.ts';
import { maskBankCard, maskBirthDate, maskIdNumber, maskPhone } from '../../domain/masking.ts';
import { entryDeadlineOn } from '../../domain/reminders/index.ts';
import type { LedgerAccess } from '../../domain/roles.ts';

// 台账: every nomination of a campaign with its state and amounts, read in ONE statement behind a
// server-side cursor (payments and handovers joined in SQL) and decrypted one batch at a time on the
// decryption worker's thread, so a
// province-sized export never holds more than one batch of rows. Sensitive columns (ID number, phone,
// bank card) are full for admins and finance staff (finance pays and enters records into the provincial
// system; admins answer for the data) and masked for reviewers (they judge eligibility from the masked
// card and the other fields). Contacts and recipients get no ledger at all. Every export is audit-logged
// (`ledger.export_full` / `ledger.export_masked`) with the filters and the row count, never any values.
// The birth date is read from the decrypted ID number (not from the clear birth_date column), and a
// masked row carries the birth YEAR only: the full date is exactly what the masked ID number hides.

// Rows per FETCH (and per page). The rows are read and decrypted on the decryption worker's thread and
// cross to this one as one JSON string a batch, at most two batches ahead (FieldCipher.decryptedRows).
// Small pages keep this thread's heap flat: a page lives while the writer turns it into XML (about
// 6 KB of short-lived strings a row); at 100 rows that is well inside one young-generation cycle, so
// pages die young. From 200 rows up pages were promoted and the old space grew with the row count
// (100,000 rows .xlsx, heap 65 -> 155 MB at 200 and 188 MB at 1,000; flat at 77-81 MB with 100;
// 50 was flat too but 1.8x slower).
export const LEDGER_PAGE_SIZE = 100;
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

/**
 * A ledger row made with `new`, not an object literal: V8 watches an object literal's objects and,
 * when a few scavenges find most of them alive (a page of rows is alive while it is written), it
 * allocates every later one straight in the old space (allocation-site pretenuring). The rows, and
 * through them their strings, then filled the old space until a full collection (100,000 rows .xlsx:
 * heap 80 -> 154 MB in about one run of four; never with --no-allocation-site-pretenuring, and never
 * with this class). Objects made by `new` are not pretenured.
 */
class Row implements LedgerRow {
  constructor(
    public id: number,
    public unionName: string,
    public categoryZh: string,
    public categoryEn: string,
    public categoryKind: string,
    public fullName: string,
    public sex: 'male' | 'female' | null,
    public birth: string | null,
    public idNumber: string,
    public phone: string,
    public employer: string,
    public workStatus: string | null,
    public modelWorkerLevel: string | null,
    public hardshipTier: string | null,
    public mainCause: string | null,
    public secondaryCauses: string[],
    public benefitForm: string | null,
    public bankName: string,
    public bankCard: string,
    public amountFen: number | null,
    public status: NominationStatusName,
    public submittedAt: Date | null,
    public decidedAt: Date | null,
    public deliveredOn: IsoDate | null,
    public deliveredFen: number | null,
    public entryDeadline: IsoDate | null,
    public enteredProvincialAt: Date | null,
    public flags: string[],
    public source: string,
  ) {}
}

export interface LedgerQuery {
  campaignId: number;
  access: LedgerAccess;
  /** Drafts are private to their contact until submitted: left out unless asked for by status. */
  filters?: LedgerFilters;
  /** Rows per FETCH from the server-side cursor (and per yielded page). */
  pageSize?: number;
  calendar?: WorkingCalendar;
}

/**
 * The ledger as ONE statement: the nomination's columns, its paid payments aggregated (sum, count,
 * latest paid day: `ORDER BY paid_at DESC` puts a missing date first, as the page reader did) and its
 * handover day, joined in PostgreSQL. Timestamps are stored without a zone (UTC) and read as epoch
 * milliseconds (numbers: the rows cross to the export's thread as JSON, see FieldCipher.decryptedRows),
 * whatever the process's TZ. Enum arrays are cast to text[] so the driver parses them.
 */
function ledgerWhereSql(campaignId: number, f: LedgerFilters): { where: string[]; params: unknown[] } {
  const params: unknown[] = [campaignId];
  const where = ['n.campaign_id = $1'];
  if (f.unionIds?.length) {
    params.push(f.unionIds);
    where.push(`n.union_id = ANY($${params.length}::int[])`);
  }
  if (f.categoryIds?.length) {
    params.push(f.categoryIds);
    where.push(`n.category_id = ANY($${params.length}::int[])`);
  }
  if (f.statuses?.length) {
    params.push(f.statuses);
    where.push(`n.status::text = ANY($${params.length}::text[])`);
  } else where.push(`n.status <> 'draft'`);
  if (f.notEntered) where.push('n.entered_provincial_at IS NULL');
  return { where, params };
}

/** How many rows a ledger with these filters has (for the progress of an export). */
export async function ledgerCount(db: Db, campaignId: number, filters: LedgerFilters = {}): Promise<number> {
  const { where, params } = ledgerWhereSql(campaignId, filters);
  const rows = await db.$queryRawUnsafe<{ n: number }[]>(
    `SELECT count(*)::int AS n FROM nomination n WHERE ${where.join(' AND ')}`,
    ...params,
  );
  return rows[0]?.n ?? 0;
}

/** Positions of the encrypted columns in ledgerSql's select list. */
const SQL_ID_NUMBER_ENC = 6;
const SQL_PHONE_ENC = 7;
const SQL_BANK_CARD_ENC = 16;

/** A stored UTC timestamp as whole epoch milliseconds (float8: the driver gives a number). */
const epochMs = (column: string) => `floor(extract(epoch FROM ${column}) * 1000)::float8`;
const dateOf = (ms: number | null) => (ms === null ? null : new Date(ms));

export function ledgerSql(campaignId: number, f: LedgerFilters = {}): { sql: string; params: unknown[] } {
  const { where, params } = ledgerWhereSql(campaignId, f);
  const sql = `SELECT n.id, n.union_id, n.category_id, n.status::text, n.full_name, n.sex::text,
      n.id_number_enc, n.phone_enc, n.employer, n.work_status, n.model_worker_level, n.hardship_tier,
      n.main_cause, n.secondary_causes::text[], n.benefit_form::text, n.bank_name, n.bank_card_enc,
      n.bank_card_last4, n.amount_fen,
      ${epochMs('n.submitted_at')}, ${epochMs('n.decided_at')},
      ${epochMs('n.entered_provincial_at')}, n.flags::text[], n.source,
      p.paid_fen, p.paid_count, ${epochMs('p.last_paid_at')}, h.handed_over_on::text
    FROM nomination n
    LEFT JOIN LATERAL (
      SELECT sum(amount_fen)::int AS paid_fen, count(*)::int AS paid_count,
             (array_agg(paid_at ORDER BY paid_at DESC))[1] AS last_paid_at
      FROM payment WHERE nomination_id = n.id AND status = 'paid'
    ) p ON true
    LEFT JOIN handover h ON h.nomination_id = n.id
    WHERE ${where.join(' AND ')}
    ORDER BY n.id`;
  return { sql, params };
}

/** The small look-ups a ledger row needs besides its own columns (read by the export's parent). */
export interface LedgerLookups {
  entryWorkingDays: number;
  unionNames: [number, string][];
  categories: [number, { nameZh: string; nameEn: string; kind: string }][];
}

export async function ledgerLookups(db: Db, campaignId: number): Promise<LedgerLookups> {
  const [campaign, unions, categories] = await Promise.all([
    db.campaign.findUniqueOrThrow({ where: { id: campaignId }, select: { entryWorkingDays: true } }),
    db.union.findMany({ select: { id: true, name: true } }),
    db.campaignCategory.findMany({
      where: { campaignId },
      select: { id: true, nameZh: true, nameEn: true, kind: true },
    }),
  ]);
  return {
    entryWorkingDays: campaign.entryWorkingDays,
    unionNames: unions.map((u) => [u.id, u.name]),
    categories: categories.map((c) => [c.id, { nameZh: c.nameZh, nameEn: c.nameEn, kind: c.kind }]),
  };
}

/**
 * Everything needed to read a ledger without Prisma: the statement, the encrypted columns to decrypt
 * (the bank card for full access only: a masked row shows the stored last four digits), the look-ups
 * and the access. Plain data: it crosses to the export's child process (adapters/files/export-child.ts).
 */
export interface LedgerRead {
  connectionString: string;
  sql: string;
  params: unknown[];
  batchSize: number;
  sealed: number[];
  lookups: LedgerLookups;
  access: LedgerAccess;
}

export async function ledgerRead(db: Db, q: LedgerQuery): Promise<LedgerRead> {
  const { sql, params } = ledgerSql(q.campaignId, q.filters);
  return {
    connectionString: cursorSource(db),
    sql,
    params,
    batchSize: q.pageSize ?? LEDGER_PAGE_SIZE,
    sealed:
      q.access === 'full'
        ? [SQL_ID_NUMBER_ENC, SQL_PHONE_ENC, SQL_BANK_CARD_ENC]
        : [SQL_ID_NUMBER_ENC, SQL_PHONE_ENC],
    lookups: await ledgerLookups(db, q.campaignId),
    access: q.access,
  };
}

/**
 * The one maker of ledger rows from ledgerSql's columns (decrypted): names from the look-ups, the
 * delivery and its entry deadline, masking by access.
 */
export function ledgerRowMaker(
  lookups: LedgerLookups,
  access: LedgerAccess,
  calendar: WorkingCalendar = defaultCalendar,
): (r: unknown[]) => LedgerRow {
  const unionName = new Map(lookups.unionNames);
  const category = new Map(lookups.categories);
  const deadlines = new Map<IsoDate, IsoDate>();
  const full = access === 'full';
  return (r: unknown[]): LedgerRow => {
    const [
      id,
      unionId,
      categoryId,
      status,
      fullName,
      sex,
      idNumber, // the encrypted columns arrive decrypted (see below)
      phone,
      employer,
      workStatus,
      modelWorkerLevel,
      hardshipTier,
      mainCause,
      secondaryCauses,
      benefitForm,
      bankName,
      bankCard,
      bankCardLast4,
      amountFen,
      submittedAt,
      decidedAt,
      enteredProvincialAt,
      flags,
      source,
      paidFen,
      paidCount,
      lastPaidAt,
      handedOverOn,
    ] = r as [
      number,
      number,
      number | null,
      NominationStatusName,
      string | null,
      'male' | 'female' | null,
      string,
      string,
      string | null,
      string | null,
      string | null,
      string | null,
      string | null,
      string[],
      string | null,
      string | null,
      string | null,
      string | null,
      number | null,
      number | null,
      number | null,
      number | null,
      string[],
      string,
      number | null,
      number | null,
      number | null,
      string | null,
    ];
    const cat = categoryId !== null ? category.get(categoryId) : undefined;
    let deliveredOn: IsoDate | null = null;
    let deliveredFen: number | null = null;
    // Delivered: the latest paid payment's day, or the handover day; the entry deadline counts from it
    // (the rule the reminders and the evaluation figures use).
    if (status === 'paid') {
      deliveredFen = paidCount ? paidFen : amountFen;
      deliveredOn = lastPaidAt !== null ? shanghaiDateOf(new Date(lastPaidAt)) : null;
    } else if (status === 'handed_over') {
      deliveredFen = amountFen;
      deliveredOn = handedOverOn;
    }
    let deadline: IsoDate | null = null;
    if (deliveredOn) {
      deadline =
        deadlines.get(deliveredOn) ?? entryDeadlineOn(deliveredOn, lookups.entryWorkingDays, calendar);
      deadlines.set(deliveredOn, deadline);
    }
    return new Row(
      id,
      unionName.get(unionId) ?? String(unionId),
      cat?.nameZh ?? '',
      cat?.nameEn ?? '',
      cat?.kind ?? '',
      fullName ?? '',
      sex,
      full ? birthDateOfIdNumber(idNumber) : maskBirthDate(birthDateOfIdNumber(idNumber)) || null,
      full || !idNumber ? idNumber : maskIdNumber(idNumber),
      full || !phone ? phone : maskPhone(phone),
      employer ?? '',
      workStatus,
      modelWorkerLevel,
      hardshipTier,
      mainCause,
      secondaryCauses ?? [],
      benefitForm,
      bankName ?? '',
      full ? (bankCard ?? '') : bankCardLast4 ? maskBankCard(bankCardLast4) : '',
      amountFen,
      status,
      dateOf(submittedAt),
      dateOf(decidedAt),
      deliveredOn,
      deliveredFen,
      deadline,
      dateOf(enteredProvincialAt),
      flags ?? [],
      source,
    );
  };
}

/**
 * Ledger rows, one page (one cursor batch) at a time, in id order, from a LedgerRead: the rows are read
 * and decrypted by `rows` (FieldCipher.decryptedRows or `decryptedRowsWith`: on the decryption worker's
 * thread, the driver's garbage and AES-GCM stay off this thread and its heap, a batch or two ahead).
 */
export async function* ledgerPagesOf(
  read: LedgerRead,
  rows: (q: DecryptedRowsQuery) => AsyncIterable<unknown[][]>,
  calendar?: WorkingCalendar,
): AsyncGenerator<LedgerRow[]> {
  const toRow = ledgerRowMaker(read.lookups, read.access, calendar);
  const { connectionString, sql, params, batchSize, sealed } = read;
  for await (const batch of rows({ connectionString, sql, params, batchSize, sealed }))
    yield batch.map(toRow);
}

/** Ledger rows, one page (one cursor batch) at a time, in id order (in this process). */
export async function* ledgerPages(db: Db, cipher: FieldCipher, q: LedgerQuery): AsyncGenerator<LedgerRow[]> {
  yield* ledgerPagesOf(await ledgerRead(db, q), (r) => cipher.decryptedRows(r), q.calendar);
}

export interface LedgerExportInput extends LedgerQuery {
  actorId: number;
  /** Writes the rows somewhere (a streamed .xlsx, a CSV...); resolves when the file is complete. */
  sink: (pages: AsyncIterable<LedgerRow[]>) => Promise<unknown>;
}

/**
 * A `run` for exportLedgerVia / exportEntryListVia that reads and decrypts in this process and hands the
 * pages to `sink` (tests, the bench); the staff job's `run` is the export's child process instead.
 */
export function readInThisProcess(
  cipher: FieldCipher,
  sink: (pages: AsyncIterable<LedgerRow[]>) => Promise<unknown>,
  calendar?: WorkingCalendar,
): (read: LedgerRead) => Promise<number> {
  return async (read) => {
    let rows = 0;
    const counted = async function* () {
      for await (const page of ledgerPagesOf(read, (q) => cipher.decryptedRows(q), calendar)) {
        rows += page.length;
        yield page;
      }
    };
    await sink(counted());
    return rows;
  };
}

/** Streams the ledger into `sink` in this process, then audit-logs (as exportLedgerVia). Returns the row count. */
export function exportLedger(db: Db, cipher: FieldCipher, input: LedgerExportInput): Promise<number> {
  return exportLedgerVia(db, { ...input, run: readInThisProcess(cipher, input.sink, input.calendar) });
}

/**
 * The export as the staff job runs it: the look-ups and the statement are read here, `run` reads,
 * decrypts and writes the rows elsewhere (the export's child process) and returns the row count, then
 * the export is audit-logged here.
 */
export async function exportLedgerVia(
  db: Db,
  input: LedgerQuery & { actorId: number; run: (read: LedgerRead) => Promise<number> },
): Promise<number> {
  const rows = await input.run(await ledgerRead(db, input));
  await auditLedgerExport(db, input, rows);
  return rows;
}

/** `ledger.export_full` / `ledger.export_masked` with the filters and the row count, never any values. */
async function auditLedgerExport(
  db: Db,
  input: { actorId: number; campaignId: number; access: LedgerAccess; filters?: LedgerFilters },
  rows: number,
): Promise<void> {
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
