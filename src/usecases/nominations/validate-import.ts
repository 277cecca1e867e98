import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { CipherWorker } from '../../adapters/crypto/field-cipher.ts';
import { type DateInput, shanghaiDateOf } from '../../domain/calendar/date.ts';
import { DomainError } from '../../domain/errors.ts';
import { admitAll } from '../../domain/nomination/admission.ts';
import { validateHardship } from '../../domain/identity/hardship.ts';
import { type TextStep, TEXT_STEPS, validateAnswer } from '../../domain/nomination/answers.ts';
import {
  type CodedColumn,
  requiredColumnsFor,
  type SheetColumn,
  splitList,
  vocabCode,
  vocabFor,
} from '../../domain/nomination/columns.ts';
import { type CategoryInfo, effectiveForm, type Step, stepsFor } from '../../domain/nomination/form.ts';
import {
  type BenefitFormCode,
  type ClearFields,
  fieldsForTextAnswer,
} from '../../domain/nomination/intake.ts';
import { type CandidateKey, loadContact, loadRoom, personFactsReader } from './admission-facts.ts';
import { refusalIssue } from './refusals.ts';
import { RowFeed } from './row-feed.ts';
import { type NominationDeps, toCategoryInfo } from './shared.ts';

// Spreadsheet import, step 1: every row of an uploaded list is checked like a dialog answer
// (validateAnswer, the hardship vocabulary) and then admitted like a submission (the admission rules
// of src/domain/nomination/admission.ts, with the facts for the whole file loaded in a few queries).
// Nothing is stored.
//
// Issue codes: domain codes contain a dot ('id.check_digit' → locale `validation.<code>`); row-level
// codes do not ('duplicate_in_file', 'duplicate_existing', 'duplicate_other', 'vocab_unknown', 'required',
// 'number_precision', 'quota_exceeded', 'budget_exceeded', 'yearly_cap'); warnings: 'card.luhn_warning',
// 'id.very_old', and the review flags ('earlier_campaign', 'self_nomination', 'self_phone', 'shared_phone').

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

/** A valid row: its answers in clear (encrypted when stored), look-up hashes, flags and answered steps. */
export interface ImportedValues {
  fields: ClearFields;
  idHash: string | null;
  phoneHash: string | null;
  cardHash: string | null;
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
  /** The campaign's settings as read for the check (the store takes the drafts' expiry from them). */
  campaignSettings?: unknown;
}

export interface ImportInput {
  personId: number;
  unionId: number;
  campaignId: number;
  categoryId: number;
  /** The file's rows, or a feed of them while the file is still being parsed (row-feed.ts). */
  rows: readonly ImportInputRow[] | RowFeed<ImportInputRow>;
}

export interface ImportProgress {
  /**
   * The file's cipher worker, booted and closed by the caller; without it (or `bootWorker`) a long
   * file boots one of its own for the check.
   */
  worker?: CipherWorker;
  /**
   * Boots the file's cipher worker when a long file needs one, closed by the caller (checkImport
   * shares it between the check and the store). Never called once validateImport has settled.
   */
  bootWorker?: () => CipherWorker;
  /**
   * The caller expects a long file (an upload of LONG_FILE_BYTES or more): the worker boots at once,
   * while the file is still being read (the bot's thread has little to do then), not at its first slice.
   */
  longExpected?: boolean;
  /**
   * Called after each slice of rows is checked (files longer than one slice), once the file's total is
   * known (a feed's slices checked before its end are not reported); must not throw.
   */
  onProgress?: (checked: number, total: number) => void;
}

/** Rows checked between two looks at the event loop (a longer file's hashes go to a worker thread). */
export const PROGRESS_SLICE = 1000;

/** An upload this large is most likely longer than a slice (a 1,000-row .xlsx list is ~70 KB). */
export const LONG_FILE_BYTES = 64 * 1024;

/** Where a review flag points in the sheet. */
const FLAG_COLUMN: Record<string, SheetColumn> = { self_nomination: 'name', self_phone: 'phone' };

