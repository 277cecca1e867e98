/**
 * Campaign file: YAML text → validated `Campaign`, with every problem listed by its path in the file
 * (e.g. `categories[2].standard_amount`) and its line/column; and `diffCampaigns` for "what changed" on reload.
 */
import { type Document, isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import type { z } from 'zod';
import { defaultCalendar } from '../calendar/index.ts';
import { addDays, formatShanghaiDateTime, type IsoDate, parseShanghaiDateTime } from '../calendar/date.ts';
import type { DateInput } from '../calendar/date.ts';
import type { WorkingCalendar } from '../calendar/working-days.ts';
import { formatYuan, yuanToFen } from './money.ts';
import { type Campaign, campaignFileSchema } from './schema.ts';

export type CampaignProblemCode =
  | 'campaign.yaml_syntax'
  | 'campaign.yaml_aliases'
  | 'campaign.required'
  | 'campaign.type'
  | 'campaign.enum'
  | 'campaign.unknown_key'
  | 'campaign.too_small'
  | 'campaign.too_big'
  | 'campaign.slug_format'
  | 'campaign.category_code_format'
  | 'campaign.amount_format'
  | 'campaign.amount_precision'
  | 'campaign.amount_negative'
  | 'campaign.amount_zero'
  | 'campaign.datetime_format'
  | 'campaign.date_format'
  | 'campaign.time_format'
  | 'campaign.reminder_format'
  | 'campaign.duplicate_code'
  | 'campaign.duplicate_value'
  | 'campaign.timeline_order'
  | 'campaign.budget_allocation'
  | 'campaign.allocations_sum'
  | 'campaign.allocation_rule'
  | 'campaign.amount_above_cap'
  | 'campaign.transfer_needs_bank_card'
  | 'campaign.notice_document_format'
  | 'campaign.invalid';

export type CampaignWarningCode = 'campaign.payment_not_working_day' | 'campaign.calendar_fallback';

export interface CampaignProblem<C extends string = CampaignProblemCode> {
  /** Path in the file: `categories[2].standard_amount`; '' for the whole file. */
  path: string;
  code: C;
  /** English explanation for logs and the admin CLI (chat texts come from locales via `code`). */
  message: string;
  params: Record<string, string | number>;
  /** 1-based position in the file, when it can be located. */
  line?: number;
  col?: number;
}

export type ParseCampaignResult =
  | { ok: true; campaign: Campaign; warnings: CampaignProblem<CampaignWarningCode>[] }
  | { ok: false; problems: CampaignProblem[] };

export interface ParseCampaignOptions {
  /** Calendar for the working-day warnings (default: chinese-days + bundled overrides). */
  calendar?: WorkingCalendar;
}

type PathSeg = string | number;

export function formatPath(path: readonly PathSeg[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? seg : `.${seg}`;
  }
  return out;
}

// --------------------------------------------------------------------------------------------- locating nodes

function locate(
  doc: Document,
  lc: LineCounter,
  path: readonly PathSeg[],
  wantKey = false,
): { line: number; col: number } | undefined {
  let node: unknown = doc.contents;
  let best: Node | null = isMap(node) || isSeq(node) || isScalar(node) ? (node as Node) : null;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i];
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? p.key.value === seg : p.key === seg));
      if (!pair) break;
      const keyNode = isScalar(pair.key) ? pair.key : null;
      if (last && wantKey && keyNode) {
        best = keyNode;
        break;
      }
      node = pair.value;
      if (pair.value && (isMap(pair.value) || isSeq(pair.value) || isScalar(pair.value)))
        best = pair.value as Node;
      else if (keyNode) {
        best = keyNode;
        break;
      }
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg];
      if (!item) break;
      node = item;
      if (isMap(item) || isSeq(item) || isScalar(item)) best = item as Node;
    } else break;
  }
  const offset = best?.range?.[0];
  if (offset === undefined) return undefined;
  return lc.linePos(offset);
}

// --------------------------------------------------------------------------------------------- zod issues

const GENERIC_MESSAGES: Partial<Record<CampaignProblemCode, string>> = {
  'campaign.required': 'required',
  'campaign.unknown_key': 'unknown key (typo?)',
};

function describeType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'list';
  if (typeof v === 'object') return 'mapping';
  return typeof v;
}

