import { randomBytes } from 'node:crypto';
import { Prisma, type Tx, uniqueViolation } from '../../adapters/db/client.ts';
import { DomainError } from '../../domain/errors.ts';
import { formatYuan } from '../../domain/campaign/money.ts';
import { validateHardship } from '../../domain/identity/hardship.ts';
import { maskIdNumber } from '../../domain/masking.ts';
import { type TextStep, validateAnswer } from '../../domain/nomination/answers.ts';
import {
  type CodedColumn,
  requiredColumnsFor,
  type SheetColumn,
  splitList,
  vocabCode,
  vocabFor,
} from '../../domain/nomination/columns.ts';
import { type CategoryInfo, effectiveForm, type Step, stepsFor } from '../../domain/nomination/form.ts';
import { LIVE_STATUSES, type NominationDeps, revisionSnapshot, toCategoryInfo } from './shared.ts';

// Spreadsheet import of many nominations at once: every row goes through the same checks as the chat
// dialog (validateAnswer, the hardship vocabulary, duplicates, quota, budget, yearly cap), but in bulk:
// one query per check for the whole file, drafts written with createMany, and one serializable
// transaction to submit the batch.
//
// Issue codes: domain codes contain a dot ('id.check_digit' → locale `validation.<code>`); row-level
// codes do not ('duplicate_in_file', 'duplicate_existing', 'vocab_unknown', 'required', 'number_precision',
// 'quota_exceeded', 'budget_exceeded', 'yearly_cap'); warnings: 'card.luhn_warning', 'id.very_old',
// 'earlier_campaign', 'self_nomination', 'self_phone', 'shared_phone'.

export interface ImportIssue {
  code: string;
  params: Record<string, string | number>;
  column?: SheetColumn;
}

export interface ImportInputRow {
  line: number;
  values: Partial<Record<SheetColumn, string>>;
  /** Problems found while reading the cell (e.g. a long number Excel rounded). */
  issues?: readonly ImportIssue[];
}

export interface ImportedValues {
  fullName: string | null;
  idNumber: string | null;
  idHash: string | null;
  birthDate: string | null;
  sex: 'male' | 'female' | null;
  phone: string | null;
  phoneHash: string | null;
  employer: string | null;
  workStatus: string | null;
  modelWorkerLevel: string | null;
  hardshipTier: string | null;
  mainCause: string | null;
  secondaryCauses: string[];
  description: string | null;
  benefitForm: string;
  bankName: string | null;
  bankCard: string | null;
  bankCardLast4: string | null;
  flags: string[];
  steps: Step[];
}

export interface ImportRowResult {
  line: number;
  ok: boolean;
  issues: ImportIssue[];
  warnings: ImportIssue[];
  value?: ImportedValues;
}

export interface ImportValidation {
  personId: number;
  unionId: number;
  campaignId: number;
  categoryId: number;
  rows: ImportRowResult[];
  valid: number;
  invalid: number;
  /** Places left before this file (null = no quota) and budget left (fen). */
  quotaRemaining: number | null;
  budgetRemainingFen: bigint;
  /** Rows that passed every other check but did not fit the quota or budget. */
  overLimit: number;
}

export interface ImportInput {
  personId: number;
  unionId: number;
  campaignId: number;
  categoryId: number;
  rows: readonly ImportInputRow[];
}

const CHUNK = 1000;
const INSERT_CHUNK = 2500;
/** Keeps `IN (...)` lists well below PostgreSQL's 65,535 bind parameters. */
const IN_CHUNK = 5000;
const IMPORT_MARK = 'import:';

export const importMarker = (batchId: string) => `${IMPORT_MARK}${batchId}`;

