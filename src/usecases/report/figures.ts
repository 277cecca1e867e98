import type { Db } from '../../adapters/db/client.ts';
import { defaultCalendar } from '../../domain/calendar/index.ts';
import { type IsoDate, shanghaiDateOf } from '../../domain/calendar/date.ts';
import type { WorkingCalendar } from '../../domain/calendar/working-days.ts';
import { entryDeadline } from '../../domain/reminders/index.ts';
import { formatChainHead } from '../../domain/audit/chain.ts';
import { readChainHead } from '../audit-chain.ts';
import { type AllocationLine, allocationReconciliation } from '../allocations.ts';

// 绩效评价 figures: every number of the evaluation report, computed here and only here from PostgreSQL,
// so the /report message, the chart, the .docx draft and /entry_status always agree. Aggregates run in
// SQL (a province is hundreds of thousands of rows); the result is a plain, JSON-safe object (money in
// integer fen as JS numbers, dates as YYYY-MM-DD or ISO strings).
//
// Definitions (what each figure counts):
// - nominated: nominations ever submitted (status other than draft); withdrawn ones included.
// - approved: approved, in a payment batch, paid, payment failed or handed over.
// - recipients (受慰问): paid or handed over. Amount: the paid payment(s) for `paid` (the nomination's
//   amount when no payment row exists), the nomination's amount for goods `handed_over`.
// - spent = direct (recipients' amounts) + allocated to grassroots unions (campaign.budgetUnionsFen:
//   the bot keeps no separate record of that transfer; it is the amount set in the campaign file).
// - disbursement rate = recipients / approved.
// - reach rate = recipients with at least one `payment` / `handover` notice sent (any channel) / recipients.
// - follow-up confirmation rate = recipients who confirmed receipt (audit action `receipt.received`,
//   written when the recipient presses "Received") or whose follow-up staff closed with an outcome / recipients.
// - timeliness: submitted no later than nominationClosesAt; decided within `reviewSlaHours` of the
//   (latest) submission; entered into the provincial system within `entryWorkingDays` working days of
//   the latest paid payment (same deadline as the reminders: domain/reminders `entryDeadline`).
//   Entry applies to `paid` nominations (real-name transfers), as in the reminders and /deadlines.
// - accuracy: return / reject decisions by reason; entry refusals recorded as audit action
//   `nomination.entry_blocked` (entity campaign) with `after.reason` `duplicate` or `id_invalid`
//   (see `recordEntryBlocked`); review flags raised at entry.

export const RECIPIENT_STATUSES = ['paid', 'handed_over'] as const;
export const APPROVED_STATUSES = ['approved', 'in_batch', 'paid', 'payment_failed', 'handed_over'] as const;
export const RECEIPT_CONFIRMED_ACTION = 'receipt.received';
export const RECEIPT_DENIED_ACTION = 'receipt.not_received';
export const ENTRY_BLOCKED_ACTION = 'nomination.entry_blocked';
export const DEFAULT_REVIEW_SLA_HOURS = 48;
/** "Unions reached within N hours of opening": N. */
export const OPENING_REACH_HOURS = 24;

export interface Ratio {
  num: number;
  den: number;
  /** num / den, or null when den is 0. */
  rate: number | null;
}

export const ratio = (num: number, den: number): Ratio => ({ num, den, rate: den > 0 ? num / den : null });

/** '99.5%' (one decimal, trailing .0 dropped) or '—' when there is nothing to measure. */
export function formatRate(r: Ratio | number | null): string {
  const v = typeof r === 'number' || r === null ? r : r.rate;
  if (v === null) return '—';
  const s = (Math.round(v * 1000) / 10).toFixed(1).replace(/\.0$/, '');
  return `${s}%`;
}

export interface CategoryFigures {
  categoryId: number | null;
  code: string;
  nameZh: string;
  nameEn: string;
  kind: string;
  standardAmountFen: number | null;
  nominated: number;
  approved: number;
  recipients: number;
  amountFen: number;
  paid: number;
  handedOver: number;
}

export interface FormFigures {
  form: 'transfer' | 'in_kind' | 'unit_condolence' | 'unknown';
  recipients: number;
  amountFen: number;
}