function fromZodIssue(issue: z.core.$ZodIssue): Omit<CampaignProblem, 'line' | 'col'>[] {
  const path = issue.path.filter((p): p is PathSeg => typeof p !== 'symbol');
  const at = formatPath(path);
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) {
        return [
          {
            path: at,
            code: 'campaign.required',
            message: GENERIC_MESSAGES['campaign.required']!,
            params: {},
          },
        ];
      }
      return [
        {
          path: at,
          code: 'campaign.type',
          message: `expected ${issue.expected}, found ${describeType(issue.input)}`,
          params: { expected: String(issue.expected), got: describeType(issue.input) },
        },
      ];
    case 'invalid_value':
      return [
        {
          path: at,
          code: 'campaign.enum',
          message: `expected one of: ${issue.values.map(String).join(', ')}`,
          params: { allowed: issue.values.map(String).join(', '), got: String(issue.input) },
        },
      ];
    case 'unrecognized_keys':
      return issue.keys.map((key) => ({
        path: formatPath([...path, key]),
        code: 'campaign.unknown_key' as const,
        message: `unknown key "${key}" (typo?)`,
        params: { key },
      }));
    case 'too_small': {
      const min = Number(issue.minimum);
      const what = issue.origin === 'array' ? 'item(s)' : issue.origin === 'string' ? 'character(s)' : '';
      const message =
        issue.origin === 'string' && min === 1
          ? 'must not be empty'
          : `must be at least ${min} ${what}`.trim();
      return [{ path: at, code: 'campaign.too_small', message, params: { min, origin: issue.origin } }];
    }
    case 'too_big': {
      const max = Number(issue.maximum);
      const what = issue.origin === 'array' ? 'item(s)' : issue.origin === 'string' ? 'character(s)' : '';
      return [
        {
          path: at,
          code: 'campaign.too_big',
          message: `must be at most ${max} ${what}`.trim(),
          params: { max, origin: issue.origin },
        },
      ];
    }
    case 'custom': {
      const params = { ...(issue.params ?? {}) } as Record<string, string | number>;
      const code = (
        typeof params.code === 'string' ? params.code : 'campaign.invalid'
      ) as CampaignProblemCode;
      delete params.code;
      return [{ path: at, code, message: issue.message, params }];
    }
    default:
      return [{ path: at, code: 'campaign.invalid', message: issue.message, params: {} }];
  }
}

// --------------------------------------------------------------------------------------------- cross-field checks

type Raw = Record<string, unknown>;
const asRecord = (v: unknown): Raw | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Raw) : undefined;

function fen(v: unknown): number | undefined {
  if (typeof v !== 'number' && typeof v !== 'string') return undefined;
  const r = yuanToFen(v);
  return r.ok ? r.fen : undefined;
}

interface RawProblem {
  path: PathSeg[];
  code: CampaignProblemCode;
  message: string;
  params: Record<string, string | number>;
}

