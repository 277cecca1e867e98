import { randomUUID } from 'node:crypto';
import type { Db, Prisma, Tx } from '../adapters/db/client.ts';
import { uniqueViolation } from '../adapters/db/client.ts';
import type { Queues } from '../adapters/queue/queues.ts';

// Staff jobs: heavy staff actions (ledger and entry-list exports, batch creation, "all paid", bulk
// approval, the submit of a checked spreadsheet, /report's figures, chart and .docx) run in a worker, not in the chat request. The chat
// answers at once with ONE message that the job edits as it goes (progress) and finally turns into the
// result; files follow as documents.
//
// One row per job in PostgreSQL (`staff_job`): the BullMQ payload is its id alone, the row holds the
// actor, chat, message, locale and the action's parameters (ids and codes only, never personal data).
//   - A double press: `activeKey` names the thing acted on (a batch, a campaign, an upload) and is
//     unique while the job is queued or running, so a second request for it is refused ("already
//     running") instead of queued. The key is cleared when the job ends.
//   - A worker killed mid-job: BullMQ hands the job to another worker (stalled-job check). The run
//     claims the row again (attempts + 1); each action is guarded in the database (guarded updates,
//     or the result written in the action's own transaction), so running it again changes nothing
//     twice; a job whose result is already stored is only delivered.

export const STAFF_JOB = 'staff-job';
export const STAFF_JOB_KINDS = [
  'ledger_export',
  'entry_list',
  'batch_new',
  'batch_paid',
  'bulk_approve',
  'import_submit',
  'report',
] as const;
export type StaffJobKind = (typeof STAFF_JOB_KINDS)[number];

/** Ids, codes and counts: what a job's parameters and results may hold. */
export type JobValue = string | number | boolean | null | JobValue[] | { [k: string]: JobValue };
export type JobParams = Record<string, JobValue>;

/** A result as data: message lines (locale key + values) and buttons, rendered in the job's locale. */
export interface StaffJobResult {
  lines: { key: string; values?: Record<string, string | number> }[];
  buttons?: {
    key: string;
    values?: Record<string, string | number>;
    action: string;
    args: (string | number)[];
  }[];
  /** Counts for the log and the tests. */
  counts?: Record<string, number>;
}

export interface StaffJobRow {
  id: string;
  kind: StaffJobKind;
  actorId: number;
  chatId: bigint;
  messageId: number | null;
  locale: string;
  params: JobParams;
  status: string;
  attempts: number;
  /** Export parts already delivered to the chat by an earlier attempt. */
  partsSent: number;
  result: StaffJobResult | null;
}

/** A key held this long by a job BullMQ no longer has is taken back. */
const STALE_HOLDER_MS = 5 * 60_000;

export type StartOutcome = { started: true; id: string } | { started: false; reason: 'busy' };

/**
 * Claims `activeKey` for a new staff job, lets the chat show its message (`announce` sends or edits
 * it and returns its id: the message the job will edit), then queues the job. Refused with 'busy',
 * before anything is shown, while another job holds the same key (a double press).
 */
export async function startStaffJob(
  deps: { db: Db; queues: Queues },
  req: {
    kind: StaffJobKind;
    actorId: number;
    chatId: number;
    locale: string;
    params: JobParams;
    activeKey: string;
  },
  announce: () => Promise<number>,
): Promise<StartOutcome> {
  const id = randomUUID();
  const create = () =>
    deps.db.staffJob.create({
      data: {
        id,
        kind: req.kind,
        actorId: req.actorId,
        chatId: BigInt(req.chatId),
        locale: req.locale,
        params: req.params as Prisma.InputJsonObject,
        activeKey: req.activeKey,
      },
    });
  try {
    await create();
  } catch (err) {
    if (!uniqueViolation(err)) throw err;
    // The holder's BullMQ job is gone (Redis lost its data) and it is not just being queued: free the
    // key, or the action could never be asked for again.
    const holder = await deps.db.staffJob.findUnique({ where: { activeKey: req.activeKey } });
    const stale =
      holder &&
      Date.now() - holder.createdAt.getTime() > STALE_HOLDER_MS &&
      !(await deps.queues.get('staff').getJob(holder.id));
    if (!stale) return { started: false, reason: 'busy' };
    await deps.db.staffJob.updateMany({
      where: { id: holder.id, activeKey: req.activeKey },
      data: { status: 'failed', activeKey: null, finishedAt: new Date() },
    });
    try {
      await create();
    } catch (again) {
      if (uniqueViolation(again)) return { started: false, reason: 'busy' };
      throw again;
    }
  }
  try {
    const messageId = await announce();
    await deps.db.staffJob.update({ where: { id }, data: { messageId } });
    await deps.queues.get('staff').add(
      STAFF_JOB,
      { staffJobId: id },
      {
        jobId: id,
        attempts: 3,
        backoff: { type: 'exponential', delay: 5_000 },
        removeOnComplete: { age: 3_600 },
        removeOnFail: { age: 7 * 86_400 },
      },
    );
  } catch (err) {
    await deps.db.staffJob
      .update({ where: { id }, data: { status: 'failed', activeKey: null, finishedAt: new Date() } })
      .catch(() => {});
    throw err;
  }
  return { started: true, id };
}

/**
 * Claims a job for a run: queued or running (a previous attempt died) becomes running, attempts + 1.
 * Returns the row, or null when the job has already finished (done: deliver only; see `status`).
 */
export async function claimStaffJob(db: Db, id: string, now: Date): Promise<StaffJobRow | null> {
  const rows = await db.staffJob.updateManyAndReturn({
    where: { id, status: { in: ['queued', 'running'] } },
    data: { status: 'running', attempts: { increment: 1 }, startedAt: now },
  });
  const row = rows[0] ?? (await db.staffJob.findUnique({ where: { id } }));
  return row ? (row as unknown as StaffJobRow) : null;
}

/** Stores the result (status done); inside the action's own transaction when given `tx`. */
export async function storeStaffJobResult(
  db: Db | Tx,
  id: string,
  result: StaffJobResult,
  now: Date,
): Promise<void> {
  await db.staffJob.update({
    where: { id },
    data: { status: 'done', result: result as unknown as Prisma.InputJsonObject, finishedAt: now },
  });
}

/** The result was shown: the job is over and its key free. */
export async function markStaffJobDelivered(db: Db, id: string): Promise<void> {
  await db.staffJob.update({ where: { id }, data: { status: 'delivered', activeKey: null } });
}

/** The last attempt failed: the key is freed so the person can try again. */
export async function markStaffJobFailed(db: Db, id: string, now: Date): Promise<void> {
  await db.staffJob.update({
    where: { id },
    data: { status: 'failed', activeKey: null, finishedAt: now },
  });
}

/** Part `part` (1-based) of an export reached the chat: a retried attempt will not send it again. */
export async function recordStaffJobPartSent(db: Db, id: string, part: number): Promise<void> {
  await db.staffJob.update({ where: { id }, data: { partsSent: part } });
}

export async function recordStaffJobProgress(db: Db, id: string, done: number, total: number): Promise<void> {
  await db.staffJob.update({ where: { id }, data: { done, total } });
}