function chunks<T>(list: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

const normaliseName = (s: string) =>
  s
    .normalize('NFKC')
    .replace(/[\s·•]/g, '')
    .toLowerCase();

async function loadContext(deps: NominationDeps, input: Omit<ImportInput, 'rows'>) {
  const now = deps.now();
  const [campaign, category, grant, person] = await Promise.all([
    deps.db.campaign.findUnique({ where: { id: input.campaignId } }),
    deps.db.campaignCategory.findUnique({ where: { id: input.categoryId } }),
    deps.db.roleGrant.findFirst({
      where: { personId: input.personId, role: 'contact', unionId: input.unionId, revokedAt: null },
    }),
    deps.db.person.findUnique({ where: { id: input.personId } }),
  ]);
  if (!grant || !person) throw new DomainError('upload_forbidden');
  if (!campaign || !category || category.campaignId !== campaign.id) throw new DomainError('upload_category');
  if (
    now < campaign.nominationOpensAt ||
    now >= campaign.nominationClosesAt ||
    campaign.status === 'archived'
  )
    throw new DomainError('upload_closed');
  return { now, campaign, cat: toCategoryInfo(category), person };
}

type Reader = Tx | NominationDeps['db'];

/** Live nominations (any campaign) of these ID hashes, in chunks. */
async function liveByIdHash(db: Reader, hashes: readonly string[]) {
  const out: { idNumberHash: string | null; campaignId: number; status: string; unionName: string }[] = [];
  for (const part of chunks([...new Set(hashes)], IN_CHUNK)) {
    const rows = await db.nomination.findMany({
      where: { idNumberHash: { in: part }, status: { in: [...LIVE_STATUSES] } },
      select: { idNumberHash: true, campaignId: true, status: true, union: { select: { name: true } } },
    });
    for (const r of rows) out.push({ ...r, unionName: r.union.name });
  }
  return out;
}

/** Amount already granted per ID hash in the calendar year (Asia/Shanghai) of `year`. */
async function yearlyAmounts(
  db: Reader,
  hashes: readonly string[],
  year: number,
): Promise<Map<string, number>> {
  const from = new Date(Date.UTC(year, 0, 1) - 8 * 3600_000);
  const to = new Date(Date.UTC(year + 1, 0, 1) - 8 * 3600_000);
  const out = new Map<string, number>();
  for (const part of chunks([...new Set(hashes)], IN_CHUNK)) {
    const groups = await db.nomination.groupBy({
      by: ['idNumberHash'],
      _sum: { amountFen: true },
      where: {
        idNumberHash: { in: part },
        status: { in: [...LIVE_STATUSES] },
        campaign: { targetPaymentDate: { gte: from, lt: to } },
      },
    });
    for (const g of groups) if (g.idNumberHash) out.set(g.idNumberHash, g._sum.amountFen ?? 0);
  }
  return out;
}

async function usedPlaces(
  db: Reader,
  input: { unionId: number; cat: CategoryInfo; campaignId: number; budgetFen: bigint },
) {
  const [used, spent] = await Promise.all([
    input.cat.quotaPerUnion === null
      ? Promise.resolve(0)
      : db.nomination.count({
          where: { unionId: input.unionId, categoryId: input.cat.id, status: { in: [...LIVE_STATUSES] } },
        }),
    db.nomination.aggregate({
      _sum: { amountFen: true },
      where: { campaignId: input.campaignId, status: { in: [...LIVE_STATUSES] } },
    }),
  ]);
  const quotaRemaining =
    input.cat.quotaPerUnion === null ? null : Math.max(0, input.cat.quotaPerUnion - used);
  const budgetRemainingFen = input.budgetFen - BigInt(spent._sum.amountFen ?? 0);
  const byBudget =
    input.cat.standardAmountFen > 0
      ? Number((budgetRemainingFen < 0n ? 0n : budgetRemainingFen) / BigInt(input.cat.standardAmountFen))
      : Number.POSITIVE_INFINITY;
  return {
    quotaRemaining,
    budgetRemainingFen,
    byQuota: quotaRemaining ?? Number.POSITIVE_INFINITY,
    byBudget,
  };
}

/** Checks one row in isolation (no database): text fields, vocabulary, required columns. */
export function checkRow(
  row: ImportInputRow,
  cat: CategoryInfo,
  today: Date,
  hash: (kind: 'id' | 'phone', v: string) => string,
): ImportRowResult {
  const issues: ImportIssue[] = [...(row.issues ?? [])];
  const warnings: ImportIssue[] = [];
  const failed = new Set<SheetColumn>(issues.flatMap((i) => (i.column ? [i.column] : [])));
  const raw = (c: SheetColumn) => (row.values[c] ?? '').trim();

  // Benefit form first: it decides whether bank details are needed.
  let form = effectiveForm(cat, undefined);
  if (cat.benefitForms.length > 1) {
    const v = raw('benefit_form');
    if (v === '') {
      issues.push({ code: 'required', params: { column: 'benefit_form' }, column: 'benefit_form' });
    } else {
      form = vocabCode(vocabFor('benefit_form', cat), v);
      if (!form)
        issues.push({
          code: 'vocab_unknown',
          params: { column: 'benefit_form', value: v },
          column: 'benefit_form',
        });
    }
  }
  const steps = stepsFor(cat, form);
  const required = new Set(requiredColumnsFor(cat, form));
  const wanted = new Set(steps);

  const text = new Map<
    TextStep,
    { value: string; birthDate?: string; sex?: 'male' | 'female'; last4?: string }
  >();
  for (const step of [
    'name',
    'id_number',
    'phone',
    'employer',
    'description',
    'bank_name',
    'bank_card',
  ] as const) {
    if (!wanted.has(step) || failed.has(step)) continue;
    const v = raw(step);
    if (v === '') {
      if (required.has(step)) issues.push({ code: 'required', params: { column: step }, column: step });
      continue;
    }
    const r = validateAnswer(step, v, today);
    if (!r.ok) {
      issues.push({ code: r.code, params: r.params, column: step });
      continue;
    }
    for (const w of r.warnings) warnings.push({ code: w.code, params: w.params, column: step });
    text.set(step, {
      value: r.value,
      ...(r.birthDate ? { birthDate: r.birthDate } : {}),
      ...(r.sex ? { sex: r.sex } : {}),
      ...(r.last4 ? { last4: r.last4 } : {}),
    });
  }

  const coded = new Map<CodedColumn, string>();
  for (const c of ['work_status', 'model_worker_level', 'hardship_tier', 'main_cause'] as const) {
    if (!wanted.has(c)) continue;
    const v = raw(c);
    if (v === '') {
      issues.push({ code: 'required', params: { column: c }, column: c });
      continue;
    }
    const code = vocabCode(vocabFor(c, cat), v);
    if (code) coded.set(c, code);
    else issues.push({ code: 'vocab_unknown', params: { column: c, value: v }, column: c });
  }
  const secondary: string[] = [];
  if (wanted.has('secondary_causes')) {
    for (const part of splitList(raw('secondary_causes'))) {
      const code = vocabCode(vocabFor('secondary_causes', cat), part);
      if (code) secondary.push(code);
      else
        issues.push({
          code: 'vocab_unknown',
          params: { column: 'secondary_causes', value: part },
          column: 'secondary_causes',
        });
    }
    const tier = coded.get('hardship_tier');
    const main = coded.get('main_cause');
    if (tier && main) {
      const h = validateHardship({ tier, mainCause: main, secondaryCauses: secondary });
      if (!h.ok) issues.push({ code: h.code, params: h.params, column: 'secondary_causes' });
    }
  }

  if (issues.length > 0) return { line: row.line, ok: false, issues, warnings };
  const id = text.get('id_number');
  const phone = text.get('phone');
  const card = text.get('bank_card');
  const flags = warnings.some((w) => w.code === 'card.luhn_warning') ? ['luhn_warning'] : [];
  return {
    line: row.line,
    ok: true,
    issues,
    warnings,
    value: {
      fullName: text.get('name')?.value ?? null,
      idNumber: id?.value ?? null,
      idHash: id ? hash('id', id.value) : null,
      birthDate: id?.birthDate ?? null,
      sex: id?.sex ?? null,
      phone: phone?.value ?? null,
      phoneHash: phone ? hash('phone', phone.value) : null,
      employer: text.get('employer')?.value ?? null,
      workStatus: coded.get('work_status') ?? null,
      modelWorkerLevel: coded.get('model_worker_level') ?? null,
      hardshipTier: coded.get('hardship_tier') ?? null,
      mainCause: coded.get('main_cause') ?? null,
      secondaryCauses: secondary,
      description: text.get('description')?.value ?? null,
      benefitForm: form ?? cat.benefitForms[0] ?? 'transfer',
      bankName: text.get('bank_name')?.value ?? null,
      bankCard: card?.value ?? null,
      bankCardLast4: card?.last4 ?? null,
      flags,
      steps,
    },
  };
}

const reject = (r: ImportRowResult, issue: ImportIssue) => {
  r.ok = false;
  r.issues.push(issue);
  delete r.value;
};

/**
 * Validates every row of an uploaded list for one union, campaign and category. Nothing is stored.
 * Valid rows beyond the union's quota or the campaign budget are refused (in file order).
 */
export async function validateImport(deps: NominationDeps, input: ImportInput): Promise<ImportValidation> {
  const { now, campaign, cat, person } = await loadContext(deps, input);
  const hash = (kind: 'id' | 'phone', v: string) => deps.cipher.hash(kind, v);
  const rows = input.rows.map((r) => checkRow(r, cat, now, hash));

  // Duplicates within the file: every row sharing an ID number is refused, naming the other row.
  const byId = new Map<string, ImportRowResult[]>();
  for (const r of rows) {
    const h = r.value?.idHash;
    if (h) byId.set(h, [...(byId.get(h) ?? []), r]);
  }
  for (const group of byId.values()) {
    if (group.length < 2) continue;
    for (const r of group) {
      const other = group.find((o) => o !== r)!;
      reject(r, { code: 'duplicate_in_file', params: { row: other.line }, column: 'id_number' });
    }
  }

  // Against nominations already made (any union): one query for the whole file.
  const hashes = rows.flatMap((r) => (r.value?.idHash ? [r.value.idHash] : []));
  const live = await liveByIdHash(deps.db, hashes);
  const blocking = new Map<string, { status: string; unionName: string }>();
  const earlier = new Set<string>();
  for (const n of live) {
    if (!n.idNumberHash) continue;
    if (n.campaignId === campaign.id) blocking.set(n.idNumberHash, n);
    else earlier.add(n.idNumberHash);
  }
  const selfName = normaliseName(person.displayName);
  for (const r of rows) {
    const v = r.value;
    if (!v) continue;
    const dup = v.idHash ? blocking.get(v.idHash) : undefined;
    if (dup) {
      reject(r, {
        code: 'duplicate_existing',
        params: { union: dup.unionName, status: dup.status },
        column: 'id_number',
      });
      continue;
    }
    if (v.idHash && earlier.has(v.idHash)) {
      v.flags.push('earlier_campaign');
      r.warnings.push({ code: 'earlier_campaign', params: {} });
    }
    if (v.fullName && normaliseName(v.fullName) === selfName) {
      v.flags.push('self_nomination');
      r.warnings.push({ code: 'self_nomination', params: {}, column: 'name' });
    }
    if (v.phoneHash && person.phoneHash === v.phoneHash) {
      v.flags.push('self_phone');
      r.warnings.push({ code: 'self_phone', params: {}, column: 'phone' });
    }
  }

  if (cat.yearlyCapFen !== null) {
    const cap = cat.yearlyCapFen;
    const year = Number(campaign.targetPaymentDate.toISOString().slice(0, 4));
    const already = await yearlyAmounts(deps.db, hashes, year);
    for (const r of rows) {
      const h = r.value?.idHash;
      const got = h ? (already.get(h) ?? 0) : 0;
      if (h && got + cat.standardAmountFen > cap)
        reject(r, { code: 'yearly_cap', params: { cap: formatYuan(cap), already: formatYuan(got) } });
    }
  }

  const places = await usedPlaces(deps.db, {
    unionId: input.unionId,
    cat,
    campaignId: campaign.id,
    budgetFen: campaign.budgetTotalFen,
  });
  let taken = 0;
  let overLimit = 0;
  for (const r of rows) {
    if (!r.ok) continue;
    if (taken >= places.byQuota) {
      overLimit++;
      reject(r, {
        code: 'quota_exceeded',
        params: { quota: cat.quotaPerUnion ?? 0, remaining: places.quotaRemaining ?? 0 },
      });
    } else if (taken >= places.byBudget) {
      overLimit++;
      const left = places.budgetRemainingFen < 0n ? 0n : places.budgetRemainingFen;
      reject(r, {
        code: 'budget_exceeded',
        params: { remaining: formatYuan(Number(left)), places: places.byBudget },
      });
    } else taken++;
  }

  const valid = rows.filter((r) => r.ok).length;
  return {
    personId: input.personId,
    unionId: input.unionId,
    campaignId: campaign.id,
    categoryId: cat.id,
    rows,
    valid,
    invalid: rows.length - valid,
    quotaRemaining: places.quotaRemaining,
    budgetRemainingFen: places.budgetRemainingFen,
    overLimit,
  };
}

function ttlHours(settings: unknown): number {
  const v = (settings as { draft_ttl_hours?: unknown } | null)?.draft_ttl_hours;
  return typeof v === 'number' && v > 0 ? v : 72;
}

/**
 * Stores the valid rows as drafts of one batch (source 'upload', every step answered, draftStep
 * 'import:<batchId>'), replacing the contact's earlier unconfirmed batches. Returns the batch id.
 */
export async function storeDrafts(
  deps: NominationDeps,
  validation: ImportValidation,
): Promise<{ batchId: string; stored: number }> {
  const campaign = await deps.db.campaign.findUniqueOrThrow({ where: { id: validation.campaignId } });
  const batchId = randomBytes(6).toString('base64url');
  const now = deps.now();
  const expires = new Date(now.getTime() + ttlHours(campaign.settings) * 3600_000);
  const data: DraftRow[] = [];
  for (const r of validation.rows) {
    const v = r.value;
    if (!r.ok || !v) continue;
    data.push({
      fullName: v.fullName,
      idNumberEnc: v.idNumber ? deps.cipher.encrypt(v.idNumber) : null,
      idNumberHash: v.idHash,
      birthDate: v.birthDate,
      sex: v.sex,
      phoneEnc: v.phone ? deps.cipher.encrypt(v.phone) : null,
      phoneHash: v.phoneHash,
      employer: v.employer,
      workStatus: v.workStatus,
      modelWorkerLevel: v.modelWorkerLevel,
      hardshipTier: v.hardshipTier,
      mainCause: v.mainCause,
      secondaryCauses: v.secondaryCauses.join(','),
      description: v.description,
      benefitForm: v.benefitForm,
      bankName: v.bankName,
      bankCardEnc: v.bankCard ? deps.cipher.encrypt(v.bankCard) : null,
      bankCardLast4: v.bankCardLast4,
      flags: v.flags.join(','),
      draftAnswered: v.steps.join(','),
    });
  }
  await deps.db.nomination.deleteMany({
    where: { submittedById: validation.personId, status: 'draft', source: 'upload' },
  });
  const shared = {
    campaignId: validation.campaignId,
    categoryId: validation.categoryId,
    unionId: validation.unionId,
    personId: validation.personId,
    marker: importMarker(batchId),
    expires,
    now,
  };
  for (const part of chunks(data, INSERT_CHUNK)) await insertDrafts(deps.db, shared, part);
  return { batchId, stored: data.length };
}

interface DraftRow {
  fullName: string | null;
  idNumberEnc: string | null;
  idNumberHash: string | null;
  birthDate: string | null;
  sex: string | null;
  phoneEnc: string | null;
  phoneHash: string | null;
  employer: string | null;
  workStatus: string | null;
  modelWorkerLevel: string | null;
  hardshipTier: string | null;
  mainCause: string | null;
  /** Codes joined with ',' (codes never contain one). */
  secondaryCauses: string;
  description: string | null;
  benefitForm: string;
  bankName: string | null;
  bankCardEnc: string | null;
  bankCardLast4: string | null;
  flags: string;
  draftAnswered: string;
}

/**
 * One INSERT ... SELECT FROM unnest(...) per chunk: column arrays instead of Prisma's createMany, which
 * in Prisma 7 took ~1.5 s and several hundred MB per 1,000 rows of this table (see bench/).
 */
async function insertDrafts(
  db: Reader,
  s: {
    campaignId: number;
    categoryId: number;
    unionId: number;
    personId: number;
    marker: string;
    expires: Date;
    now: Date;
  },
  rows: readonly DraftRow[],
): Promise<void> {
  const col = <K extends keyof DraftRow>(k: K) => rows.map((r) => r[k]);
  await db.$executeRaw`
    INSERT INTO nomination (
      campaign_id, category_id, union_id, submitted_by_id, status, source, full_name, id_number_enc,
      id_number_hash, birth_date, sex, phone_enc, phone_hash, employer, work_status, model_worker_level,
      hardship_tier, main_cause, secondary_causes, description, benefit_form, bank_name, bank_card_enc,
      bank_card_last4, flags, draft_step, draft_answered, draft_expires_at, created_at, updated_at)
    SELECT ${s.campaignId}::int, ${s.categoryId}::int, ${s.unionId}::int, ${s.personId}::int,
      'draft'::"NominationStatus", 'upload', v.full_name, v.id_enc, v.id_hash, v.birth_date::date,
      v.sex::"Sex", v.phone_enc, v.phone_hash, v.employer, v.work_status, v.model_worker_level,
      v.hardship_tier, v.main_cause, string_to_array(v.secondary_causes, ','), v.description,
      v.benefit_form::"BenefitForm", v.bank_name, v.card_enc, v.card_last4, string_to_array(v.flags, ','),
      ${s.marker}, string_to_array(v.answered, ','), ${s.expires}::timestamp(3), ${s.now}::timestamp(3),
      ${s.now}::timestamp(3)
    FROM unnest(
      ${col('fullName')}::text[], ${col('idNumberEnc')}::text[], ${col('idNumberHash')}::text[],
      ${col('birthDate')}::text[], ${col('sex')}::text[], ${col('phoneEnc')}::text[], ${col('phoneHash')}::text[],
      ${col('employer')}::text[], ${col('workStatus')}::text[], ${col('modelWorkerLevel')}::text[],
      ${col('hardshipTier')}::text[], ${col('mainCause')}::text[], ${col('secondaryCauses')}::text[],
      ${col('description')}::text[], ${col('benefitForm')}::text[], ${col('bankName')}::text[],
      ${col('bankCardEnc')}::text[], ${col('bankCardLast4')}::text[], ${col('flags')}::text[],
      ${col('draftAnswered')}::text[]
    ) AS v(full_name, id_enc, id_hash, birth_date, sex, phone_enc, phone_hash, employer, work_status,
      model_worker_level, hardship_tier, main_cause, secondary_causes, description, benefit_form,
      bank_name, card_enc, card_last4, flags, answered)`;
}

/** Deletes the drafts of an unconfirmed batch. */
export async function cancelImport(
  deps: NominationDeps,
  input: { personId: number; batchId: string },
): Promise<number> {
  const res = await deps.db.nomination.deleteMany({
    where: {
      submittedById: input.personId,
      status: 'draft',
      source: 'upload',
      draftStep: importMarker(input.batchId),
    },
  });
  return res.count;
}

export interface ImportSubmitResult {
  submitted: number;
  /** Rows refused at submit time (someone else was faster, or the quota / budget filled meanwhile). */
  refused: {
    duplicate_existing: number;
    quota_exceeded: number;
    budget_exceeded: number;
    yearly_cap: number;
  };
  flagged: number;
  amountFen: number;
}

/** Submits every draft of a batch in one serializable transaction, re-checking everything in bulk. */
export async function submitImported(
  deps: NominationDeps,
  input: { personId: number; batchId: string },
): Promise<ImportSubmitResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await submitOnce(deps, input);
    } catch (err) {
      const retryable =
        (err instanceof Prisma.PrismaClientKnownRequestError &&
          (err.code === 'P2034' || /40001|could not serialize/i.test(err.message))) ||
        uniqueViolation(err) !== undefined;
      if (!retryable || attempt >= 4) throw err;
    }
  }
}