export interface ReasonCount {
  reason: string;
  count: number;
}

export interface EntryFigures {
  workingDays: number;
  /** Paid nominations (the entry obligation). */
  required: number;
  entered: number;
  enteredOnTime: number;
  enteredLate: number;
  /** Not entered, deadline today or later. */
  due: number;
  /** Not entered, deadline passed. */
  overdue: number;
  /** Paid status but no paid payment row (no payment date to count from). */
  noPaymentDate: number;
  /** Earliest deadline among the `due` ones. */
  nextDeadline: IsoDate | null;
  /** On time / (entered + overdue): outcomes already known. */
  onTimeRate: Ratio;
}

export interface CampaignFigures {
  asOf: string;
  asOfDate: IsoDate;
  campaign: {
    id: number;
    code: string;
    titleZh: string;
    titleEn: string;
    organiser: string;
    status: string;
    nominationClosesAt: string;
    reviewDeadline: string;
    targetPaymentDate: IsoDate;
    entryWorkingDays: number;
    reviewSlaHours: number;
  };
  budget: {
    totalFen: number;
    allocatedToUnionsFen: number;
    /** Per grassroots union: allocated, reported (its recipients), returned (campaign file `budget.allocations`). */
    unions: {
      lines: AllocationLine[];
      allocatedFen: number;
      reportedFen: number;
      returnedFen: number;
      recipients: number;
      notReported: number;
    };
    directBudgetFen: number;
    directSpentFen: number;
    spentFen: number;
    balanceFen: number;
    /** spent / total. */
    execution: Ratio;
  };
  categories: CategoryFigures[];
  forms: FormFigures[];
  /** The audit chain's head when the figures were read ("#<seq> <hash>"): printed in every report and ledger. */
  auditHead: string;
  statusCounts: Record<string, number>;
  totals: {
    nominated: number;
    approved: number;
    recipients: number;
    amountFen: number;
    /** Waiting for a reviewer (submitted, pending second approval). */
    inReview: number;
    /** Returned for correction and not resubmitted yet. */
    returned: number;
    rejected: number;
    withdrawn: number;
    /** Approved, in a batch or failed: not yet paid. */
    unpaid: number;
  };
  disbursement: Ratio;
  reach: Ratio & { noticeStatus: Record<string, number> };
  followUp: Ratio & {
    confirmedByRecipient: number;
    confirmedByStaff: number;
    notReceived: number;
    openFollowUps: number;
  };
  timeliness: {
    submission: Ratio;
    review: Ratio & { slaHours: number };
    entry: EntryFigures;
  };
  /** How fast the opening notice reached the grassroots unions and how soon they acted on it. */
  opening: {
    reachHours: number;
    /** Active unions of the federation with a contact who got the opening notice within reachHours. */
    reached: Ratio;
    /** Median hours from opening to a union's first submission (unions that submitted); null if none. */
    medianHoursToFirstSubmission: number | null;
    unionsSubmitted: number;
  };
  accuracy: {
    returnDecisions: number;
    returnedNominations: number;
    returnedByReason: ReasonCount[];
    rejectDecisions: number;
    rejectedNominations: number;
    rejectedByReason: ReasonCount[];
    duplicatesBlocked: number;
    idErrorsCaught: number;
    flags: ReasonCount[];
  };
}

const num = (v: unknown): number => (typeof v === 'bigint' ? Number(v) : Number(v ?? 0));

function reviewSlaHours(settings: unknown): number {
  const s = (settings ?? {}) as { reviewSlaHours?: unknown; review_sla_hours?: unknown };
  const v = s.reviewSlaHours ?? s.review_sla_hours;
  return typeof v === 'number' && v > 0 ? v : DEFAULT_REVIEW_SLA_HOURS;
}