async function loadContext(deps: NominationDeps, input: Omit<ImportInput, 'rows'>) {
  const now = deps.now();
  const [campaign, category, grant] = await Promise.all([
    deps.db.campaign.findUnique({ where: { id: input.campaignId } }),
    deps.db.campaignCategory.findUnique({ where: { id: input.categoryId } }),
    deps.db.roleGrant.findFirst({
      where: { personId: input.personId, role: 'contact', unionId: input.unionId, revokedAt: null },
    }),
  ]);
  if (!grant) throw new DomainError('upload_forbidden');
  if (!campaign || !category || category.campaignId !== campaign.id) throw new DomainError('upload_category');
  if (
    now < campaign.nominationOpensAt ||
    now >= campaign.nominationClosesAt ||
    campaign.status === 'archived'
  )
    throw new DomainError('upload_closed');
  return { now, campaign, cat: toCategoryInfo(category) };
}

interface RowPlan {
  steps: Step[];
  required: ReadonlySet<SheetColumn>;
  wanted: ReadonlySet<Step>;
  benefitVocab: ReturnType<typeof vocabFor>;
}

const PLANS = new WeakMap<CategoryInfo, Map<string | undefined, RowPlan>>();

/** What a row of this category and benefit form must answer, worked out once per file, not per row. */
function planFor(cat: CategoryInfo, form: string | undefined): RowPlan {
  let byForm = PLANS.get(cat);
  if (!byForm) {
    byForm = new Map();
    PLANS.set(cat, byForm);
  }
  let plan = byForm.get(form);
  if (!plan) {
    const steps = stepsFor(cat, form);
    plan = {
      steps,
      required: new Set(requiredColumnsFor(cat, form)),
      wanted: new Set(steps),
      benefitVocab: vocabFor('benefit_form', cat),
    };
    byForm.set(form, plan);
  }
  return plan;
}

/**
 * Vocabulary look-ups of one file (column and cell text → code, null when unknown; a list cell → its
 * codes and unknown parts): the same few texts recur on most rows of a file, so each is normalised and
 * looked up once, not once per row.
 */
export interface VocabMemo {
  codes: Map<CodedColumn, Map<string, string | null>>;
  lists: Map<string, { codes: string[]; unknown: string[] }>;
}

export const vocabMemo = (): VocabMemo => ({ codes: new Map(), lists: new Map() });

function codeOf(memo: VocabMemo | undefined, column: CodedColumn, cat: CategoryInfo, v: string) {
  let byText = memo?.codes.get(column);
  if (memo && !byText) {
    byText = new Map();
    memo.codes.set(column, byText);
  }
  let code = byText?.get(v);
  if (code === undefined) {
    const entries = column === 'benefit_form' ? planFor(cat, undefined).benefitVocab : vocabFor(column, cat);
    code = vocabCode(entries, v) ?? null;
    byText?.set(v, code);
  }
  return code ?? undefined;
}

function listCodesOf(memo: VocabMemo | undefined, cat: CategoryInfo, v: string) {
  let out = memo?.lists.get(v);
  if (out === undefined) {
    out = { codes: [], unknown: [] };
    for (const part of splitList(v)) {
      const code = vocabCode(vocabFor('secondary_causes', cat), part);
      if (code) out.codes.push(code);
      else out.unknown.push(part);
    }
    memo?.lists.set(v, out);
  }
  return out;
}

const NO_COLUMNS: ReadonlySet<SheetColumn> = new Set();

