import type { JobsOptions } from 'bullmq';
import { type Db, Prisma, type Tx } from '../adapters/db/client.ts';
import type { Queues } from '../adapters/queue/queues.ts';
import { scheduleCampaignOpening } from './announcements.ts';
import { defaultCalendar } from '../domain/calendar/index.ts';
import type { WorkingCalendar } from '../domain/calendar/working-days.ts';
import { addDays, type IsoDate, shanghaiDateOf, shanghaiMidnight } from '../domain/calendar/date.ts';
import {
  type CampaignFacts,
  DELIVERED_STATUSES,
  type DesiredReminder,
  deliveryDatesSharingDeadline,
  deriveFromSummary,
  draftOwnerKey,
  entryDeadlineOfKey,
  NOT_SUBMITTED_STATUSES,
  type NominationStatusName,
  type NominationSummary,
  type PeopleFacts,
  type ReminderKind,
  REMINDER_KINDS,
  reminderSettingsFrom,
  UNPAID_STATUSES,
} from '../domain/reminders/index.ts';

// Reminders are derived from PostgreSQL state (domain/reminders) and kept in step with the `reminder`
// table and the BullMQ `reminders` queue (job id = reminder key). `syncReminders` (the whole campaign, in
// set-based SQL, memory flat in the number of nominations) is idempotent: it runs at worker start, after a
// timeline change and from `npm run reminders:sync` after Redis lost its data. A change to nominations,
// a batch or a person re-derives only what it touches (the hooks below), with the same domain rules and
// the same reconciliation restricted to that scope. A reminder already sent is never re-created; one
// about something done is cancelled.

export const REMINDER_JOB = 'send-reminder';

/** A reminder first derived more than this after its due time is not created (it would arrive stale). */
export const LATE_CREATE_TOLERANCE_MS = 60 * 60_000;

export const REMINDER_JOB_OPTIONS = {
  removeOnComplete: true,
  // A job that finally failed is removed: its row stays `scheduled`, so the next sync re-adds it.
  removeOnFail: true,
  attempts: 8,
  backoff: { type: 'exponential', delay: 5_000, jitter: 0.5 },
} satisfies JobsOptions;

export interface SyncOptions {
  /** One campaign; all campaigns that are not archived (or still have scheduled reminders) when omitted. */
  campaignId?: number;
  now: Date;
  calendar?: WorkingCalendar;
}

export interface SyncResult {
  campaigns: number;
  desired: number;
  created: number;
  rescheduled: number;
  cancelled: number;
  /** Jobs (re-)added for scheduled rows whose due time did not change (no-op when the job existed). */
  ensured: number;
  /** Desired but not created because first derived too long after their due time. */
  skippedLate: number;
}

const emptyResult = (): SyncResult => ({
  campaigns: 0,
  desired: 0,
  created: 0,
  rescheduled: 0,
  cancelled: 0,
  ensured: 0,
  skippedLate: 0,
});

// ------------------------------------------------------------------------------------------------ facts
// Everything is read with set-based SQL: a handful of aggregate rows per union or delivery hour, never one
// row (or one bind parameter) per nomination, so memory stays flat however large the campaign is. The
// status lists come from domain/reminders; `summarizeNominations` is the same rule over rows (the
// integration test compares both on one database).

const statuses = (list: readonly NominationStatusName[]) => Prisma.sql`${[...list]}::"NominationStatus"[]`;

/**
 * When a nomination (alias `n`) was delivered: its latest successful payment, else the day its goods
 * were handed over (Shanghai noon of that date); NULL when neither. `DELIVERED_JOIN` goes in the FROM
 * clause and `DELIVERED_AT` reads it. The one place this rule lives.
 */
const DELIVERED_JOIN = Prisma.sql`
  LEFT JOIN LATERAL (SELECT max(p.paid_at) AS paid_at FROM payment p
                     WHERE p.nomination_id = n.id AND p.status = 'paid') lp ON true
  LEFT JOIN handover h ON h.nomination_id = n.id`;
const DELIVERED_AT = Prisma.sql`COALESCE(lp.paid_at, (h.handed_over_on + time '04:00') AT TIME ZONE 'UTC')`;
const AWAITING_ENTRY = Prisma.sql`n.status = ANY(${statuses(DELIVERED_STATUSES)}) AND n.entered_provincial_at IS NULL`;

