/**
 * zod schema of a campaign file (YAML, snake_case keys) and the parsed domain type (camelCase, money in fen,
 * datetimes as instants). Unknown keys are errors (they are usually typos such as `standard_ammount`).
 * Cross-field rules (unique codes, timeline order, budget) live in `./file.ts` so that they are reported
 * even when other parts of the file are invalid.
 */
import { z } from 'zod';
import { type IsoDate, isValidIsoDate, parseShanghaiDateTime } from '../calendar/date.ts';
import { REMINDER_KINDS } from '../reminders/kinds.ts';
import { splitFen, yuanToFen } from './money.ts';
import {
  BENEFIT_FORM_CODES,
  type BenefitForm,
  CATEGORY_KIND_CODES,
  type CategoryKind,
  defaultRequiredFields,
  NOMINATION_FIELD_CODES,
  type NominationField,
} from './vocab.ts';

// ---------------------------------------------------------------------------------------------- domain types

export type ReminderUnit = 'working_day' | 'day' | 'hour' | 'minute';

export interface ReminderOffset {
  /** As written in the file, e.g. '3wd'. */
  spec: string;
  amount: number;
  unit: ReminderUnit;
}

export interface CampaignCategory {
  code: string;
  name: { zh: string; en: string };
  kind: CategoryKind;
  standardAmountFen: number;
  benefitForms: BenefitForm[];
  requiredFields: NominationField[];
  quotaPerUnion: number | null;
  yearlyCapFen: number | null;
  /** Position in the file (0-based). */
  sortOrder: number;
}

export interface CampaignSettings {
  reviewSlaHours: number;
  /** Reviewers get at most one "new nominations" digest per this many minutes (default 30, domain/review). */
  reviewDigestMinutes?: number;
  fourEyes: {
    /** A second approval is needed above this amount (fen); null = never for amount reasons. */
    aboveAmountFen: number | null;
    /** A second approval is needed for flagged nominations (duplicates, self-nomination …). */
    flagged: boolean;
  };
  reminders: {
    beforeClose: ReminderOffset[];
    /** Optional; defaults in domain/reminders (REMINDER_DEFAULTS): before the target payment date. */
    beforePayment?: ReminderOffset[];
    /** Working days left before a provincial-entry deadline at which staff are reminded (default 10, 5, 2, 1). */
    entryDaysLeft?: number[];
    /** Time of day of day-based reminders: reviewer summary, payment, entry (default 09:00). */
    dailyAt?: string;
    /** Reminder kinds sent even in quiet hours (default none). */
    urgent?: string[];
    /**
     * Grassroots unions report how they spent their allocation within this many working days of the
     * target payment date (default 10: the federation then has the rest of the provincial-entry window).
     */
    allocationReportWorkingDays?: number;
    /** Working days left before that deadline at which unions that have not reported are reminded. */
    allocationDaysLeft?: number[];
  };
  /** No proactive messages between start and end (Asia/Shanghai, 'HH:mm'; may wrap midnight). */
  quietHours: { start: string; end: string };
  draftTtlHours: number;
  /** Auditors' /export shows full ID numbers, phones and cards (default false: masked). domain/roles ledgerAccess. */
  auditorFullValues?: boolean;
}

export interface Campaign {
  code: string;
  title: { zh: string; en: string };
  organiser: string;
  /**
   * File name of the federation's notice (.pdf or .docx) sent with the opening message; the admin sends
   * that file to the bot with the caption `/notice_doc <code>` (stored by Telegram file_id).
   */
  noticeDocument?: string | null;
  budget: {
    totalFen: number;
    allocatedToUnionsFen: number;
    /** Per grassroots union (by its exact name): how much of allocatedToUnionsFen it receives. */
    allocations?: { union: string; amountFen: number }[];
  };
  categories: CampaignCategory[];
  timeline: {
    nominationOpens: Date;
    nominationCloses: Date;
    reviewDeadline: Date;
    /** Calendar date (Asia/Shanghai). */
    targetPaymentDate: IsoDate;
    /** Records go into the provincial assistance system within this many working days of payment. */
    provincialEntryWorkingDays: number;
  };
  settings: CampaignSettings;
}