/** Checks one row in isolation (no database): text fields, vocabulary, required columns. */
export function checkRow(
  row: ImportInputRow,
  cat: CategoryInfo,
  today: DateInput,
  hash: (kind: 'id' | 'phone' | 'card', v: string) => string,
  memo?: VocabMemo,
): ImportRowResult {
  const issues: ImportIssue[] = row.issues?.length ? [...row.issues] : [];
  const warnings: ImportIssue[] = [];
  const failed: ReadonlySet<SheetColumn> = issues.length
    ? new Set(issues.flatMap((i) => (i.column ? [i.column] : [])))
    : NO_COLUMNS;
  const raw = (c: SheetColumn) => (row.values[c] ?? '').trim();

  // Benefit form first: it decides whether bank details are needed.
  let chosen: string | undefined;
  if (cat.benefitForms.length > 1) {
    const v = raw('benefit_form');
    if (v === '') {
      issues.push({ code: 'required', params: { column: 'benefit_form' }, column: 'benefit_form' });
    } else {
      chosen = codeOf(memo, 'benefit_form', cat, v);
      if (!chosen)
        issues.push({
          code: 'vocab_unknown',
          params: { column: 'benefit_form', value: v },
          column: 'benefit_form',
        });
    }
  }
  const form = effectiveForm(cat, chosen);
  const { steps, required, wanted } = planFor(cat, form);

  const fields: ClearFields = { benefitForm: (form as BenefitFormCode | undefined) ?? null };
  let luhn = false;
  for (const step of TEXT_STEPS as readonly TextStep[]) {
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
    if (r.warnings.some((w) => w.code === 'card.luhn_warning')) luhn = true;
    Object.assign(fields, fieldsForTextAnswer(step, r));
  }

  const coded = new Map<CodedColumn, string>();
  for (const c of ['work_status', 'model_worker_level', 'hardship_tier', 'main_cause'] as const) {
    if (!wanted.has(c)) continue;
    const v = raw(c);
    if (v === '') {
      issues.push({ code: 'required', params: { column: c }, column: c });
      continue;
    }
    const code = codeOf(memo, c, cat, v);
    if (code) coded.set(c, code);
    else issues.push({ code: 'vocab_unknown', params: { column: c, value: v }, column: c });
  }
  const secondary: string[] = [];
  if (wanted.has('secondary_causes')) {
    const listed = listCodesOf(memo, cat, raw('secondary_causes'));
    secondary.push(...listed.codes);
    for (const part of listed.unknown)
      issues.push({
        code: 'vocab_unknown',
        params: { column: 'secondary_causes', value: part },
        column: 'secondary_causes',
      });
    const tier = coded.get('hardship_tier');
    const main = coded.get('main_cause');
    if (tier && main) {
      const h = validateHardship({ tier, mainCause: main, secondaryCauses: secondary });
      if (!h.ok) issues.push({ code: h.code, params: h.params, column: 'secondary_causes' });
    }
  }

  if (issues.length > 0) return { line: row.line, ok: false, issues, warnings };
  Object.assign(fields, {
    workStatus: coded.get('work_status') ?? null,
    modelWorkerLevel: coded.get('model_worker_level') ?? null,
    hardshipTier: coded.get('hardship_tier') ?? null,
    mainCause: coded.get('main_cause') ?? null,
    secondaryCauses: secondary,
  } satisfies ClearFields);
  return {
    line: row.line,
    ok: true,
    issues,
    warnings,
    value: {
      fields,
      idHash: fields.idNumber ? hash('id', fields.idNumber) : null,
      phoneHash: fields.phone ? hash('phone', fields.phone) : null,
      cardHash: fields.bankCard ? hash('card', fields.bankCard) : null,
      flags: luhn ? ['luhn_warning'] : [],
      steps,
    },
  };
}

/**
 * Checks rows[from, to) with their look-up hashes left to the worker: each hash first holds its index
 * in the slice's list of that kind, replaced when the worker answers (the returned promise, which calls
 * `hashed` first).
 */
