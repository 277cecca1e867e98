import type { Telegram } from 'telegraf';
import type { Db } from '../adapters/db/client.ts';
import { classifyTelegramError, isUnreachable } from '../adapters/telegram/errors.ts';
import type { I18n, Locale, Params } from '../adapters/i18n.ts';
import { defaultCalendar } from '../domain/calendar/index.ts';
import { formatShanghaiDateTime, type IsoDate, shanghaiDateOf } from '../domain/calendar/date.ts';
import type { WorkingCalendar } from '../domain/calendar/working-days.ts';
import { formatYuan } from '../domain/campaign/money.ts';
import {
  allocationDeadlineOfKey,
  BACKLOG_STATUSES,
  entryDeadline,
  entryDeadlineOfKey,
  isQuiet,
  nextAllowed,
  type ReminderKind,
  reminderSettingsFrom,
  UNPAID_STATUSES,
} from '../domain/reminders/index.ts';

// Sending one reminder (the `send-reminder` job calls this). Order matters for "at most once":
// re-check time and relevance, then CLAIM the row (scheduled → sent), then send through the outbound
// path (pacing, 429 waits). A rate-limited send gives the claim back (the message was certainly not sent)
// so the retry sends it; what a failure means comes from the one classifier (adapters/telegram/errors.ts);
// anything else after the claim is never sent twice.

export type SendReminderOutcome =
  | { outcome: 'sent' }
  | { outcome: 'skipped'; reason: string }
  | { outcome: 'unreachable' }
  /** Not due (quiet hours, or the job is older than a moved due time): run again at `until`. */
  | { outcome: 'deferred'; until: Date }
  /** Telegram said 429: claim given back; run again after `retryAfterMs`. */
  | { outcome: 'rate_limited'; retryAfterMs: number };

export interface SendReminderDeps {
  db: Db;
  i18n: I18n;
  telegram: Pick<Telegram, 'sendMessage'>;
  now: () => Date;
  calendar?: WorkingCalendar;
}

/** A job that fires up to this early (clock skew, BullMQ's timer) is treated as on time. */
const EARLY_TOLERANCE_MS = 2_000;

interface Rendered {
  template: string;
  params: Params;
}

export async function sendReminder(deps: SendReminderDeps, key: string): Promise<SendReminderOutcome> {
  const { db } = deps;
  const calendar = deps.calendar ?? defaultCalendar;
  const now = deps.now();
  const row = await db.reminder.findUnique({ where: { key } });
  if (!row) return { outcome: 'skipped', reason: 'no_row' };
  if (row.status !== 'scheduled') return { outcome: 'skipped', reason: row.status };
  if (row.dueAt.getTime() > now.getTime() + EARLY_TOLERANCE_MS)
    return { outcome: 'deferred', until: row.dueAt };

  const campaign = row.campaignId ? await db.campaign.findUnique({ where: { id: row.campaignId } }) : null;
  const person = row.personId ? await db.person.findUnique({ where: { id: row.personId } }) : null;
  const cancel = async (reason: string): Promise<SendReminderOutcome> => {
    await db.reminder.updateMany({ where: { key, status: 'scheduled' }, data: { status: 'cancelled' } });
    return { outcome: 'skipped', reason };
  };
  if (!campaign || campaign.status === 'archived') return cancel('campaign_gone');
  if (!person?.telegramId || person.blockedBotAt) return cancel('person_unreachable');

  const settings = reminderSettingsFrom(campaign.settings);
  const kind = row.kind as ReminderKind;
  if (!settings.urgent.includes(kind) && isQuiet(now, { hours: settings.quietHours })) {
    const until = nextAllowed(now, { hours: settings.quietHours });
    await db.reminder.updateMany({ where: { key, status: 'scheduled' }, data: { dueAt: until } });
    return { outcome: 'deferred', until };
  }

  const locale = deps.i18n.resolve(person.locale, person.telegramLanguage);
  const ctx: ComposeContext = { db, i18n: deps.i18n, locale, now, calendar, campaign, personId: person.id };
  const rendered = await compose(ctx, kind, key);
  if (!rendered) return cancel('nothing_open');

  // Claim, then send: a duplicate or retried job finds the row taken and sends nothing.
  const claim = await db.reminder.updateMany({
    where: { key, status: 'scheduled' },
    data: { status: 'sent', sentAt: now },
  });
  if (claim.count === 0) return { outcome: 'skipped', reason: 'already_claimed' };

  const text = deps.i18n.t(locale, rendered.template, rendered.params);
  try {
    await deps.telegram.sendMessage(Number(person.telegramId), text, {
      link_preview_options: { is_disabled: true },
    });
    return { outcome: 'sent' };
  } catch (err) {
    const f = classifyTelegramError(err);
    if (f.kind === 'rate_limited') {
      await db.reminder.updateMany({
        where: { key, status: 'sent' },
        data: { status: 'scheduled', sentAt: null },
      });
      return { outcome: 'rate_limited', retryAfterMs: f.retryAfterMs };
    }
    if (isUnreachable(f)) {
      if (f.kind === 'blocked')
        await db.person.update({ where: { id: person.id }, data: { blockedBotAt: now } });
      return { outcome: 'unreachable' };
    }
    throw err; // unknown: the row stays claimed (at most once), the failure is logged by the worker
  }
}