/** Each union's amount (fen): as given (fixed), or allocated_to_unions split by the rule. */
function allocationsOf(b: {
  allocated_to_unions: number;
  allocation_rule: 'fixed' | 'equal' | 'by_members';
  allocations?: { union: string; amount?: number | undefined; members?: number | undefined }[] | undefined;
}): { union: string; amountFen: number }[] {
  const list = b.allocations ?? [];
  if (b.allocation_rule === 'fixed') return list.map((a) => ({ union: a.union, amountFen: a.amount ?? 0 }));
  const weights = list.map((a) => (b.allocation_rule === 'equal' ? 1 : (a.members ?? 0)));
  const shares = splitFen(b.allocated_to_unions, weights);
  return list.map((a, i) => ({ union: a.union, amountFen: shares[i]! }));
}

export const SETTINGS_DEFAULTS = {
  review_sla_hours: 48,
  four_eyes: { flagged: true },
  reminders: { before_close: ['3wd', '1d', '2h'] },
  quiet_hours: { start: '22:00', end: '08:00' },
  draft_ttl_hours: 72,
} as const;

export const DEFAULT_PROVINCIAL_ENTRY_WORKING_DAYS = 30;

// ---------------------------------------------------------------------------------------------- field schemas

/** Adds an issue whose `params.code` is our problem code (read back in `./file.ts`). */
function problem(
  ctx: z.RefinementCtx,
  code: string,
  message: string,
  params: Record<string, string | number> = {},
): typeof z.NEVER {
  ctx.addIssue({ code: 'custom', message, params: { code, ...params } });
  return z.NEVER;
}

const nonEmptyText = (max: number) => z.string().trim().min(1).max(max);

/** A notice document's file name: a .pdf or .docx, no path, at most 200 characters. */
export const NOTICE_DOCUMENT_RE = /^[^/\\]{1,195}\.(pdf|docx)$/i;
const hasControlChars = (s: string) => [...s].some((ch) => ch.charCodeAt(0) < 32);

export const SLUG_RE = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
export const CATEGORY_CODE_RE = /^[a-z][a-z0-9_]*$/;

const slug = z.string().refine((s) => SLUG_RE.test(s) && s.length <= 64, {
  message: 'use lowercase letters, digits and single dashes (max 64), e.g. fumin-2024-spring',
  params: { code: 'campaign.slug_format' },
});

const categoryCode = z.string().refine((s) => CATEGORY_CODE_RE.test(s) && s.length <= 40, {
  message:
    'use lowercase letters, digits and underscores, starting with a letter (max 40), e.g. needy_worker',
  params: { code: 'campaign.category_code_format' },
});

/** Yuan (number or string, ≤ 2 decimals) → fen. */
const money = (options: { positive: boolean }) =>
  z.unknown().transform((v, ctx): number => {
    if (v === undefined) return problem(ctx, 'campaign.required', 'required');
    if (typeof v !== 'number' && typeof v !== 'string') {
      return problem(ctx, 'campaign.amount_format', 'expected an amount in yuan, e.g. 800 or 99.50');
    }
    const r = yuanToFen(v);
    if (!r.ok) {
      const messages = {
        'campaign.amount_format': 'expected an amount in yuan, e.g. 800 or 99.50',
        'campaign.amount_precision': 'at most 2 decimals (fen)',
        'campaign.amount_negative': 'must not be negative',
      } as const;
      return problem(ctx, r.code, messages[r.code]);
    }
    if (options.positive && r.fen === 0) return problem(ctx, 'campaign.amount_zero', 'must be more than 0');
    return r.fen;
  });

const dateTime = z.unknown().transform((v, ctx): Date => {
  if (v === undefined) return problem(ctx, 'campaign.required', 'required');
  const d = typeof v === 'string' ? parseShanghaiDateTime(v) : null;
  if (!d) {
    return problem(
      ctx,
      'campaign.datetime_format',
      'expected a date and time "YYYY-MM-DD HH:mm" (Asia/Shanghai)',
      {
        expected: 'YYYY-MM-DD HH:mm',
      },
    );
  }
  return d;
});