function checkSlice(
  worker: CipherWorker,
  input: readonly ImportInputRow[],
  rows: ImportRowResult[],
  from: number,
  to: number,
  cat: CategoryInfo,
  today: DateInput,
  memo: VocabMemo,
  hashed: (from: number, to: number) => void,
): Promise<unknown> {
  const wanted = { id: [] as string[], phone: [] as string[], card: [] as string[] };
  const later = (kind: 'id' | 'phone' | 'card', v: string) => String(wanted[kind].push(v) - 1);
  for (let i = from; i < to; i++) rows[i] = checkRow(input[i]!, cat, today, later, memo);
  const done = Promise.all([
    worker.hash('id', wanted.id),
    worker.hash('phone', wanted.phone),
    worker.hash('card', wanted.card),
  ]).then(([ids, phones, cards]) => {
    for (let i = from; i < to; i++) {
      const v = rows[i]!.value;
      if (!v) continue;
      if (v.idHash !== null) v.idHash = ids[Number(v.idHash)]!;
      if (v.phoneHash !== null) v.phoneHash = phones[Number(v.phoneHash)]!;
      if (v.cardHash !== null) v.cardHash = cards[Number(v.cardHash)]!;
    }
    hashed(from, to);
  });
  done.catch(() => {}); // awaited with the other slices
  return done;
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
export async function validateImport(
  deps: NominationDeps,
  input: ImportInput,
  opts: ImportProgress = {},
): Promise<ImportValidation> {
  // A feed's slices are checked as they arrive, while the upload child parses the next ones.
  const feed = input.rows instanceof RowFeed ? input.rows : undefined;
  const all: ImportInputRow[] = feed ? [] : (input.rows as ImportInputRow[]);
  const totalNow = () => (feed ? feed.total : all.length);
  // A long file: more than one slice (a feed that is still coming counts as long).
  const long = () => (totalNow() ?? Number.POSITIVE_INFINITY) > PROGRESS_SLICE;
  // A long file's look-up hashes (three HMACs a row) are computed on a worker thread, a slice at a
  // time, while this thread checks the next slice.
  let worker: CipherWorker | undefined;
  let ownWorker = false;
  let settled = false;
  const workerFor = (): CipherWorker => {
    if (!worker) {
      worker = opts.worker ?? opts.bootWorker?.();
      if (!worker) {
        worker = deps.cipher.worker();
        ownWorker = true;
      }
    }
    return worker;
  };
  // A feed's first slice tells a long file (a short one arrives whole, ended): its worker boots then,
  // while the context is still being read.
  void feed?.arrived.then(() => {
    if (!settled && long()) workerFor();
  });
  try {
    if (feed && opts.longExpected) workerFor();
    return await validateRows(deps, input, opts, { feed, all, totalNow, long, workerFor });
  } finally {
    settled = true;
    if (ownWorker) await worker?.close();
  }
}

async function validateRows(
  deps: NominationDeps,
  input: ImportInput,
  opts: ImportProgress,
  src: {
    feed: RowFeed<ImportInputRow> | undefined;
    all: ImportInputRow[];
    totalNow: () => number | undefined;
    long: () => boolean;
    workerFor: () => CipherWorker;
  },
): Promise<ImportValidation> {
  const { feed, all, totalNow, long, workerFor } = src;
  // The contact's own details are read beside the context.
  const contactRead = loadContact(deps.db, input.personId);
  contactRead.catch(() => {}); // awaited below, or moot when the context refuses the file
  const { now, campaign, cat } = await loadContext(deps, input);
  // "Today" for the date rules, worked out once for the file (as a Date, each row's ID number converted it).
  const today = shanghaiDateOf(now);
  // What admission decides on is read while the rows are checked: the room now, the person facts of
  // each slice's rows as soon as their look-up hashes are known (PostgreSQL reads them while this
  // thread checks the next slice), so that little is left to wait for once the last slice is checked.
  // A row refused later (a duplicate in the file) has had its facts read for nothing.
  const roomRead = loadRoom(deps.db, {
    unionId: input.unionId,
    campaignId: campaign.id,
    budgetFen: campaign.budgetTotalFen,
    cat,
  });
  roomRead.catch(() => {}); // awaited below
  const facts = personFactsReader(deps.db, { campaignId: campaign.id });
  const hash = (kind: 'id' | 'phone' | 'card', v: string) => deps.cipher.hash(kind, v);
  // Rows are checked in slices; between slices the event loop serves other updates and the caller
  // hears how far the check got (a progress message for long files).
  const rows: ImportRowResult[] = feed ? [] : new Array(all.length);
  const memo = vocabMemo();
  const hashed = (from: number, to: number) => {
    const keys: CandidateKey[] = [];
    for (let i = from; i < to; i++) {
      const v = rows[i]!.value;
      if (v) keys.push(v);
    }
    facts.ask(keys);
  };
  const hashing: Promise<unknown>[] = [];
  let from = 0;
  const checkUpTo = async (available: number) => {
    while (from < available) {
      const to = Math.min(available, from + PROGRESS_SLICE);
      if (!long()) {
        for (let i = from; i < to; i++) rows[i] = checkRow(all[i]!, cat, today, hash, memo);
        hashed(from, to);
      } else hashing.push(checkSlice(workerFor(), all, rows, from, to, cat, today, memo, hashed));
      from = to;
      if (long()) {
        const total = totalNow();
        if (total !== undefined) opts.onProgress?.(to, total);
        await yieldToLoop();
      }
    }
  };
  try {
    if (feed)
      for await (const slice of feed) {
        for (const r of slice) all.push(r);
        await checkUpTo(all.length);
      }
    else await checkUpTo(all.length);
  } finally {
    // A slice's hashes may still be on their way when the feed fails: awaited (failures too).
    await Promise.allSettled(hashing);
  }
  await Promise.all(hashing);

  // Duplicates within the file: every row sharing an ID number is refused, naming the other row.
  const byId = new Map<string, ImportRowResult[]>();
  for (const r of rows) {
    const h = r.value?.idHash;
    if (!h) continue;
    const group = byId.get(h);
    if (group) group.push(r);
    else byId.set(h, [r]);
  }
  for (const group of byId.values()) {
    if (group.length < 2) continue;
    for (const r of group) {
      const other = group.find((o) => o !== r)!;
      reject(r, { code: 'duplicate_in_file', params: { row: other.line }, column: 'id_number' });
    }
  }

  // Admission, as at submit, for the rows still valid.
  const candidates = rows.filter((r) => r.ok && r.value);
  const [persons, room, contact] = await Promise.all([
    facts.factsFor({
      campaignId: campaign.id,
      targetPaymentDate: campaign.targetPaymentDate,
      candidates: candidates.map((r) => ({
        idHash: r.value!.idHash,
        phoneHash: r.value!.phoneHash,
        cardHash: r.value!.cardHash,
      })),
    }),
    roomRead,
    contactRead,
  ]);
  const decisions = admitAll(
    cat,
    candidates.map((r) => ({
      fullName: r.value!.fields.fullName ?? null,
      idHash: r.value!.idHash,
      phoneHash: r.value!.phoneHash,
      answerFlags: r.value!.flags,
    })),
    persons,
    room,
    contact,
  );
  let overLimit = 0;
  candidates.forEach((r, i) => {
    const d = decisions[i]!;
    if (!d.ok) {
      if (d.refusal.reason === 'quota' || d.refusal.reason === 'budget') overLimit++;
      const told = refusalIssue(d.refusal, input.unionId);
      reject(r, {
        ...told,
        ...(d.refusal.reason === 'duplicate' || d.refusal.reason === 'paid_by_union'
          ? { column: 'id_number' as const }
          : {}),
      });
      return;
    }
    r.value!.flags = d.flags;
    for (const f of d.flags)
      if (f !== 'luhn_warning')
        r.warnings.push({ code: f, params: {}, ...(FLAG_COLUMN[f] ? { column: FLAG_COLUMN[f] } : {}) });
  });

  const valid = rows.filter((r) => r.ok).length;
  return {
    personId: input.personId,
    unionId: input.unionId,
    campaignId: campaign.id,
    categoryId: cat.id,
    rows,
    valid,
    invalid: rows.length - valid,
    quotaRemaining: room.quotaLeft,
    budgetRemainingFen: room.budgetLeftFen,
    overLimit,
    campaignSettings: campaign.settings,
  };
}