/** Every figure of one campaign at `now`. Throws when the campaign does not exist. */
export async function campaignFigures(
  db: Db,
  campaignId: number,
  now: Date,
  calendar: WorkingCalendar = defaultCalendar,
): Promise<CampaignFigures> {
  const c = await db.campaign.findUniqueOrThrow({
    where: { id: campaignId },
    include: { categories: { orderBy: [{ sortOrder: 'asc' }, { id: 'asc' }] } },
  });
  const slaHours = reviewSlaHours(c.settings);
  const today = shanghaiDateOf(now);

  const [
    groups,
    timing,
    entryRows,
    reachRows,
    noticeRows,
    confirmRows,
    decisionRows,
    blockedRows,
    flagRows,
    openingRows,
  ] = await Promise.all([
    db.$queryRaw<
      { categoryId: number | null; status: string; form: string | null; n: number; fen: bigint }[]
    >`
        SELECT n.category_id AS "categoryId", n.status::text AS status, n.benefit_form::text AS form,
               count(*)::int AS n,
               coalesce(sum(CASE WHEN n.status = 'paid' THEN coalesce(p.fen, n.amount_fen)
                                 WHEN n.status = 'handed_over' THEN n.amount_fen ELSE 0 END), 0)::bigint AS fen
        FROM nomination n
        LEFT JOIN (SELECT nomination_id, sum(amount_fen) AS fen FROM payment
                   WHERE status = 'paid'
                     AND nomination_id IN (SELECT id FROM nomination WHERE campaign_id = ${campaignId})
                   GROUP BY nomination_id) p ON p.nomination_id = n.id
        WHERE n.campaign_id = ${campaignId} AND n.status <> 'draft'
        GROUP BY 1, 2, 3`,
    db.$queryRaw<{ submitted: number; onTime: number; decided: number; withinSla: number }[]>`
        SELECT count(*) FILTER (WHERE n.submitted_at IS NOT NULL)::int AS submitted,
               count(*) FILTER (WHERE n.submitted_at <= c.nomination_closes_at)::int AS "onTime",
               count(*) FILTER (WHERE n.decided_at IS NOT NULL AND n.submitted_at IS NOT NULL)::int AS decided,
               count(*) FILTER (WHERE n.decided_at - n.submitted_at <= make_interval(hours => ${slaHours}))::int
                 AS "withinSla"
        FROM nomination n JOIN campaign c ON c.id = n.campaign_id
        WHERE n.campaign_id = ${campaignId} AND n.status <> 'draft'`,
    entryRowsOf(db, campaignId),
    db.$queryRaw<{ reached: number }[]>`
        SELECT count(*)::int AS reached FROM nomination n
        WHERE n.campaign_id = ${campaignId} AND n.status IN ('paid', 'handed_over')
          AND EXISTS (SELECT 1 FROM notice t WHERE t.nomination_id = n.id
                      AND t.kind IN ('payment', 'handover') AND t.status = 'sent')`,
    db.$queryRaw<{ status: string; n: number }[]>`
        SELECT t.status::text AS status, count(*)::int AS n
        FROM notice t JOIN nomination n ON n.id = t.nomination_id
        WHERE n.campaign_id = ${campaignId} AND t.kind IN ('payment', 'handover')
        GROUP BY 1`,
    db.$queryRaw<{ byRecipient: number; byStaff: number; notReceived: number; openFollowUps: number }[]>`
        WITH r AS (
          SELECT n.id,
                 EXISTS (SELECT 1 FROM audit_log a WHERE a.entity = 'nomination' AND a.entity_id = n.id::text
                         AND a.action = ${RECEIPT_CONFIRMED_ACTION}) AS confirmed,
                 EXISTS (SELECT 1 FROM audit_log a WHERE a.entity = 'nomination' AND a.entity_id = n.id::text
                         AND a.action = ${RECEIPT_DENIED_ACTION}) AS denied,
                 EXISTS (SELECT 1 FROM follow_up f WHERE f.nomination_id = n.id AND f.status = 'closed') AS closed
          FROM nomination n
          WHERE n.campaign_id = ${campaignId} AND n.status IN ('paid', 'handed_over'))
        SELECT count(*) FILTER (WHERE confirmed)::int AS "byRecipient",
               count(*) FILTER (WHERE NOT confirmed AND closed)::int AS "byStaff",
               count(*) FILTER (WHERE denied)::int AS "notReceived",
               (SELECT count(*)::int FROM follow_up f JOIN nomination n ON n.id = f.nomination_id
                WHERE n.campaign_id = ${campaignId} AND f.status = 'open') AS "openFollowUps"
        FROM r`,
    db.$queryRaw<{ kind: string; reason: string; decisions: number; nominations: number }[]>`
        SELECT d.kind::text AS kind, coalesce(nullif(trim(d.reason), ''), '') AS reason,
               count(*)::int AS decisions, count(DISTINCT d.nomination_id)::int AS nominations
        FROM review_decision d JOIN nomination n ON n.id = d.nomination_id
        WHERE n.campaign_id = ${campaignId} AND d.kind IN ('return', 'reject')
        GROUP BY 1, 2`,
    db.$queryRaw<{ reason: string | null; n: number }[]>`
        SELECT a.after ->> 'reason' AS reason, count(*)::int AS n FROM audit_log a
        WHERE a.action = ${ENTRY_BLOCKED_ACTION} AND a.entity = 'campaign' AND a.entity_id = ${String(campaignId)}
        GROUP BY 1`,
    db.$queryRaw<{ flag: string; n: number }[]>`
        SELECT f AS flag, count(*)::int AS n FROM nomination n, unnest(n.flags) AS f
        WHERE n.campaign_id = ${campaignId} AND n.status <> 'draft'
        GROUP BY 1 ORDER BY 2 DESC, 1`,
    db.$queryRaw<{ unions: number; reached: number; median: number | null; submitted: number }[]>`
        SELECT
          (SELECT count(*)::int FROM grassroots_union u
           WHERE u.federation_id = ${c.federationId} AND u.active) AS unions,
          (SELECT count(DISTINCT g.union_id)::int FROM notice t
           JOIN role_grant g ON g.person_id = t.person_id AND g.role = 'contact'
           JOIN grassroots_union u ON u.id = g.union_id AND u.active AND u.federation_id = ${c.federationId}
           WHERE t.campaign_id = ${campaignId} AND t.kind = 'campaign_opened' AND t.status = 'sent'
             AND t.sent_at <= ${new Date(c.nominationOpensAt.getTime() + OPENING_REACH_HOURS * 3_600_000)})
            AS reached,
          (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY (extract(epoch FROM f.first) - ${c.nominationOpensAt.getTime() / 1000}) / 3600)
           FROM (SELECT min(n.submitted_at) AS first FROM nomination n
                 WHERE n.campaign_id = ${campaignId} AND n.submitted_at IS NOT NULL GROUP BY n.union_id) f)::float8
            AS median,
          (SELECT count(DISTINCT n.union_id)::int FROM nomination n
           WHERE n.campaign_id = ${campaignId} AND n.submitted_at IS NOT NULL) AS submitted`,
  ]);

  // ------------------------------------------------------------------------------ per category / status
  const cats = new Map<number | null, CategoryFigures>();
  for (const k of c.categories) {
    cats.set(k.id, {
      categoryId: k.id,
      code: k.code,
      nameZh: k.nameZh,
      nameEn: k.nameEn,
      kind: k.kind,
      standardAmountFen: k.standardAmountFen,
      nominated: 0,
      approved: 0,
      recipients: 0,
      amountFen: 0,
      paid: 0,
      handedOver: 0,
    });
  }
  const statusCounts: Record<string, number> = {};
  const forms = new Map<FormFigures['form'], FormFigures>();
  for (const g of groups) {
    const n = num(g.n);
    const fen = num(g.fen);
    statusCounts[g.status] = (statusCounts[g.status] ?? 0) + n;
    let cat = cats.get(g.categoryId);
    if (!cat) {
      cat = {
        categoryId: g.categoryId,
        code: 'uncategorised',
        nameZh: '未分类',
        nameEn: 'No category',
        kind: 'other',
        standardAmountFen: null,
        nominated: 0,
        approved: 0,
        recipients: 0,
        amountFen: 0,
        paid: 0,
        handedOver: 0,
      };
      cats.set(g.categoryId, cat);
    }
    cat.nominated += n;
    if ((APPROVED_STATUSES as readonly string[]).includes(g.status)) cat.approved += n;
    if ((RECIPIENT_STATUSES as readonly string[]).includes(g.status)) {
      cat.recipients += n;
      cat.amountFen += fen;
      if (g.status === 'paid') cat.paid += n;
      else cat.handedOver += n;
      const form = (g.form ?? 'unknown') as FormFigures['form'];
      const f = forms.get(form) ?? { form, recipients: 0, amountFen: 0 };
      f.recipients += n;
      f.amountFen += fen;
      forms.set(form, f);
    }
  }
  const categories = [...cats.values()];
  const sum = (pick: (c: CategoryFigures) => number) => categories.reduce((a, k) => a + pick(k), 0);
  const count = (...statuses: string[]) => statuses.reduce((a, s) => a + (statusCounts[s] ?? 0), 0);
  const totals = {
    nominated: sum((k) => k.nominated),
    approved: sum((k) => k.approved),
    recipients: sum((k) => k.recipients),
    amountFen: sum((k) => k.amountFen),
    inReview: count('submitted', 'pending_second_approval'),
    returned: count('returned'),
    rejected: count('rejected'),
    withdrawn: count('withdrawn'),
    unpaid: count('approved', 'in_batch', 'payment_failed'),
  };

  // ------------------------------------------------------------------------------------------- budget
  const totalFen = Number(c.budgetTotalFen);
  const allocatedToUnionsFen = Number(c.budgetUnionsFen);
  // What the unions gave back is not spent; what they reported is how the allocation was used.
  const unionLines = await allocationReconciliation(db, campaignId);
  const unions = {
    lines: unionLines,
    allocatedFen: unionLines.reduce((s, l) => s + l.allocatedFen, 0),
    reportedFen: unionLines.reduce((s, l) => s + l.reportedFen, 0),
    returnedFen: unionLines.reduce((s, l) => s + l.returnedFen, 0),
    recipients: unionLines.reduce((s, l) => s + l.recipients, 0),
    notReported: unionLines.filter((l) => !l.reported).length,
  };
  const spentFen = totals.amountFen + allocatedToUnionsFen - unions.returnedFen;

  // -------------------------------------------------------------------------------- provincial entry
  const entry = entryFiguresOf(entryRows, c.entryWorkingDays, today, calendar);

  // ------------------------------------------------------------------------- reach, follow-up, accuracy
  const noticeStatus: Record<string, number> = {};
  for (const r of noticeRows) noticeStatus[r.status] = num(r.n);
  const confirm = confirmRows[0] ?? { byRecipient: 0, byStaff: 0, notReceived: 0, openFollowUps: 0 };
  const t = timing[0] ?? { submitted: 0, onTime: 0, decided: 0, withinSla: 0 };
  const byReason = (kind: string): ReasonCount[] =>
    decisionRows
      .filter((d) => d.kind === kind)
      .map((d) => ({ reason: d.reason, count: num(d.decisions) }))
      .sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason));
  const decisionsOf = (kind: string, pick: 'decisions' | 'nominations') =>
    decisionRows.filter((d) => d.kind === kind).reduce((a, d) => a + num(d[pick]), 0);
  const blocked = (reason: string) => num(blockedRows.find((b) => b.reason === reason)?.n);

  const auditHead = formatChainHead(await readChainHead(db));
  return {
    auditHead,
    asOf: now.toISOString(),
    asOfDate: today,
    campaign: {
      id: c.id,
      code: c.code,
      titleZh: c.titleZh,
      titleEn: c.titleEn,
      organiser: c.organiser,
      status: c.status,
      nominationClosesAt: c.nominationClosesAt.toISOString(),
      reviewDeadline: c.reviewDeadline.toISOString(),
      targetPaymentDate: c.targetPaymentDate.toISOString().slice(0, 10),
      entryWorkingDays: c.entryWorkingDays,
      reviewSlaHours: slaHours,
    },
    budget: {
      totalFen,
      allocatedToUnionsFen,
      unions,
      directBudgetFen: totalFen - allocatedToUnionsFen,
      directSpentFen: totals.amountFen,
      spentFen,
      balanceFen: totalFen - spentFen,
      execution: ratio(spentFen, totalFen),
    },
    categories,
    forms: [...forms.values()].sort((a, b) => b.amountFen - a.amountFen),
    statusCounts,
    totals,
    disbursement: ratio(totals.recipients, totals.approved),
    reach: { ...ratio(num(reachRows[0]?.reached), totals.recipients), noticeStatus },
    followUp: {
      ...ratio(num(confirm.byRecipient) + num(confirm.byStaff), totals.recipients),
      confirmedByRecipient: num(confirm.byRecipient),
      confirmedByStaff: num(confirm.byStaff),
      notReceived: num(confirm.notReceived),
      openFollowUps: num(confirm.openFollowUps),
    },
    timeliness: {
      submission: ratio(num(t.onTime), num(t.submitted)),
      review: { ...ratio(num(t.withinSla), num(t.decided)), slaHours },
      entry,
    },
    opening: {
      reachHours: OPENING_REACH_HOURS,
      reached: ratio(num(openingRows[0]?.reached), num(openingRows[0]?.unions)),
      medianHoursToFirstSubmission:
        openingRows[0]?.median == null ? null : Math.round(Number(openingRows[0].median) * 10) / 10,
      unionsSubmitted: num(openingRows[0]?.submitted),
    },
    accuracy: {
      returnDecisions: decisionsOf('return', 'decisions'),
      returnedNominations: decisionsOf('return', 'nominations'),
      returnedByReason: byReason('return'),
      rejectDecisions: decisionsOf('reject', 'decisions'),
      rejectedNominations: decisionsOf('reject', 'nominations'),
      rejectedByReason: byReason('reject'),
      duplicatesBlocked: blocked('duplicate'),
      idErrorsCaught: blocked('id_invalid'),
      flags: flagRows.map((f) => ({ reason: f.flag, count: num(f.n) })),
    },
  };
}