const isoDate = z.unknown().transform((v, ctx): IsoDate => {
  if (v === undefined) return problem(ctx, 'campaign.required', 'required');
  if (typeof v !== 'string' || !isValidIsoDate(v.trim())) {
    return problem(ctx, 'campaign.date_format', 'expected an existing date "YYYY-MM-DD"', {
      expected: 'YYYY-MM-DD',
    });
  }
  return v.trim();
});

const clockTime = z.string().refine((s) => /^([01]\d|2[0-3]):[0-5]\d$/.test(s), {
  message: 'expected a time "HH:mm", e.g. 22:00',
  params: { code: 'campaign.time_format', expected: 'HH:mm' },
});

const REMINDER_UNITS: Record<string, ReminderUnit> = {
  wd: 'working_day',
  d: 'day',
  h: 'hour',
  m: 'minute',
};

const reminderOffset = z.string().transform((s, ctx): ReminderOffset => {
  const m = /^(\d{1,4})(wd|d|h|m)$/.exec(s.trim());
  if (!m || Number(m[1]) === 0) {
    return problem(ctx, 'campaign.reminder_format', 'expected e.g. 3wd (working days), 1d, 2h or 30m', {
      expected: '3wd | 1d | 2h | 30m',
    });
  }
  return { spec: s.trim(), amount: Number(m[1]), unit: REMINDER_UNITS[m[2]!]! };
});

const bilingual = z.strictObject({ zh: nonEmptyText(200), en: nonEmptyText(200) });

// ---------------------------------------------------------------------------------------------- file schema

export const categorySchema = z.strictObject({
  code: categoryCode,
  name: bilingual,
  kind: z.enum(CATEGORY_KIND_CODES),
  standard_amount: money({ positive: true }),
  benefit_forms: z.array(z.enum(BENEFIT_FORM_CODES)).min(1),
  required_fields: z.array(z.enum(NOMINATION_FIELD_CODES)).min(1).optional(),
  quota_per_union: z.int().min(1).optional(),
  yearly_cap: money({ positive: true }).optional(),
});