// --------------------------------------------------------------------------------------------- texts

interface ComposeContext {
  db: Db;
  i18n: I18n;
  locale: Locale;
  now: Date;
  calendar: WorkingCalendar;
  campaign: {
    id: number;
    code: string;
    titleZh: string;
    titleEn: string;
    nominationClosesAt: Date;
    reviewDeadline: Date;
    targetPaymentDate: Date;
    entryWorkingDays: number;
  };
  personId: number;
}

async function hasRole(ctx: ComposeContext, roles: ('contact' | 'reviewer' | 'admin' | 'finance')[]) {
  const n = await ctx.db.roleGrant.count({
    where: { personId: ctx.personId, revokedAt: null, role: { in: roles } },
  });
  return n > 0;
}

function title(ctx: ComposeContext): string {
  return ctx.locale === 'en' ? ctx.campaign.titleEn : ctx.campaign.titleZh;
}

/** "3 working days" / "5 hours" left until `deadline` (hours when less than a day). */
function remaining(ctx: ComposeContext, deadline: Date): string {
  const ms = deadline.getTime() - ctx.now.getTime();
  if (ms < 86_400_000) {
    return ctx.i18n.t(ctx.locale, 'reminders.left_hours', { n: Math.max(1, Math.ceil(ms / 3_600_000)) });
  }
  const wd = ctx.calendar.workingDaysBetween(shanghaiDateOf(ctx.now), shanghaiDateOf(deadline));
  return ctx.i18n.t(ctx.locale, 'reminders.left_working_days', { n: wd });
}