/** Delivered items of the nominations matching `where` (alias `n`), counted per Shanghai delivery date. */
async function deliveriesByDate(
  db: Db | Tx,
  where: Prisma.Sql,
  awaitingEntryOnly: boolean,
): Promise<Map<IsoDate, number>> {
  // Grouped by epoch hour (the zone's offset is whole hours); the Shanghai date is the domain's.
  const rows = await db.$queryRaw<{ h: number; n: number }[]>`
    SELECT floor(extract(epoch FROM d.at) / 3600)::int AS h, count(*)::int AS n
    FROM (SELECT ${DELIVERED_AT} AS at FROM nomination n ${DELIVERED_JOIN}
          WHERE ${where} ${awaitingEntryOnly ? Prisma.sql`AND ${AWAITING_ENTRY}` : Prisma.empty}) d
    WHERE d.at IS NOT NULL
    GROUP BY 1`;
  const out = new Map<IsoDate, number>();
  for (const r of rows) {
    const day = shanghaiDateOf(r.h * 3_600_000);
    out.set(day, (out.get(day) ?? 0) + r.n);
  }
  return out;
}

async function deliveryDates(
  db: Db | Tx,
  where: Prisma.Sql,
  awaitingEntryOnly: boolean,
): Promise<Set<IsoDate>> {
  return new Set((await deliveriesByDate(db, where, awaitingEntryOnly)).keys());
}

/** Items of a campaign delivered (paid or handed over) and not yet entered provincially, per delivery date. */
export function awaitingEntryByDate(db: Db, campaignId: number): Promise<Map<IsoDate, number>> {
  return db.$transaction(async (tx) => {
    await noJit(tx);
    return deliveriesByDate(tx, Prisma.sql`n.campaign_id = ${campaignId}`, true);
  });
}

/**
 * PostgreSQL's JIT compiles a plan whose estimated cost is high (one index probe per delivered item at
 * 200,000 items): ~0.5 s of compiling for a query that runs in ~0.4 s. Off for these transactions.
 */
const noJit = (tx: Tx) => tx.$executeRaw`SET LOCAL jit = off`;

/** Whether some item awaiting entry was delivered between the Shanghai dates `first` and `last`. */
async function deliveredBetween(db: Db | Tx, campaignId: number, first: IsoDate, last: IsoDate) {
  const r = await db.$queryRaw<{ any: boolean }[]>`
    SELECT EXISTS (
      SELECT 1 FROM nomination n ${DELIVERED_JOIN}
      WHERE n.campaign_id = ${campaignId} AND ${AWAITING_ENTRY}
        AND ${DELIVERED_AT} >= ${shanghaiMidnight(first)} AND ${DELIVERED_AT} < ${shanghaiMidnight(addDays(last, 1))}
    ) AS any`;
  return r[0]?.any ?? false;
}

interface UnionSlice {
  submittedUnions: Set<number>;
  returnedUnions: Set<number>;
  draftOwners: Set<string>;
}

/** Close-reminder facts of the campaign's unions (all, or only `unions`). */
async function unionFacts(
  db: Db | Tx,
  campaignId: number,
  now: Date,
  unions: number[] | null,
): Promise<UnionSlice> {
  const only = unions ? Prisma.sql`AND n.union_id = ANY(${unions}::int[])` : Prisma.empty;
  // Per union and submitter (bounded by the contacts, not by the nominations). Live draft: isLiveDraft.
  const rows = await db.$queryRaw<
    { union_id: number; submitted_by_id: number; submitted: boolean; returned: boolean; draft: boolean }[]
  >`
    SELECT n.union_id, n.submitted_by_id,
           bool_or(n.status <> ALL(${statuses(NOT_SUBMITTED_STATUSES)})) AS submitted,
           bool_or(n.status = 'returned') AS returned,
           bool_or(n.status = 'draft' AND (n.draft_expires_at IS NULL OR n.draft_expires_at > ${now})) AS draft
    FROM nomination n WHERE n.campaign_id = ${campaignId} ${only}
    GROUP BY n.union_id, n.submitted_by_id`;
  const slice: UnionSlice = { submittedUnions: new Set(), returnedUnions: new Set(), draftOwners: new Set() };
  for (const r of rows) {
    if (r.submitted) slice.submittedUnions.add(r.union_id);
    if (r.returned) slice.returnedUnions.add(r.union_id);
    if (r.draft) slice.draftOwners.add(draftOwnerKey(r.union_id, r.submitted_by_id));
  }
  return slice;
}