export const campaignFileSchema = z
  .strictObject({
    code: slug,
    title: bilingual,
    organiser: nonEmptyText(200),
    notice_document: z
      .string()
      .trim()
      .refine((s) => NOTICE_DOCUMENT_RE.test(s) && !hasControlChars(s), {
        message: 'expected the file name of a .pdf or .docx document (max 200 characters)',
        params: { code: 'campaign.notice_document_format' },
      })
      .optional(),
    budget: z.strictObject({
      total: money({ positive: true }),
      allocated_to_unions: money({ positive: false }).prefault(0),
      // fixed: each union's amount is given; equal / by_members: allocated_to_unions is split (to the
      // fen) equally or in proportion to each entry's `members` (file.ts checks which fields a rule needs).
      allocation_rule: z.enum(['fixed', 'equal', 'by_members']).default('fixed'),
      allocations: z
        .array(
          z.strictObject({
            union: nonEmptyText(200),
            amount: money({ positive: true }).optional(),
            members: z.int().min(1).max(10_000_000).optional(),
          }),
        )
        .optional(),
    }),
    categories: z.array(categorySchema).min(1),
    timeline: z.strictObject({
      nomination_opens: dateTime,
      nomination_closes: dateTime,
      review_deadline: dateTime,
      target_payment_date: isoDate,
      provincial_entry_working_days: z.int().min(1).max(365).default(DEFAULT_PROVINCIAL_ENTRY_WORKING_DAYS),
    }),
    settings: z
      .strictObject({
        review_sla_hours: z
          .int()
          .min(1)
          .max(24 * 60)
          .default(SETTINGS_DEFAULTS.review_sla_hours),
        review_digest_minutes: z
          .int()
          .min(1)
          .max(24 * 60)
          .optional(),
        four_eyes: z
          .strictObject({
            above_amount: money({ positive: false }).optional(),
            flagged: z.boolean().default(SETTINGS_DEFAULTS.four_eyes.flagged),
          })
          .prefault({}),
        reminders: z
          .strictObject({
            before_close: z.array(reminderOffset).prefault([...SETTINGS_DEFAULTS.reminders.before_close]),
            before_payment: z.array(reminderOffset).optional(),
            entry_days_left: z.array(z.int().min(1).max(365)).optional(),
            daily_at: clockTime.optional(),
            urgent: z.array(z.enum(REMINDER_KINDS)).optional(),
            allocation_report_working_days: z.int().min(1).max(365).optional(),
            allocation_days_left: z.array(z.int().min(0).max(365)).optional(),
          })
          .prefault({}),
        quiet_hours: z
          .strictObject({
            start: clockTime.default(SETTINGS_DEFAULTS.quiet_hours.start),
            end: clockTime.default(SETTINGS_DEFAULTS.quiet_hours.end),
          })
          .prefault({}),
        draft_ttl_hours: z
          .int()
          .min(1)
          .max(24 * 90)
          .default(SETTINGS_DEFAULTS.draft_ttl_hours),
        // Auditors (审计人员) get masked ledgers unless the organiser allows full values here.
        auditor_full_values: z.boolean().default(false),
      })
      .prefault({}),
  })
  .transform(
    (f): Campaign => ({
      code: f.code,
      title: f.title,
      organiser: f.organiser,
      noticeDocument: f.notice_document ?? null,
      budget: {
        totalFen: f.budget.total,
        allocatedToUnionsFen: f.budget.allocated_to_unions,
        ...(f.budget.allocations ? { allocations: allocationsOf(f.budget) } : {}),
      },
      categories: f.categories.map((c, i) => ({
        code: c.code,
        name: c.name,
        kind: c.kind,
        standardAmountFen: c.standard_amount,
        benefitForms: c.benefit_forms,
        requiredFields: c.required_fields ?? defaultRequiredFields(c.kind, c.benefit_forms),
        quotaPerUnion: c.quota_per_union ?? null,
        yearlyCapFen: c.yearly_cap ?? null,
        sortOrder: i,
      })),
      timeline: {
        nominationOpens: f.timeline.nomination_opens,
        nominationCloses: f.timeline.nomination_closes,
        reviewDeadline: f.timeline.review_deadline,
        targetPaymentDate: f.timeline.target_payment_date,
        provincialEntryWorkingDays: f.timeline.provincial_entry_working_days,
      },
      settings: {
        reviewSlaHours: f.settings.review_sla_hours,
        ...(f.settings.review_digest_minutes !== undefined
          ? { reviewDigestMinutes: f.settings.review_digest_minutes }
          : {}),
        fourEyes: {
          aboveAmountFen: f.settings.four_eyes.above_amount ?? null,
          flagged: f.settings.four_eyes.flagged,
        },
        reminders: {
          beforeClose: f.settings.reminders.before_close,
          ...(f.settings.reminders.before_payment
            ? { beforePayment: f.settings.reminders.before_payment }
            : {}),
          ...(f.settings.reminders.entry_days_left
            ? { entryDaysLeft: f.settings.reminders.entry_days_left }
            : {}),
          ...(f.settings.reminders.daily_at ? { dailyAt: f.settings.reminders.daily_at } : {}),
          ...(f.settings.reminders.urgent ? { urgent: f.settings.reminders.urgent } : {}),
          ...(f.settings.reminders.allocation_report_working_days
            ? { allocationReportWorkingDays: f.settings.reminders.allocation_report_working_days }
            : {}),
          ...(f.settings.reminders.allocation_days_left
            ? { allocationDaysLeft: f.settings.reminders.allocation_days_left }
            : {}),
        },
        quietHours: f.settings.quiet_hours,
        draftTtlHours: f.settings.draft_ttl_hours,
        ...(f.settings.auditor_full_values ? { auditorFullValues: true } : {}),
      },
    }),
  );