/** Rules across fields, on the raw data so that they run even when other parts of the file are invalid. */
function crossFieldProblems(raw: Raw): RawProblem[] {
  const out: RawProblem[] = [];

  const budget = asRecord(raw.budget);
  if (budget) {
    const total = fen(budget.total);
    const allocated = fen(budget.allocated_to_unions);
    if (total !== undefined && allocated !== undefined && allocated > total) {
      out.push({
        path: ['budget', 'allocated_to_unions'],
        code: 'campaign.budget_allocation',
        message: `allocated to unions (${formatYuan(allocated)}) exceeds the total budget (${formatYuan(total)})`,
        params: { allocated: formatYuan(allocated), total: formatYuan(total) },
      });
    }
    // Which fields an allocation needs depends on the rule: fixed → amount; equal → neither;
    // by_members → members (no amount: the split decides it).
    const rule = budget.allocation_rule ?? 'fixed';
    if (Array.isArray(budget.allocations) && typeof rule === 'string') {
      budget.allocations.forEach((item, i) => {
        const a = asRecord(item);
        if (!a) return;
        const field =
          rule === 'fixed' && a.amount === undefined
            ? 'amount'
            : rule !== 'fixed' && a.amount !== undefined
              ? 'amount'
              : rule === 'by_members' && a.members === undefined
                ? 'members'
                : rule !== 'by_members' && a.members !== undefined
                  ? 'members'
                  : null;
        if (field)
          out.push({
            path: ['budget', 'allocations', i, field],
            code: 'campaign.allocation_rule',
            message:
              rule === 'fixed'
                ? 'with allocation_rule fixed (the default) each allocation gives its amount, and no members'
                : rule === 'equal'
                  ? 'with allocation_rule equal the amounts are computed: give only the union'
                  : 'with allocation_rule by_members each allocation gives its members, and no amount',
            params: { rule, field },
          });
      });
    }
    // Allocations per union cannot add up to more than the amount allocated to unions.
    if (Array.isArray(budget.allocations) && allocated !== undefined) {
      let sum = 0;
      for (const a of budget.allocations) sum += fen(asRecord(a)?.amount) ?? 0;
      if (sum > allocated)
        out.push({
          path: ['budget', 'allocations'],
          code: 'campaign.allocations_sum',
          message: `the allocations to unions add up to ${formatYuan(sum)}, more than allocated_to_unions (${formatYuan(allocated)})`,
          params: { sum: formatYuan(sum), allocated: formatYuan(allocated) },
        });
    }
  }

  if (Array.isArray(raw.categories)) {
    const firstIndex = new Map<string, number>();
    raw.categories.forEach((item, i) => {
      const c = asRecord(item);
      if (!c) return;
      if (typeof c.code === 'string') {
        const first = firstIndex.get(c.code);
        if (first === undefined) firstIndex.set(c.code, i);
        else {
          out.push({
            path: ['categories', i, 'code'],
            code: 'campaign.duplicate_code',
            message: `category code "${c.code}" is already used by categories[${first}]`,
            params: { code: c.code, first: `categories[${first}]` },
          });
        }
      }
      for (const listKey of ['benefit_forms', 'required_fields'] as const) {
        const list = c[listKey];
        if (!Array.isArray(list)) continue;
        const seen = new Set<unknown>();
        list.forEach((v, k) => {
          if (seen.has(v)) {
            out.push({
              path: ['categories', i, listKey, k],
              code: 'campaign.duplicate_value',
              message: `"${String(v)}" is listed twice`,
              params: { value: String(v) },
            });
          }
          seen.add(v);
        });
      }
      if (
        Array.isArray(c.benefit_forms) &&
        c.benefit_forms.includes('transfer') &&
        Array.isArray(c.required_fields) &&
        !c.required_fields.includes('bank_card')
      ) {
        out.push({
          path: ['categories', i, 'required_fields'],
          code: 'campaign.transfer_needs_bank_card',
          message: 'benefit form "transfer" (real-name bank transfer) needs bank_card in required_fields',
          params: {},
        });
      }
      const amount = fen(c.standard_amount);
      const cap = fen(c.yearly_cap);
      if (amount !== undefined && cap !== undefined && amount > cap) {
        out.push({
          path: ['categories', i, 'standard_amount'],
          code: 'campaign.amount_above_cap',
          message: `standard amount ${formatYuan(amount)} is above the yearly cap ${formatYuan(cap)}`,
          params: { amount: formatYuan(amount), cap: formatYuan(cap) },
        });
      }
    });
  }

  const timeline = asRecord(raw.timeline);
  if (timeline) {
    const dt = (k: string) => (typeof timeline[k] === 'string' ? parseShanghaiDateTime(timeline[k]) : null);
    const opens = dt('nomination_opens');
    const closes = dt('nomination_closes');
    const review = dt('review_deadline');
    const payment =
      typeof timeline.target_payment_date === 'string' ? timeline.target_payment_date.trim() : null;
    const order = (field: string, after: string, message: string) =>
      out.push({
        path: ['timeline', field],
        code: 'campaign.timeline_order',
        message,
        params: { field, after },
      });
    if (opens && closes && closes.getTime() <= opens.getTime()) {
      order('nomination_closes', 'nomination_opens', 'nomination_closes must be after nomination_opens');
    }
    if (closes && review && review.getTime() < closes.getTime()) {
      order('review_deadline', 'nomination_closes', 'review_deadline must not be before nomination_closes');
    }
    if (review && payment && /^\d{4}-\d{2}-\d{2}$/.test(payment)) {
      const reviewDate = formatShanghaiDateTime(review).slice(0, 10);
      if (payment < reviewDate) {
        order(
          'target_payment_date',
          'review_deadline',
          'target_payment_date must not be before review_deadline',
        );
      }
    }
  }
  return out;
}

// --------------------------------------------------------------------------------------------- parse

