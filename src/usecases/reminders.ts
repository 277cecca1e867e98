import type { JobsOptions } from 'bullmq';
import type { Db, Tx } from '../adapters/db/client.ts';
import type { Queues } from '../adapters/queue/queues.ts';
import { defaultCalendar } from '../domain/calendar/index.ts';
import type { WorkingCalendar } from '../domain/calendar/working-days.ts';
import {
  type CampaignFacts,
  type DesiredReminder,
  deriveReminders,
  type NominationFacts,
  type NominationStatusName,
  type PeopleFacts,
  reminderSettingsFrom,
} from '../domain/reminders/index.ts';

// Reminders are derived from PostgreSQL state (domain/reminders) and kept in step with the `reminder`
// table and the BullMQ `reminders` queue (job id = reminder key). `syncReminders` is idempotent: run it
// after any change (the hooks below), at worker start and from `npm run reminders:sync` after Redis lost
// its data. A reminder already sent is never re-created; one about something done is cancelled.

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

/** The state `deriveReminders` needs for one campaign (null when the campaign does not exist). */
export async function loadReminderFacts(
  db: Db | Tx,
  campaignId: number,
): Promise<{ campaign: CampaignFacts; nominations: NominationFacts[]; people: PeopleFacts } | null> {
  const c = await db.campaign.findUnique({ where: { id: campaignId } });
  if (!c) return null;
  const campaign: CampaignFacts = {
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
  const rows = await db.nomination.findMany({
    where: { campaignId },
    select: {
      id: true,
      status: true,
      unionId: true,
      submittedById: true,
      draftExpiresAt: true,
      enteredProvincialAt: true,
      payments: { where: { status: 'paid' }, select: { paidAt: true }, orderBy: { paidAt: 'desc' }, take: 1 },
      handovers: { select: { handedOverOn: true }, take: 1 },
    },
  });
  const nominations: NominationFacts[] = rows.map((n) => ({
    id: n.id,
    status: n.status as NominationStatusName,
    unionId: n.unionId,
    submittedById: n.submittedById,
    draftExpiresAt: n.draftExpiresAt,
    // Delivered: paid, or goods handed over (the handover day, Shanghai noon).
    paidAt:
      n.payments[0]?.paidAt ??
      (n.handovers[0]
        ? new Date(`${n.handovers[0].handedOverOn.toISOString().slice(0, 10)}T04:00:00Z`)
        : null),
    enteredProvincialAt: n.enteredProvincialAt,
  }));
  const grants = await db.roleGrant.findMany({
    where: {
      revokedAt: null,
      role: { in: ['contact', 'reviewer', 'admin', 'finance'] },
      person: { blockedBotAt: null, telegramId: { not: null } },
    },
    select: { personId: true, role: true, unionId: true, union: { select: { active: true } } },
    orderBy: { personId: 'asc' },
  });
  const people: PeopleFacts = { contacts: [], reviewers: [], admins: [], finance: [] };
  for (const g of grants) {
    if (g.role === 'contact') {
      if (g.unionId !== null && g.union?.active !== false)
        people.contacts.push({ personId: g.personId, unionId: g.unionId });
    } else if (g.role === 'reviewer') people.reviewers.push(g.personId);
    else if (g.role === 'admin') people.admins.push(g.personId);
    else if (g.role === 'finance') people.finance.push(g.personId);
  }
  return { campaign, nominations, people };
}

/** The reminders that should exist for one campaign now. */
export async function desiredReminders(
  db: Db | Tx,
  campaignId: number,
  now: Date,
  calendar: WorkingCalendar = defaultCalendar,
): Promise<DesiredReminder[]> {
  const facts = await loadReminderFacts(db, campaignId);
  return facts ? deriveReminders({ ...facts, now, calendar }) : [];
}

const delayFor = (dueAt: Date, now: Date) => Math.max(0, dueAt.getTime() - now.getTime());

/** Brings the rows and jobs of one or all campaigns in line with the derived reminders. */
export async function syncReminders(db: Db, queues: Queues, opts: SyncOptions): Promise<SyncResult> {
  const ids =
    opts.campaignId !== undefined
      ? [opts.campaignId]
      : (
          await db.campaign.findMany({
            where: {
              OR: [{ status: { not: 'archived' } }, { reminders: { some: { status: 'scheduled' } } }],
            },
            select: { id: true },
            orderBy: { id: 'asc' },
          })
        ).map((c) => c.id);
  const total = emptyResult();
  for (const id of ids) {
    const r = await syncCampaign(db, queues, id, opts.now, opts.calendar ?? defaultCalendar);
    for (const k of Object.keys(total) as (keyof SyncResult)[]) total[k] += r[k];
  }
  return total;
}

async function syncCampaign(
  db: Db,
  queues: Queues,
  campaignId: number,
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
      const desired = await desiredReminders(tx, campaignId, now, calendar);
      result.desired = desired.length;
      const keys = desired.map((d) => d.key);
      const rows = await tx.reminder.findMany({
        where: { campaignId, OR: [{ status: 'scheduled' }, { key: { in: keys } }] },
        select: { key: true, status: true, dueAt: true },
      });
      const byKey = new Map(rows.map((r) => [r.key, r]));
      const wanted = new Set(keys);

      const create: DesiredReminder[] = [];
      const move: DesiredReminder[] = []; // due time changed, or a cancelled row that is relevant again
      const ensure: DesiredReminder[] = [];
      for (const d of desired) {
        const row = byKey.get(d.key);
        if (row?.status === 'sent') continue;
        if (row?.status === 'scheduled') {
          if (row.dueAt.getTime() === d.dueAt.getTime()) ensure.push(d);
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

      if (create.length > 0) {
        await tx.reminder.createMany({
          data: create.map((d) => ({
            key: d.key,
            kind: d.kind,
            campaignId: d.campaignId,
            personId: d.personId,
            nominationId: d.nominationId,
            dueAt: d.dueAt,
          })),
          skipDuplicates: true,
        });
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
        await tx.reminder.updateMany({
          where: { key: { in: cancel }, status: 'scheduled' },
          data: { status: 'cancelled' },
        });
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

/** After a campaign's timeline or settings changed (loading a file, /deadline). */
export function onCampaignChanged(db: Db, queues: Queues, campaignId: number, now: Date) {
  return syncReminders(db, queues, { campaignId, now });
}

/** After a nomination was created, submitted, returned, withdrawn, decided or entered provincially. */
export async function onNominationChanged(db: Db, queues: Queues, nominationId: number, now: Date) {
  const n = await db.nomination.findUnique({ where: { id: nominationId }, select: { campaignId: true } });
  return n ? syncReminders(db, queues, { campaignId: n.campaignId, now }) : emptyResult();
}

/** After a payment was recorded (paid or failed): cancels "unpaid" reminders, schedules entry deadlines. */
export async function onPaymentRecorded(db: Db, queues: Queues, paymentId: number, now: Date) {
  const p = await db.payment.findUnique({
    where: { id: paymentId },
    select: { nomination: { select: { campaignId: true } } },
  });
  return p ? syncReminders(db, queues, { campaignId: p.nomination.campaignId, now }) : emptyResult();
}

/** After role changes (a contact joined, a reviewer was added, someone blocked the bot). */
export function onPeopleChanged(db: Db, queues: Queues, now: Date) {
  return syncReminders(db, queues, { now });
}