type EntryRow = { paidOn: string | null; enteredOn: string | null; n: number };

/** Paid / handed-over nominations grouped by payment (or handover) date and entry date (Shanghai). */
function entryRowsOf(db: Db, campaignId: number) {
  // The latest paid payment per nomination as max(paid_at) in one pass grouped by nomination (at
  // 200,000 nominations about 3× faster than a DISTINCT ON sub-query joined back, which sorted the
  // payments on disk in every parallel worker).
  return db.$queryRaw<EntryRow[]>`
        SELECT "paidOn", "enteredOn", count(*)::int AS n
        FROM (SELECT coalesce(to_char(max(p.paid_at) + interval '8 hours', 'YYYY-MM-DD'),
                              to_char(min(h.handed_over_on), 'YYYY-MM-DD')) AS "paidOn",
                     to_char(n.entered_provincial_at + interval '8 hours', 'YYYY-MM-DD') AS "enteredOn"
              FROM nomination n
              LEFT JOIN payment p ON p.nomination_id = n.id AND p.status = 'paid' AND p.paid_at IS NOT NULL
              LEFT JOIN handover h ON h.nomination_id = n.id
              WHERE n.campaign_id = ${campaignId} AND n.status IN ('paid', 'handed_over')
              GROUP BY n.id) x
        GROUP BY 1, 2`;
}