async function anyUnpaid(db: Db | Tx, campaignId: number): Promise<boolean> {
  const r = await db.$queryRaw<{ any: boolean }[]>`
    SELECT EXISTS (SELECT 1 FROM nomination n WHERE n.campaign_id = ${campaignId}
                   AND n.status = ANY(${statuses(UNPAID_STATUSES)})) AS any`;
  return r[0]?.any ?? false;
}

async function loadCampaign(db: Db | Tx, campaignId: number): Promise<CampaignFacts | null> {
  const c = await db.campaign.findUnique({ where: { id: campaignId } });
  if (!c) return null;
  return {
    id: c.id,
    code: c.code,
    status: c.status,
    nominationOpensAt: c.nominationOpensAt,
    nominationClosesAt: c.nominationClosesAt,
    reviewDeadline: c.reviewDeadline,
    // @db.Date arrives as UTC midnight; its UTC date is the stored calendar date.
    targetPaymentDate: c.targetPaymentDate.toISOString().slice(0, 10),
    entryWorkingDays: c.entryWorkingDays,
    settings: reminderSettingsFrom(c.settings),
  };
}

/**
 * People who can be reminded. Staff (reviewers, admins, finance) are few and always loaded whole (the
 * entry reminder goes to finance, or to admins when there is none); contacts all, or only those who are
 * contacts of `unions` (with every union they are contact of) or who are `persons`.
 */
async function loadPeople(
  db: Db | Tx,
  contactsOf: 'all' | { unions: number[] } | { persons: number[] },
): Promise<PeopleFacts> {
  const contactFilter =
    contactsOf === 'all'
      ? {}
      : 'unions' in contactsOf
        ? {
            person: {
              grants: {
                some: { role: 'contact' as const, revokedAt: null, unionId: { in: contactsOf.unions } },
              },
            },
          }
        : { personId: { in: contactsOf.persons } };
  const reachable = { blockedBotAt: null, telegramId: { not: null } };
  const staff = await db.roleGrant.findMany({
    where: { revokedAt: null, role: { in: ['reviewer', 'admin', 'finance'] }, person: reachable },
    select: { personId: true, role: true },
    orderBy: { personId: 'asc' },
  });
  const contacts = await db.roleGrant.findMany({
    where: { revokedAt: null, role: 'contact', person: reachable, ...contactFilter },
    select: { personId: true, unionId: true, union: { select: { active: true } } },
    orderBy: { personId: 'asc' },
  });
  const people: PeopleFacts = { contacts: [], reviewers: [], admins: [], finance: [] };
  for (const g of contacts) {
    if (g.unionId !== null && g.union?.active !== false)
      people.contacts.push({ personId: g.personId, unionId: g.unionId });
  }
  for (const g of staff) {
    if (g.role === 'reviewer') people.reviewers.push(g.personId);
    else if (g.role === 'admin') people.admins.push(g.personId);
    else if (g.role === 'finance') people.finance.push(g.personId);
  }
  return people;
}

// ------------------------------------------------------------------------------------------------ scope
// A sync re-derives one scope: the whole campaign (recovery, a timeline change), or the parts a change
// touched. Rows of the campaign outside the scope are left alone; inside it, rows and jobs are made to
// match exactly what a full sync would want.

const ENTRY_KINDS = ['entry_due', 'entry_overdue'] as const satisfies ReminderKind[];

interface ScopePart {
  kinds: readonly ReminderKind[];
  /** Only these people (everyone when omitted). */
  persons?: number[];
  /** Entry kinds: only these deadlines (all when omitted). */
  deadlines?: IsoDate[];
}