/** Parses and validates a campaign file. Never throws for bad input. */
export function parseCampaignFile(text: string, options: ParseCampaignOptions = {}): ParseCampaignResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        return {
          path: '',
          code: 'campaign.yaml_syntax' as const,
          message: (e.message.split('\n')[0] ?? e.message).replace(/:$/, ''),
          params: { yaml_code: e.code, ...(pos ? { line: pos.line, col: pos.col } : {}) },
          ...(pos ? { line: pos.line, col: pos.col } : {}),
        };
      }),
    };
  }

  // An alias bomb ("billion laughs": anchors referencing anchors) makes toJS throw once it passes the
  // alias budget: a problem in the file, not an exception.
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch {
    return {
      ok: false,
      problems: [
        {
          path: '',
          code: 'campaign.yaml_aliases',
          message: 'too many YAML aliases (*name): the file expands to an excessive size',
          params: { max: 100 },
          line: 1,
          col: 1,
        },
      ],
    };
  }
  const rawRecord = asRecord(raw);
  if (!rawRecord) {
    return {
      ok: false,
      problems: [
        {
          path: '',
          code: 'campaign.type',
          message: 'the file must be a YAML mapping (code:, title:, budget: …)',
          params: { expected: 'mapping', got: describeType(raw) },
          line: 1,
          col: 1,
        },
      ],
    };
  }

  const withPosition = <C extends string>(
    p: CampaignProblem<C>,
    segs: readonly PathSeg[],
    key = false,
  ): CampaignProblem<C> => {
    const pos = locate(doc, lineCounter, segs, key);
    return pos ? { ...p, line: pos.line, col: pos.col } : p;
  };

  const problems: CampaignProblem[] = [];
  const parsed = campaignFileSchema.safeParse(rawRecord, { reportInput: true });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const basePath = issue.path.filter((p): p is PathSeg => typeof p !== 'symbol');
      for (const p of fromZodIssue(issue)) {
        const segs = issue.code === 'unrecognized_keys' ? [...basePath, p.params.key as string] : basePath;
        problems.push(withPosition(p, segs, issue.code === 'unrecognized_keys'));
      }
    }
  }
  for (const p of crossFieldProblems(rawRecord)) {
    const problem = { path: formatPath(p.path), code: p.code, message: p.message, params: p.params };
    if (!problems.some((q) => q.path === problem.path && q.code === problem.code)) {
      problems.push(withPosition(problem, p.path));
    }
  }
  if (problems.length > 0 || !parsed.success) {
    problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0));
    return { ok: false, problems };
  }

  const campaign = parsed.data;
  const warnings = campaignWarnings(campaign, options.calendar ?? defaultCalendar).map((w) =>
    withPosition(w, w.path === '' ? [] : w.path.split('.')),
  );
  return { ok: true, campaign, warnings };
}

/** Non-blocking observations about a valid campaign (the admin is told, the file is accepted). */
export function campaignWarnings(
  campaign: Campaign,
  calendar: WorkingCalendar = defaultCalendar,
): CampaignProblem<CampaignWarningCode>[] {
  const out: CampaignProblem<CampaignWarningCode>[] = [];
  const pay = campaign.timeline.targetPaymentDate;
  const firstYear = Number(formatShanghaiDateTime(campaign.timeline.nominationOpens).slice(0, 4));
  // The provincial-entry deadline can lie well after payment: check the calendar up to ~3 months later.
  const lastYear = Number(addDays(pay, campaign.timeline.provincialEntryWorkingDays * 3).slice(0, 4));
  for (let year = firstYear; year <= lastYear; year++) {
    if (!calendar.coverage(year).reliable) {
      out.push({
        path: 'timeline',
        code: 'campaign.calendar_fallback',
        message: `no official holiday schedule for ${year}: working days assume Monday-Friday (add it to config/calendar-overrides.json)`,
        params: { year },
      });
    }
  }
  if (!calendar.isWorkingDay(pay)) {
    out.push({
      path: 'timeline.target_payment_date',
      code: 'campaign.payment_not_working_day',
      message: `target_payment_date ${pay} is not a working day (next: ${calendar.nextWorkingDay(pay)})`,
      params: { date: pay, next: calendar.nextWorkingDay(pay) },
    });
  }
  return out;
}

/** Last day for entering a payment made on `paidOn` into the provincial system (N working days later). */
export function provincialEntryDeadline(
  campaign: Campaign,
  paidOn: DateInput,
  calendar: WorkingCalendar = defaultCalendar,
): IsoDate {
  return calendar.addWorkingDays(paidOn, campaign.timeline.provincialEntryWorkingDays);
}

// --------------------------------------------------------------------------------------------- file view & diff

export type DiffValue = string | number | boolean | null;

export interface CampaignChange {
  /** File path; categories are addressed by code, not index: `categories[needy_worker].standard_amount`. */
  path: string;
  kind: 'added' | 'removed' | 'changed';
  before: DiffValue;
  after: DiffValue;
}

