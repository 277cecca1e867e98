import type { Db } from '../adapters/db/client.ts';
import { defaultCalendar } from '../domain/calendar/index.ts';
import {
  formatShanghaiDateTime,
  type IsoDate,
  isValidIsoDate,
  parseShanghaiDateTime,
  shanghaiDateOf,
} from '../domain/calendar/date.ts';
import type { WorkingCalendar } from '../domain/calendar/working-days.ts';
import { entryDeadlineOn } from '../domain/reminders/index.ts';
import { audit } from './audit.ts';
import { awaitingEntryByDate } from './reminders.ts';

// The campaign timeline as staff see it (/deadlines) and changing one date of it (/deadline). The caller
// re-syncs the campaign's reminders after a change (usecases/reminders.ts `onCampaignChanged`).

export const DEADLINE_FIELDS = ['opens', 'closes', 'review', 'payment'] as const;
export type DeadlineField = (typeof DEADLINE_FIELDS)[number];

const COLUMN = {
  opens: 'nominationOpensAt',
  closes: 'nominationClosesAt',
  review: 'reviewDeadline',
  payment: 'targetPaymentDate',
} as const satisfies Record<DeadlineField, string>;

export interface DeadlineLine {
  field: DeadlineField;
  /** 'YYYY-MM-DD HH:mm' (Shanghai) or 'YYYY-MM-DD' for the payment date. */
  value: string;
  /** Working days from today to that date (negative = passed), start day not counted. */
  workingDaysLeft: number;
  passed: boolean;
}

export interface CampaignDeadlines {
  id: number;
  code: string;
  titleZh: string;
  titleEn: string;
  lines: DeadlineLine[];
  entryWorkingDays: number;
  /** Delivered items (paid or handed over) not yet entered provincially: within their deadline / overdue. */
  entryOpen: number;
  entryOverdue: number;
  /** Earliest open entry deadline, if any. */
  nextEntryDeadline: IsoDate | null;
}

type Timeline = Record<(typeof COLUMN)[DeadlineField], Date>;

function display(field: DeadlineField, value: Date): string {
  return field === 'payment' ? value.toISOString().slice(0, 10) : formatShanghaiDateTime(value);
}

function dateOf(field: DeadlineField, value: Date): IsoDate {
  return field === 'payment' ? value.toISOString().slice(0, 10) : shanghaiDateOf(value);
}

/** Every campaign that is not archived, with its dates and working days left. */
export async function listDeadlines(
  db: Db,
  now: Date,
  calendar: WorkingCalendar = defaultCalendar,
): Promise<CampaignDeadlines[]> {
  const campaigns = await db.campaign.findMany({
    where: { status: { not: 'archived' } },
    orderBy: { nominationOpensAt: 'asc' },
  });
  const today = shanghaiDateOf(now);
  const out: CampaignDeadlines[] = [];
  for (const c of campaigns) {
    const lines = DEADLINE_FIELDS.map((field): DeadlineLine => {
      const value = c[COLUMN[field]];
      const passed = field === 'payment' ? dateOf(field, value) < today : value.getTime() <= now.getTime();
      return {
        field,
        value: display(field, value),
        workingDaysLeft: calendar.workingDaysBetween(today, dateOf(field, value)),
        passed,
      };
    });
    // Delivered items awaiting provincial entry, per delivery date (set-based: flat in the campaign's size).
    let entryOpen = 0;
    let entryOverdue = 0;
    let next: IsoDate | null = null;
    for (const [day, count] of await awaitingEntryByDate(db, c.id)) {
      const d = entryDeadlineOn(day, c.entryWorkingDays, calendar);
      if (d < today) entryOverdue += count;
      else {
        entryOpen += count;
        if (next === null || d < next) next = d;
      }
    }
    out.push({
      id: c.id,
      code: c.code,
      titleZh: c.titleZh,
      titleEn: c.titleEn,
      lines,
      entryWorkingDays: c.entryWorkingDays,
      entryOpen,
      entryOverdue,
      nextEntryDeadline: next,
    });
  }
  return out;
}

export type DeadlineProblem =
  | { code: 'campaign_unknown'; params: { code: string } }
  | { code: 'field_unknown'; params: { field: string } }
  | { code: 'date_invalid'; params: { value: string } }
  | { code: 'payment_date_only'; params: { value: string } }
  | { code: 'order'; params: { field: DeadlineField; other: DeadlineField } }
  | { code: 'unchanged'; params: { value: string } };

export interface DeadlineChange {
  campaignId: number;
  campaignCode: string;
  field: DeadlineField;
  before: string;
  after: string;
  /** Instant (datetime fields) or UTC midnight of the date (payment), as stored. */
  value: Date;
  /** When the change was stored (the campaign row's updatedAt): identifies the change. Set once applied. */
  changedAt?: Date;
}

const FIELD_ALIASES: Record<string, DeadlineField> = {
  opens: 'opens',
  open: 'opens',
  closes: 'closes',
  close: 'closes',
  review: 'review',
  payment: 'payment',
  pay: 'payment',
  开始: 'opens',
  截止: 'closes',
  审核: 'review',
  付款: 'payment',
};