/** What to re-derive for a campaign, and the facts that needs. */
interface Scope {
  parts: ScopePart[];
  /** Contacts whose close reminders are re-derived: all, or the contacts of these unions / these people. */
  contacts: 'all' | { unions: number[] } | { persons: number[] } | null;
  unpaid: boolean;
  /** Delivery dates to look at: all of the campaign, or Shanghai date ranges. */
  delivered: 'all' | { first: IsoDate; last: IsoDate }[];
  /** Look at the unions' allocations not yet reported (and their contacts). */
  allocations?: boolean;
}

const FULL_SCOPE: Scope = {
  parts: [{ kinds: REMINDER_KINDS }],
  contacts: 'all',
  unpaid: true,
  delivered: 'all',
  allocations: true,
};

function inScope(parts: ScopePart[], kind: string, personId: number | null, key: string): boolean {
  return parts.some(
    (p) =>
      (p.kinds as readonly string[]).includes(kind) &&
      (!p.persons || (personId !== null && p.persons.includes(personId))) &&
      (!p.deadlines || p.deadlines.includes(entryDeadlineOfKey(key) ?? '')),
  );
}

async function deriveScope(
  db: Db | Tx,
  campaign: CampaignFacts,
  scope: Scope,
  now: Date,
  calendar: WorkingCalendar,
): Promise<{ desired: DesiredReminder[]; parts: ScopePart[] }> {
  const closeMatters =
    now.getTime() < campaign.nominationClosesAt.getTime() && campaign.settings.beforeClose.length > 0;
  const contactsOf = closeMatters && scope.contacts !== null ? scope.contacts : { persons: [] };
  const people = await loadPeople(db, contactsOf);
  let parts = scope.parts;
  if (scope.contacts !== null && scope.contacts !== 'all' && 'unions' in scope.contacts) {
    // Close reminders of the contacts just loaded (none once nominations have closed).
    const persons = [...new Set(people.contacts.map((c) => c.personId))];
    parts = parts.map((p) => (p.kinds.includes('close') ? { ...p, persons } : p));
  }
  let unions: UnionSlice = { submittedUnions: new Set(), returnedUnions: new Set(), draftOwners: new Set() };
  if (closeMatters && scope.contacts !== null) {
    unions = await unionFacts(
      db,
      campaign.id,
      now,
      scope.contacts === 'all' ? null : [...new Set(people.contacts.map((c) => c.unionId))],
    );
  }
  let deliveredDates = new Set<IsoDate>();
  if (scope.delivered === 'all') {
    deliveredDates = await deliveryDates(db, Prisma.sql`n.campaign_id = ${campaign.id}`, true);
  } else {
    // Every date of a range shares one deadline: one item delivered in it is enough (stops at the first).
    for (const r of scope.delivered) {
      if (await deliveredBetween(db, campaign.id, r.first, r.last)) deliveredDates.add(r.first);
    }
  }
  // Allocations not yet reported: a row per union at most, and the active contacts of those unions.
  let unreportedAllocations = new Set<number>();
  if (scope.allocations) {
    const rows = await db.unionAllocation.findMany({
      where: { campaignId: campaign.id, reportedAt: null },
      select: { unionId: true },
    });
    unreportedAllocations = new Set(rows.map((r) => r.unionId));
    if (unreportedAllocations.size > 0)
      people.allocationContacts = (await loadPeople(db, { unions: [...unreportedAllocations] })).contacts;
  }
  const summary: NominationSummary = {
    ...unions,
    anyUnpaid: scope.unpaid ? await anyUnpaid(db, campaign.id) : false,
    deliveredDates,
    unreportedAllocations,
  };
  const desired = deriveFromSummary({ campaign, summary, people, now, calendar }).filter((d) =>
    inScope(parts, d.kind, d.personId, d.key),
  );
  return { desired, parts };
}

/** The reminders that should exist for one campaign now (whole campaign, or one scope of it). */
export async function desiredReminders(
  db: Db | Tx,
  campaignId: number,
  now: Date,
  calendar: WorkingCalendar = defaultCalendar,
  scope: Scope = FULL_SCOPE,
): Promise<DesiredReminder[]> {
  const campaign = await loadCampaign(db, campaignId);
  return campaign ? (await deriveScope(db, campaign, scope, now, calendar)).desired : [];
}

const delayFor = (dueAt: Date, now: Date) => Math.max(0, dueAt.getTime() - now.getTime());