function entryFiguresOf(
  entryRows: EntryRow[],
  workingDays: number,
  today: IsoDate,
  calendar: WorkingCalendar,
): EntryFigures {
  const entry: EntryFigures = {
    workingDays: workingDays,
    required: 0,
    entered: 0,
    enteredOnTime: 0,
    enteredLate: 0,
    due: 0,
    overdue: 0,
    noPaymentDate: 0,
    nextDeadline: null,
    onTimeRate: ratio(0, 0),
  };
  const deadlines = new Map<IsoDate, IsoDate>();
  for (const r of entryRows) {
    const n = num(r.n);
    entry.required += n;
    if (r.enteredOn) entry.entered += n;
    if (!r.paidOn) {
      if (!r.enteredOn) entry.noPaymentDate += n;
      continue;
    }
    let deadline = deadlines.get(r.paidOn);
    if (!deadline) {
      // paidOn is already the Shanghai date; entryDeadline takes an instant, so pass Shanghai noon.
      deadline = entryDeadline(new Date(`${r.paidOn}T04:00:00Z`), workingDays, calendar);
      deadlines.set(r.paidOn, deadline);
    }
    if (r.enteredOn) {
      if (r.enteredOn <= deadline) entry.enteredOnTime += n;
      else entry.enteredLate += n;
    } else if (deadline < today) entry.overdue += n;
    else {
      entry.due += n;
      if (entry.nextDeadline === null || deadline < entry.nextDeadline) entry.nextDeadline = deadline;
    }
  }
  entry.onTimeRate = ratio(entry.enteredOnTime, entry.entered + entry.overdue);
  return entry;
}