/** Checks the order opens < closes ≤ review, review date ≤ payment date (as in campaign files). */
function orderProblem(t: Timeline): DeadlineProblem | null {
  const bad = (field: DeadlineField, other: DeadlineField): DeadlineProblem => ({
    code: 'order',
    params: { field, other },
  });
  if (t.nominationClosesAt.getTime() <= t.nominationOpensAt.getTime()) return bad('closes', 'opens');
  if (t.reviewDeadline.getTime() < t.nominationClosesAt.getTime()) return bad('review', 'closes');
  if (t.targetPaymentDate.toISOString().slice(0, 10) < shanghaiDateOf(t.reviewDeadline))
    return bad('payment', 'review');
  return null;
}

/**
 * Validates `/deadline <code> <which> <YYYY-MM-DD[ HH:mm]>`. A date without a time keeps the current time of
 * day; the payment date takes a date only.
 */
export async function planDeadlineChange(
  db: Db,
  input: { code: string; field: string; value: string },
): Promise<{ ok: true; change: DeadlineChange } | { ok: false; problem: DeadlineProblem }> {
  const field = FIELD_ALIASES[input.field.toLowerCase()];
  if (!field) return { ok: false, problem: { code: 'field_unknown', params: { field: input.field } } };
  const c = await db.campaign.findUnique({ where: { code: input.code } });
  if (!c || c.status === 'archived')
    return { ok: false, problem: { code: 'campaign_unknown', params: { code: input.code } } };
  const raw = input.value.trim().replace(/\s+/g, ' ');
  let value: Date | null = null;
  if (field === 'payment') {
    if (!isValidIsoDate(raw)) {
      const code = parseShanghaiDateTime(raw) ? 'payment_date_only' : 'date_invalid';
      return { ok: false, problem: { code, params: { value: raw } } };
    }
    value = new Date(`${raw}T00:00:00Z`);
  } else if (isValidIsoDate(raw)) {
    value = parseShanghaiDateTime(`${raw} ${formatShanghaiDateTime(c[COLUMN[field]]).slice(11)}`);
  } else {
    value = parseShanghaiDateTime(raw);
  }
  if (!value) return { ok: false, problem: { code: 'date_invalid', params: { value: raw } } };
  const before = display(field, c[COLUMN[field]]);
  const after = display(field, value);
  if (before === after) return { ok: false, problem: { code: 'unchanged', params: { value: after } } };
  const timeline: Timeline = {
    nominationOpensAt: c.nominationOpensAt,
    nominationClosesAt: c.nominationClosesAt,
    reviewDeadline: c.reviewDeadline,
    targetPaymentDate: c.targetPaymentDate,
    [COLUMN[field]]: value,
  };
  const problem = orderProblem(timeline);
  if (problem) return { ok: false, problem };
  return { ok: true, change: { campaignId: c.id, campaignCode: c.code, field, before, after, value } };
}

/**
 * Applies a planned change in one transaction with its audit row. Re-validates against the current row
 * (another admin may have changed the timeline since the confirmation was shown); the `before` shown
 * must still be the stored value, else the change is refused as stale.
 */
export async function applyDeadlineChange(
  db: Db,
  input: { actorId: number; campaignId: number; field: DeadlineField; before: string; value: Date },
): Promise<
  { ok: true; change: DeadlineChange } | { ok: false; problem: DeadlineProblem | { code: 'stale' } }
> {
  return db.$transaction(async (tx) => {
    const rows = await tx.$queryRaw<
      { id: number }[]
    >`SELECT id FROM campaign WHERE id = ${input.campaignId} FOR UPDATE`;
    const c = rows.length > 0 ? await tx.campaign.findUnique({ where: { id: input.campaignId } }) : null;
    if (!c || c.status === 'archived')
      return {
        ok: false as const,
        problem: { code: 'campaign_unknown' as const, params: { code: String(input.campaignId) } },
      };
    const column = COLUMN[input.field];
    const before = display(input.field, c[column]);
    if (before !== input.before) return { ok: false as const, problem: { code: 'stale' as const } };
    const problem = orderProblem({
      nominationOpensAt: c.nominationOpensAt,
      nominationClosesAt: c.nominationClosesAt,
      reviewDeadline: c.reviewDeadline,
      targetPaymentDate: c.targetPaymentDate,
      [column]: input.value,
    });
    if (problem) return { ok: false as const, problem };
    const updated = await tx.campaign.update({
      where: { id: c.id },
      data: { [column]: input.value },
      select: { updatedAt: true },
    });
    const after = display(input.field, input.value);
    await audit(tx, {
      actorId: input.actorId,
      action: 'campaign.deadline',
      entity: 'campaign',
      entityId: c.id,
      before: { [input.field]: before },
      after: { [input.field]: after },
    });
    return {
      ok: true as const,
      change: {
        campaignId: c.id,
        campaignCode: c.code,
        field: input.field,
        before,
        after,
        value: input.value,
        changedAt: updated.updatedAt,
      },
    };
  });
}