/** Brings the rows and jobs of one or all campaigns in line with the derived reminders. */
export async function syncReminders(db: Db, queues: Queues, opts: SyncOptions): Promise<SyncResult> {
  return syncScoped(db, queues, opts, () => FULL_SCOPE);
}

async function campaignsToSync(db: Db, campaignId: number | undefined): Promise<number[]> {
  if (campaignId !== undefined) return [campaignId];
  const rows = await db.campaign.findMany({
    where: { OR: [{ status: { not: 'archived' } }, { reminders: { some: { status: 'scheduled' } } }] },
    select: { id: true },
    orderBy: { id: 'asc' },
  });
  return rows.map((c) => c.id);
}

async function syncScoped(
  db: Db,
  queues: Queues,
  opts: SyncOptions,
  scopeOf: (campaignId: number) => Scope | Promise<Scope | null> | null,
): Promise<SyncResult> {
  const total = emptyResult();
  for (const id of await campaignsToSync(db, opts.campaignId)) {
    const scope = await scopeOf(id);
    if (!scope) continue;
    const r = await syncCampaign(db, queues, id, scope, opts.now, opts.calendar ?? defaultCalendar);
    for (const k of Object.keys(total) as (keyof SyncResult)[]) total[k] += r[k];
  }
  return total;
}