/**
 * The provincial-entry figures alone (what /entry_status shows): the one entry query of
 * `campaignFigures`, the same definitions, without the rest of the report's queries.
 */
export async function entryStatusFigures(
  db: Db,
  campaignId: number,
  now: Date,
  calendar: WorkingCalendar = defaultCalendar,
): Promise<{
  campaign: { id: number; code: string; titleZh: string; titleEn: string };
  entry: EntryFigures;
}> {
  const c = await db.campaign.findUniqueOrThrow({
    where: { id: campaignId },
    select: { id: true, code: true, titleZh: true, titleEn: true, entryWorkingDays: true },
  });
  const rows = await entryRowsOf(db, campaignId);
  return {
    campaign: { id: c.id, code: c.code, titleZh: c.titleZh, titleEn: c.titleEn },
    entry: entryFiguresOf(rows, c.entryWorkingDays, shanghaiDateOf(now), calendar),
  };
}

/**
 * Whether the campaign has paid or handed-over nominations not yet entered into the provincial
 * system (the entry list is not empty): one EXISTS, not the figures.
 */
export async function hasEntryToMake(db: Db, campaignId: number): Promise<boolean> {
  const rows = await db.$queryRaw<{ any: boolean }[]>`
    SELECT EXISTS (SELECT 1 FROM nomination n
                   WHERE n.campaign_id = ${campaignId} AND n.status IN ('paid', 'handed_over')
                     AND n.entered_provincial_at IS NULL) AS any`;
  return rows[0]?.any === true;
}