async function submitOnce(
  deps: NominationDeps,
  input: { personId: number; batchId: string },
): Promise<ImportSubmitResult> {
  const now = deps.now();
  const marker = importMarker(input.batchId);
  const first = await deps.db.nomination.findFirst({
    where: { submittedById: input.personId, status: 'draft', source: 'upload', draftStep: marker },
    include: { campaign: true, category: true },
  });
  if (!first?.category) throw new DomainError('upload_batch_gone');
  const campaign = first.campaign;
  const cat = toCategoryInfo(first.category);
  if (now < campaign.nominationOpensAt || now >= campaign.nominationClosesAt)
    throw new DomainError('upload_closed');

  return deps.db.$transaction(
    async (tx) => {
      const drafts = await tx.nomination.findMany({
        where: { submittedById: input.personId, status: 'draft', source: 'upload', draftStep: marker },
        orderBy: { id: 'asc' },
      });
      if (drafts.length === 0) throw new DomainError('upload_batch_gone');
      const refused = { duplicate_existing: 0, quota_exceeded: 0, budget_exceeded: 0, yearly_cap: 0 };
      const hashes = drafts.flatMap((d) => (d.idNumberHash ? [d.idNumberHash] : []));
      const live = await liveByIdHash(tx, hashes);
      const blocked = new Set(live.filter((n) => n.campaignId === campaign.id).map((n) => n.idNumberHash));
      const earlier = new Set(live.filter((n) => n.campaignId !== campaign.id).map((n) => n.idNumberHash));
      const already =
        cat.yearlyCapFen !== null
          ? await yearlyAmounts(tx, hashes, Number(campaign.targetPaymentDate.toISOString().slice(0, 4)))
          : new Map<string, number>();

      // Phones shared with someone else's nomination in this campaign (or within the batch): flag.
      const phoneOwners = new Map<string, Set<string>>();
      const owners: { phoneHash: string | null; idNumberHash: string | null }[] = [...drafts];
      const phones = drafts.flatMap((d) => (d.phoneHash ? [d.phoneHash] : []));
      for (const part of chunks([...new Set(phones)], IN_CHUNK)) {
        owners.push(
          ...(await tx.nomination.findMany({
            where: {
              campaignId: campaign.id,
              phoneHash: { in: part },
              status: { notIn: ['draft', 'withdrawn', 'rejected'] },
            },
            select: { phoneHash: true, idNumberHash: true },
          })),
        );
      }
      for (const r of owners) {
        if (!r.phoneHash) continue;
        const set = phoneOwners.get(r.phoneHash) ?? new Set<string>();
        set.add(r.idNumberHash ?? '');
        phoneOwners.set(r.phoneHash, set);
      }

      const places = await usedPlaces(tx, {
        unionId: first.unionId,
        cat,
        campaignId: campaign.id,
        budgetFen: campaign.budgetTotalFen,
      });
      const accepted: { draft: (typeof drafts)[number]; flags: string[] }[] = [];
      const rejectedIds: number[] = [];
      for (const d of drafts) {
        const h = d.idNumberHash;
        if (h && blocked.has(h)) refused.duplicate_existing++;
        else if (
          h &&
          cat.yearlyCapFen !== null &&
          (already.get(h) ?? 0) + cat.standardAmountFen > cat.yearlyCapFen
        )
          refused.yearly_cap++;
        else if (accepted.length >= places.byQuota) refused.quota_exceeded++;
        else if (accepted.length >= places.byBudget) refused.budget_exceeded++;
        else {
          const flags = new Set(d.flags.filter((f) => f !== 'earlier_campaign' && f !== 'shared_phone'));
          if (h && earlier.has(h)) flags.add('earlier_campaign');
          if (d.phoneHash && (phoneOwners.get(d.phoneHash)?.size ?? 0) > 1) flags.add('shared_phone');
          accepted.push({ draft: d, flags: [...flags].sort() });
          continue;
        }
        rejectedIds.push(d.id);
      }

      // One update per distinct flag set (a handful), then the per-row dedup keys in one statement.
      const groups = new Map<string, number[]>();
      for (const a of accepted) {
        const key = a.flags.join(',');
        groups.set(key, [...(groups.get(key) ?? []), a.draft.id]);
      }
      for (const [key, ids] of groups) {
        for (const part of chunks(ids, IN_CHUNK)) {
          const res = await tx.nomination.updateMany({
            where: { id: { in: part }, status: 'draft' },
            data: {
              status: 'submitted',
              revision: 1,
              version: { increment: 1 },
              amountFen: cat.standardAmountFen,
              flags: key === '' ? [] : key.split(','),
              submittedAt: now,
              draftExpiresAt: null,
              draftStep: null,
            },
          });
          if (res.count !== part.length) throw new DomainError('upload_batch_gone');
        }
      }
      const acceptedIds = accepted.map((a) => a.draft.id);
      for (const part of chunks(acceptedIds, IN_CHUNK)) {
        await tx.$executeRaw`UPDATE nomination SET dedup_key = campaign_id::text || ':' || id_number_hash
          WHERE id = ANY(${part}::int[]) AND id_number_hash IS NOT NULL`;
      }
      for (const part of chunks(rejectedIds, IN_CHUNK))
        await tx.nomination.deleteMany({ where: { id: { in: part } } });

      const revisions: Prisma.NominationRevisionCreateManyInput[] = [];
      const audits: Prisma.AuditLogCreateManyInput[] = [];
      for (const { draft: n, flags } of accepted) {
        revisions.push({
          nominationId: n.id,
          revision: 1,
          createdById: input.personId,
          snapshot: { ...revisionSnapshot(n, cat, flags), source: 'upload' },
        });
        audits.push({
          actorId: input.personId,
          action: 'nomination.submit',
          entity: 'nomination',
          entityId: String(n.id),
          before: { status: 'draft', revision: 0 },
          after: {
            status: 'submitted',
            revision: 1,
            category: cat.code,
            amountFen: cat.standardAmountFen,
            flags,
            source: 'upload',
            batch: input.batchId,
            idNumber: n.idNumberEnc ? maskIdNumber(deps.cipher.decrypt(n.idNumberEnc)) : null,
          },
        });
      }
      for (const part of chunks(revisions, CHUNK)) await tx.nominationRevision.createMany({ data: part });
      for (const part of chunks(audits, CHUNK)) await tx.auditLog.createMany({ data: part });
      return {
        submitted: accepted.length,
        refused,
        flagged: accepted.filter((a) => a.flags.length > 0).length,
        amountFen: accepted.length * cat.standardAmountFen,
      };
    },
    { isolationLevel: 'Serializable', timeout: 120_000, maxWait: 10_000 },
  );
}