async function syncCampaign(
  db: Db,
  queues: Queues,
  campaignId: number,
  scope: Scope,
  now: Date,
  calendar: WorkingCalendar,
): Promise<SyncResult> {
  const queue = queues.get('reminders');
  const result = emptyResult();
  result.campaigns = 1;
  // One sync per campaign at a time (bot hooks, the worker and the CLI may run together): the advisory
  // lock serialises them, and the queue is changed while it is held so rows and jobs agree.
  await db.$transaction(
    async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(7263105, ${campaignId}::int)`;
      await noJit(tx);
      const campaign = await loadCampaign(tx, campaignId);
      const { desired, parts } = campaign
        ? await deriveScope(tx, campaign, scope, now, calendar)
        : { desired: [], parts: scope.parts };
      result.desired = desired.length;
      const keys = desired.map((d) => d.key);
      const kinds = [...new Set(parts.flatMap((p) => p.kinds))];
      const persons = parts.every((p) => p.persons)
        ? [...new Set(parts.flatMap((p) => p.persons ?? []))]
        : null;
      // Reminder rows are per person and deadline (bounded by staff and unions, not by nominations);
      // arrays go in as one parameter each.
      const candidates = await tx.$queryRaw<
        { key: string; kind: string; person_id: number | null; status: string; due_at: Date }[]
      >`
        SELECT key, kind, person_id, status::text AS status, due_at FROM reminder
        WHERE campaign_id = ${campaignId} AND kind = ANY(${kinds}::text[])
          ${persons ? Prisma.sql`AND person_id = ANY(${persons}::int[])` : Prisma.empty}
          AND (status = 'scheduled' OR key = ANY(${keys}::text[]))`;
      const rows = candidates.filter((r) => inScope(parts, r.kind, r.person_id, r.key));
      const byKey = new Map(rows.map((r) => [r.key, r]));
      const wanted = new Set(keys);

      const create: DesiredReminder[] = [];
      const move: DesiredReminder[] = []; // due time changed, or a cancelled row that is relevant again
      const ensure: DesiredReminder[] = [];
      for (const d of desired) {
        const row = byKey.get(d.key);
        if (row?.status === 'sent') continue;
        if (row?.status === 'scheduled') {
          if (row.due_at.getTime() === d.dueAt.getTime()) ensure.push(d);
          else move.push(d);
          continue;
        }
        if (!d.catchUp && d.dueAt.getTime() < now.getTime() - LATE_CREATE_TOLERANCE_MS) {
          result.skippedLate++;
          continue;
        }
        (row ? move : create).push(d);
      }
      const cancel = rows.filter((r) => r.status === 'scheduled' && !wanted.has(r.key)).map((r) => r.key);

      for (let i = 0; i < create.length; i += 1000) {
        const chunk = create.slice(i, i + 1000);
        await tx.$executeRaw`
          INSERT INTO reminder (key, kind, campaign_id, person_id, nomination_id, due_at, updated_at)
          SELECT u.key, u.kind, u.campaign_id, u.person_id, u.nomination_id, u.due_at, now()
          FROM unnest(${chunk.map((d) => d.key)}::text[], ${chunk.map((d) => d.kind)}::text[],
                      ${chunk.map((d) => d.campaignId)}::int[], ${chunk.map((d) => d.personId)}::int[],
                      ${chunk.map((d) => d.nominationId)}::int[], ${chunk.map((d) => d.dueAt)}::timestamptz[])
            AS u(key, kind, campaign_id, person_id, nomination_id, due_at)
          ON CONFLICT (key) DO NOTHING`;
      }
      for (let i = 0; i < move.length; i += 1000) {
        const chunk = move.slice(i, i + 1000);
        await tx.$executeRaw`
          UPDATE reminder r SET due_at = u.due_at, status = 'scheduled', updated_at = now()
          FROM unnest(${chunk.map((d) => d.key)}::text[], ${chunk.map((d) => d.dueAt)}::timestamptz[])
            AS u(key, due_at)
          WHERE r.key = u.key AND r.status <> 'sent'`;
      }
      if (cancel.length > 0) {
        await tx.$executeRaw`
          UPDATE reminder SET status = 'cancelled', updated_at = now()
          WHERE key = ANY(${cancel}::text[]) AND status = 'scheduled'`;
      }

      // Jobs. Removing a job that a worker holds fails: that job re-checks the row when it runs.
      for (const key of [...cancel, ...move.map((d) => d.key)]) {
        await queue.remove(key).catch(() => 0);
      }
      const add = [...create, ...move, ...ensure];
      for (let i = 0; i < add.length; i += 1000) {
        await queue.addBulk(
          add.slice(i, i + 1000).map((d) => ({
            name: REMINDER_JOB,
            data: { key: d.key },
            opts: { ...REMINDER_JOB_OPTIONS, jobId: d.key, delay: delayFor(d.dueAt, now) },
          })),
        );
      }
      result.created = create.length;
      result.rescheduled = move.length;
      result.ensured = ensure.length;
      result.cancelled = cancel.length;
    },
    { timeout: 300_000, maxWait: 30_000 },
  );
  return result;
}

// ------------------------------------------------------------------------------------------------ hooks
// Thin wrappers for other use cases to call after their transaction committed.

/**
 * After a campaign's timeline or settings changed (loading a file, /deadline): its reminders, and its
 * opening notices (scheduled at `opens`, or sent now when it is open).
 */
export async function onCampaignChanged(db: Db, queues: Queues, campaignId: number, now: Date) {
  const r = await syncReminders(db, queues, { campaignId, now });
  await scheduleCampaignOpening(db, queues, campaignId, now);
  return r;
}

/**
 * The scope of a change to some nominations (`where` selects them, alias `n`), per campaign, in one
 * query: close reminders of the contacts of their unions, the payment reminder, and the entry reminders
 * of the deadlines their delivery dates fall on (entered or not: entering one may end its deadline's).
 */
async function nominationsScopes(db: Db, where: Prisma.Sql, calendar: WorkingCalendar) {
  const rows = await db.$queryRaw<
    { campaign_id: number; entry_working_days: number; unions: number[]; hours: number[] | null }[]
  >`
    SELECT n.campaign_id, c.entry_working_days, array_agg(DISTINCT n.union_id) AS unions,
           array_agg(DISTINCT floor(extract(epoch FROM ${DELIVERED_AT}) / 3600)::int)
             FILTER (WHERE ${DELIVERED_AT} IS NOT NULL) AS hours
    FROM nomination n JOIN campaign c ON c.id = n.campaign_id ${DELIVERED_JOIN}
    WHERE ${where}
    GROUP BY n.campaign_id, c.entry_working_days`;
  return rows.map((r) => {
    const ranges = new Map<IsoDate, { first: IsoDate; last: IsoDate }>();
    for (const day of new Set((r.hours ?? []).map((h) => shanghaiDateOf(h * 3_600_000)))) {
      const range = deliveryDatesSharingDeadline(day, r.entry_working_days, calendar);
      ranges.set(range.deadline, range);
    }
    const scope: Scope = {
      parts: [
        { kinds: ['close'] },
        { kinds: ['payment_due'] },
        { kinds: ENTRY_KINDS, deadlines: [...ranges.keys()] },
      ],
      contacts: { unions: r.unions },
      unpaid: true,
      delivered: [...ranges.values()],
    };
    return { campaignId: r.campaign_id, scope };
  });
}

async function syncNominations(
  db: Db,
  queues: Queues,
  where: Prisma.Sql,
  now: Date,
  calendar = defaultCalendar,
) {
  const total = emptyResult();
  for (const { campaignId, scope } of await nominationsScopes(db, where, calendar)) {
    const r = await syncScoped(db, queues, { campaignId, now, calendar }, () => scope);
    for (const k of Object.keys(total) as (keyof SyncResult)[]) total[k] += r[k];
  }
  return total;
}

/** After a nomination was created, submitted, returned, withdrawn, decided, handed over or entered. */
export function onNominationChanged(db: Db, queues: Queues, nominationId: number, now: Date) {
  return syncNominations(db, queues, Prisma.sql`n.id = ${nominationId}`, now);
}

/** After several nominations changed (e.g. a handover sheet): one scoped sync per campaign. */
export function onNominationsChanged(db: Db, queues: Queues, nominationIds: number[], now: Date) {
  return syncNominations(db, queues, Prisma.sql`n.id = ANY(${nominationIds}::int[])`, now);
}

/** After a payment batch was created, marked paid or failed: the batch's nominations. */
export function onBatchChanged(db: Db, queues: Queues, batchId: number, now: Date) {
  return syncNominations(
    db,
    queues,
    Prisma.sql`n.id IN (SELECT p.nomination_id FROM payment p WHERE p.batch_id = ${batchId})`,
    now,
  );
}

/** After a payment was recorded (paid or failed): cancels "unpaid" reminders, schedules entry deadlines. */
export function onPaymentRecorded(db: Db, queues: Queues, paymentId: number, now: Date) {
  return syncNominations(
    db,
    queues,
    Prisma.sql`n.id IN (SELECT p.nomination_id FROM payment p WHERE p.id = ${paymentId})`,
    now,
  );
}

/**
 * After a union reported how its allocation was spent (or an allocation changed): the allocation
 * reminders of the campaign (a reported union's contacts are no longer chased).
 */
export function onAllocationReported(db: Db, queues: Queues, campaignId: number, now: Date) {
  const scope: Scope = {
    parts: [{ kinds: ['allocation_report_due'] }],
    contacts: null,
    unpaid: false,
    delivered: [],
    allocations: true,
  };
  return syncScoped(db, queues, { campaignId, now }, () => scope);
}

/** After a daily review summary was sent: only the review summaries (the next working day's one). */
export function onReviewSummarySent(db: Db, queues: Queues, campaignId: number, now: Date) {
  const scope: Scope = {
    parts: [{ kinds: ['review_summary'] }],
    contacts: null,
    unpaid: false,
    delivered: [],
  };
  return syncScoped(db, queues, { campaignId, now }, () => scope);
}

/**
 * After role changes (a contact joined, a reviewer was added, someone blocked the bot). With `person`,
 * only that person's reminders are re-derived in each campaign, plus every entry reminder when they are
 * or were staff (finance replaces admins as recipients); without it, everything (as a full sync).
 */
export async function onPeopleChanged(
  db: Db,
  queues: Queues,
  now: Date,
  person?: { id: number } | { telegramId: bigint },
) {
  if (!person) return syncReminders(db, queues, { now });
  const p = await db.person.findUnique({
    where: 'id' in person ? { id: person.id } : { telegramId: person.telegramId },
    select: {
      id: true,
      grants: { where: { role: { in: ['admin', 'finance'] } }, select: { id: true }, take: 1 },
    },
  });
  if (!p) return emptyResult();
  const staff = p.grants.length > 0;
  const scope: Scope = {
    parts: [
      { kinds: ['close', 'review_summary', 'payment_due', 'allocation_report_due'], persons: [p.id] },
      ...(staff ? [{ kinds: ENTRY_KINDS }] : []),
    ],
    contacts: { persons: [p.id] },
    unpaid: true,
    delivered: staff ? 'all' : [],
    allocations: true,
  };
  return syncScoped(db, queues, { now }, () => scope);
}