/**
 * Records an entry refused before it became a nomination (a duplicate ID blocked, an invalid ID number
 * caught), so the evaluation can count them. No personal data: only the reason and where it happened.
 */
export interface EntryBlocked {
  campaignId: number;
  actorId: number | null;
  reason: 'duplicate' | 'id_invalid';
  source: 'dialog' | 'sheet';
}

/** Counts refusals at entry (duplicates blocked, ID errors caught) for the data-accuracy figures. */
export async function recordEntryBlocked(db: Db, e: EntryBlocked | EntryBlocked[]): Promise<void> {
  const list = Array.isArray(e) ? e : [e];
  if (list.length === 0) return;
  await db.auditLog.createMany({
    data: list.map((x) => ({
      actorId: x.actorId,
      action: ENTRY_BLOCKED_ACTION,
      entity: 'campaign',
      entityId: String(x.campaignId),
      after: { reason: x.reason, source: x.source },
    })),
  });
}

/** A campaign by numeric id or code (not archived or archived alike), or null. */
export async function findCampaignRef(db: Db, ref: string): Promise<{ id: number; code: string } | null> {
  const s = ref.trim();
  if (!s) return null;
  const byCode = await db.campaign.findUnique({ where: { code: s }, select: { id: true, code: true } });
  if (byCode) return byCode;
  if (/^\d{1,9}$/.test(s))
    return db.campaign.findUnique({ where: { id: Number(s) }, select: { id: true, code: true } });
  return null;
}

/** Campaigns not archived (id and code), oldest first: the default when a command names none. */
export async function liveCampaignRefs(db: Db): Promise<{ id: number; code: string }[]> {
  return db.campaign.findMany({
    where: { status: { not: 'archived' } },
    select: { id: true, code: true },
    orderBy: { id: 'asc' },
  });
}