async function compose(ctx: ComposeContext, kind: ReminderKind, key: string): Promise<Rendered | null> {
  const { db, campaign } = ctx;
  const t = (k: string, p?: Params) => ctx.i18n.t(ctx.locale, k, p);
  switch (kind) {
    case 'close': {
      if (ctx.now >= campaign.nominationClosesAt || !(await hasRole(ctx, ['contact']))) return null;
      const grants = await db.roleGrant.findMany({
        where: { personId: ctx.personId, role: 'contact', revokedAt: null, union: { active: true } },
        select: { union: { select: { id: true, name: true } } },
      });
      const lines: string[] = [];
      for (const g of grants) {
        if (!g.union) continue;
        const groups = await db.nomination.groupBy({
          by: ['status'],
          where: { campaignId: campaign.id, unionId: g.union.id },
          _count: { _all: true },
        });
        const count = (s: string) => groups.find((x) => x.status === s)?._count._all ?? 0;
        const submitted = groups
          .filter((x) => x.status !== 'draft' && x.status !== 'withdrawn')
          .reduce((a, x) => a + x._count._all, 0);
        const drafts = await db.nomination.count({
          where: {
            campaignId: campaign.id,
            unionId: g.union.id,
            submittedById: ctx.personId,
            status: 'draft',
            OR: [{ draftExpiresAt: null }, { draftExpiresAt: { gt: ctx.now } }],
          },
        });
        const returned = count('returned');
        if (drafts > 0) lines.push(t('reminders.item_drafts', { union: g.union.name, n: drafts }));
        if (returned > 0) lines.push(t('reminders.item_returned', { union: g.union.name, n: returned }));
        if (submitted === 0) lines.push(t('reminders.item_nothing_submitted', { union: g.union.name }));
      }
      if (lines.length === 0) return null;
      return {
        template: 'reminders.close',
        params: {
          campaign: title(ctx),
          deadline: formatShanghaiDateTime(campaign.nominationClosesAt),
          left: remaining(ctx, campaign.nominationClosesAt),
          items: lines.join('\n'),
        },
      };
    }
    case 'review_summary': {
      if (ctx.now >= campaign.reviewDeadline || !(await hasRole(ctx, ['reviewer']))) return null;
      const [waiting, second] = await Promise.all([
        db.nomination.count({ where: { campaignId: campaign.id, status: { in: [...BACKLOG_STATUSES] } } }),
        db.nomination.count({ where: { campaignId: campaign.id, status: 'pending_second_approval' } }),
      ]);
      if (waiting === 0) return null;
      return {
        template: 'reminders.review_summary',
        params: {
          campaign: title(ctx),
          n: waiting,
          second,
          deadline: formatShanghaiDateTime(campaign.reviewDeadline),
          left: remaining(ctx, campaign.reviewDeadline),
        },
      };
    }
    case 'payment_due': {
      if (!(await hasRole(ctx, ['finance', 'admin']))) return null;
      const agg = await db.nomination.aggregate({
        where: { campaignId: campaign.id, status: { in: [...UNPAID_STATUSES] } },
        _count: { _all: true },
        _sum: { amountFen: true },
      });
      if (agg._count._all === 0) return null;
      const date = campaign.targetPaymentDate.toISOString().slice(0, 10);
      return {
        template: 'reminders.payment_due',
        params: {
          campaign: title(ctx),
          n: agg._count._all,
          amount: formatYuan(agg._sum.amountFen ?? 0),
          date,
          left: ctx.i18n.t(ctx.locale, 'reminders.left_working_days', {
            n: Math.max(0, ctx.calendar.workingDaysBetween(shanghaiDateOf(ctx.now), date)),
          }),
        },
      };
    }
    case 'allocation_report_due': {
      // Still a contact of a union whose allocation is not reported: otherwise nothing to chase.
      const deadline = allocationDeadlineOfKey(key);
      if (!deadline) return null;
      const open = await db.unionAllocation.findMany({
        where: {
          campaignId: campaign.id,
          reportedAt: null,
          union: {
            active: true,
            grants: { some: { personId: ctx.personId, role: 'contact', revokedAt: null } },
          },
        },
        orderBy: { id: 'asc' },
        select: { amountFen: true, union: { select: { name: true } } },
      });
      if (open.length === 0) return null;
      const left = ctx.calendar.workingDaysBetween(shanghaiDateOf(ctx.now), deadline);
      return {
        template: left >= 0 ? 'allocation_reminders.due' : 'allocation_reminders.overdue',
        params: {
          campaign: title(ctx),
          code: campaign.code,
          items: open
            .map((a) =>
              t('allocation_reminders.item', {
                union: a.union.name,
                amount: formatYuan(Number(a.amountFen)),
              }),
            )
            .join('\n'),
          deadline,
          left: Math.max(0, left),
          over: Math.max(0, -left),
        },
      };
    }
    case 'entry_due':
    case 'entry_overdue': {
      const deadline = entryDeadlineOfKey(key);
      if (!deadline) return null;
      if (!(await hasRole(ctx, kind === 'entry_overdue' ? ['admin'] : ['finance', 'admin']))) return null;
      const n = await countEntryOpen(ctx, deadline);
      if (n === 0) return null;
      const today = shanghaiDateOf(ctx.now);
      const left = ctx.calendar.workingDaysBetween(today, deadline);
      if (kind === 'entry_due' && left < 0) return null;
      return {
        template: kind === 'entry_due' ? 'reminders.entry_due' : 'reminders.entry_overdue',
        params: {
          campaign: title(ctx),
          n,
          deadline,
          days: campaign.entryWorkingDays,
          left: Math.max(0, left),
          over: Math.max(0, -left),
        },
      };
    }
  }
}

/** Paid nominations not yet entered in the provincial system whose entry deadline is `deadline`. */
async function countEntryOpen(ctx: ComposeContext, deadline: IsoDate): Promise<number> {
  const rows = await ctx.db.nomination.findMany({
    where: { campaignId: ctx.campaign.id, status: 'paid', enteredProvincialAt: null },
    select: {
      payments: { where: { status: 'paid' }, select: { paidAt: true }, orderBy: { paidAt: 'desc' }, take: 1 },
    },
  });
  let n = 0;
  const memo = new Map<IsoDate, IsoDate>();
  for (const r of rows) {
    const paidAt = r.payments[0]?.paidAt;
    if (!paidAt) continue;
    const day = shanghaiDateOf(paidAt);
    let d = memo.get(day);
    if (!d) {
      d = entryDeadline(paidAt, ctx.campaign.entryWorkingDays, ctx.calendar);
      memo.set(day, d);
    }
    if (d === deadline) n++;
  }
  return n;
}