type View = { [key: string]: DiffValue | View | View[] };

/**
 * The campaign in file terms (snake_case, money as '800.00' yuan strings, Shanghai wall-clock times,
 * lists joined with ', '), for diffs and display.
 */
export function campaignFileView(c: Campaign): View {
  const money = (f: number | null) => (f === null ? null : formatYuan(f));
  return {
    code: c.code,
    title: { zh: c.title.zh, en: c.title.en },
    organiser: c.organiser,
    notice_document: c.noticeDocument ?? null,
    budget: {
      total: money(c.budget.totalFen),
      allocated_to_unions: money(c.budget.allocatedToUnionsFen),
      allocations: (c.budget.allocations ?? []).map((a) => `${a.union}: ${money(a.amountFen)}`).join('; '),
    },
    categories: c.categories.map((k) => ({
      code: k.code,
      name: { zh: k.name.zh, en: k.name.en },
      kind: k.kind,
      standard_amount: money(k.standardAmountFen),
      benefit_forms: k.benefitForms.join(', '),
      required_fields: k.requiredFields.join(', '),
      quota_per_union: k.quotaPerUnion,
      yearly_cap: money(k.yearlyCapFen),
    })),
    timeline: {
      nomination_opens: formatShanghaiDateTime(c.timeline.nominationOpens),
      nomination_closes: formatShanghaiDateTime(c.timeline.nominationCloses),
      review_deadline: formatShanghaiDateTime(c.timeline.reviewDeadline),
      target_payment_date: c.timeline.targetPaymentDate,
      provincial_entry_working_days: c.timeline.provincialEntryWorkingDays,
    },
    settings: {
      review_sla_hours: c.settings.reviewSlaHours,
      four_eyes: {
        above_amount: money(c.settings.fourEyes.aboveAmountFen),
        flagged: c.settings.fourEyes.flagged,
      },
      reminders: { before_close: c.settings.reminders.beforeClose.map((r) => r.spec).join(', ') },
      quiet_hours: { start: c.settings.quietHours.start, end: c.settings.quietHours.end },
      draft_ttl_hours: c.settings.draftTtlHours,
      auditor_full_values: c.settings.auditorFullValues === true,
    },
  };
}

function diffViews(path: string, a: View, b: View, out: CampaignChange[]): void {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  for (const key of keys) {
    const p = path === '' ? key : `${path}.${key}`;
    const before = a[key];
    const after = b[key];
    if (Array.isArray(before) || Array.isArray(after)) continue; // only `categories`, handled by the caller
    if (isView(before) && isView(after)) diffViews(p, before, after, out);
    else if (before !== after) {
      out.push({
        path: p,
        kind: 'changed',
        before: (before as DiffValue) ?? null,
        after: (after as DiffValue) ?? null,
      });
    }
  }
}

function isView(v: unknown): v is View {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Human-meaningful changes from `before` to `after`, in file order; empty when nothing changed. */
export function diffCampaigns(before: Campaign, after: Campaign): CampaignChange[] {
  const a = campaignFileView(before);
  const b = campaignFileView(after);
  const out: CampaignChange[] = [];
  diffViews('', a, b, out);

  const catsA = a.categories as View[];
  const catsB = b.categories as View[];
  const byCode = (list: View[]) => new Map(list.map((c) => [String(c.code), c]));
  const mapA = byCode(catsA);
  const mapB = byCode(catsB);
  const nameOf = (c: View) => {
    const name = c.name as View;
    return `${String(name.zh)} (${String(c.code)})`;
  };
  for (const cat of catsA) {
    const code = String(cat.code);
    const other = mapB.get(code);
    if (!other) out.push({ path: `categories[${code}]`, kind: 'removed', before: nameOf(cat), after: null });
    else diffViews(`categories[${code}]`, cat, other, out);
  }
  for (const cat of catsB) {
    const code = String(cat.code);
    if (!mapA.has(code))
      out.push({ path: `categories[${code}]`, kind: 'added', before: null, after: nameOf(cat) });
  }
  const commonA = catsA.map((c) => String(c.code)).filter((c) => mapB.has(c));
  const commonB = catsB.map((c) => String(c.code)).filter((c) => mapA.has(c));
  if (commonA.join(',') !== commonB.join(',')) {
    out.push({ path: 'categories', kind: 'changed', before: commonA.join(', '), after: commonB.join(', ') });
  }
  return out;
}
