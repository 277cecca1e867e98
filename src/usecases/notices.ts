import { type Db, Prisma, type Tx } from '../adapters/db/client.ts';
import type { Queues } from '../adapters/queue/queues.ts';

// Outbound notices. One notice = one row with a unique key (recipient, nomination, kind): enqueueing the
// same notice twice creates one row and one job, and the sender claims the row before sending, so a
// retried job, a duplicated job or a crashed worker never sends it twice (at most once per key).

export const SEND_NOTICE_JOB = 'send-notice';

export type NoticeKind =
  | 'decision'
  | 'payment'
  | 'thank_you'
  | 'payment_failed'
  | 'returned'
  | 'handover'
  | 'reminder'
  | 'campaign_opened'
  | 'announcement'
  | 'deadline_changed';

export interface NoticeRequest {
  /** e.g. `decision-<nominationId>-r<revision>` — the same key never sends twice. */
  uniqueKey: string;
  kind: NoticeKind;
  /** null: the recipient has no Telegram chat bound yet (sent by SMS if `smsFallback`). */
  personId: number | null;
  nominationId?: number;
  /** Campaign notices (opening, announcement, deadline change): the campaign; composed at send time. */
  campaignId?: number;
  announcementId?: number;
  /** Recipient notices: if Telegram cannot deliver (no chat, 403), send it by SMS to the nomination's phone. */
  smsFallback?: boolean;
  /** Locale key rendered in the person's language at send time. */
  template: string;
  /** Non-sensitive values for the template; a value "@some.key" is itself translated. */
  params?: Record<string, string | number>;
  /** Optional inline buttons: [label locale key, callback action, ...args] per button, one row. */
  buttons?: { textKey: string; action: string; args: (string | number)[] }[];
}

/** One job per notice: the id is the notice's, so adding it again while it exists adds nothing. */
const noticeJobOptions = (noticeId: number) => ({
  jobId: `notice-${noticeId}`,
  attempts: 10,
  backoff: { type: 'exponential' as const, delay: 2_000 },
  removeOnComplete: { count: 10_000 },
  removeOnFail: { count: 10_000 },
});

const rowData = (n: NoticeRequest) => ({
  uniqueKey: n.uniqueKey,
  kind: n.kind,
  personId: n.personId,
  nominationId: n.nominationId ?? null,
  campaignId: n.campaignId ?? null,
  announcementId: n.announcementId ?? null,
  template: n.template,
  params: { values: n.params ?? {}, buttons: n.buttons ?? [], ...(n.smsFallback ? { sms: true } : {}) },
});

/**
 * The INSERT that records a notice once per unique key (ON CONFLICT DO NOTHING, RETURNING id and status),
 * as a statement of its own (`from` empty) or as a part of a bigger one: `from` is e.g. `FROM upd`, so
 * a review decision inserts its contact's notice in the statement that records the decision
 * (decide-nomination.ts), and the notice is inserted only when the decision was.
 */
export function insertNoticeSql(n: NoticeRequest, from: Prisma.Sql = Prisma.empty): Prisma.Sql {
  const params = JSON.stringify(rowData(n).params);
  return Prisma.sql`INSERT INTO notice (unique_key, kind, person_id, nomination_id, campaign_id, announcement_id, template, params)
    SELECT ${n.uniqueKey}, ${n.kind}::"NoticeKind", ${n.personId}::int, ${n.nominationId ?? null}::int,
      ${n.campaignId ?? null}::int, ${n.announcementId ?? null}::int, ${n.template}, ${params}::jsonb ${from}
    ON CONFLICT (unique_key) DO NOTHING
    RETURNING id, status::text AS status`;
}

/** Queues the job of a notice row recorded by insertNoticeSql / enqueueNotice, while it is still queued. */
export async function queueNoticeJob(queues: Queues, row: { id: number; status: string }): Promise<void> {
  if (row.status !== 'queued') return;
  await queues.get('notifications').add(SEND_NOTICE_JOB, { noticeId: row.id }, noticeJobOptions(row.id));
}

/**
 * Records the notice once per unique key and queues its job while it is still queued. One statement
 * (insert, or read the existing row): Prisma's upsert sent five (a transaction around a read, the
 * insert and a read back), on every review decision.
 */
export async function enqueueNotice(
  db: Db,
  queues: Queues,
  n: NoticeRequest,
): Promise<{ id: number; status: string }> {
  const read = () =>
    db.$queryRaw<{ id: number; status: string }[]>`
      WITH ins AS (${insertNoticeSql(n)})
      SELECT id, status FROM ins
      UNION ALL
      SELECT id, status::text FROM notice WHERE unique_key = ${n.uniqueKey}
      LIMIT 1`;
  // Empty only when another transaction inserted the same key and has not committed yet: its row is
  // visible once it has (ON CONFLICT waited for it).
  const row = (await read())[0] ?? (await read())[0];
  if (!row) throw new Error(`notice ${n.uniqueKey} neither inserted nor found`);
  await queueNoticeJob(queues, row);
  return row;
}

const CHUNK = 1000;
/** Small chunks first, so a worker can start sending while the rest is still being queued. */
const FIRST_CHUNKS = [50, 200];

/**
 * Many notices at once (a paid batch, a handover list, a campaign opening to every contact): rows inserted in chunks, an existing key
 * left as it is (ON CONFLICT DO NOTHING), and a job (re-)added for every row of the chunk still queued,
 * so running it again after a crash or a restart sends nothing twice and loses nothing.
 * Returns how many rows were new.
 */
export async function enqueueNotices(db: Db, queues: Queues, list: NoticeRequest[]): Promise<number> {
  let created = 0;
  for (let i = 0, n = 0; i < list.length; n++) {
    const size = FIRST_CHUNKS[n] ?? CHUNK;
    const chunk = insertNoticeChunk(db, list.slice(i, i + size));
    i += size;
    const { inserted, queued } = await chunk;
    created += inserted;
    await queueNoticeJobs(queues, queued);
  }
  return created;
}

/**
 * The rows of many notices, inserted inside the caller's transaction (they commit, or not, with what
 * they announce, e.g. a bulk approval); returns the ids still queued: `queueNoticeJobs` after the
 * commit (a crash in between leaves rows the minute notice sweep gives their jobs).
 */
export async function insertNotices(tx: Tx, list: NoticeRequest[]): Promise<number[]> {
  const queued: number[] = [];
  for (let i = 0; i < list.length; i += CHUNK)
    queued.push(...(await insertNoticeChunk(tx, list.slice(i, i + CHUNK))).queued);
  return queued;
}

/** Queues the jobs of notice rows still queued (same job id per notice: none twice). */
export async function queueNoticeJobs(queues: Queues, ids: readonly number[]): Promise<void> {
  if (ids.length === 0) return;
  await queues
    .get('notifications')
    .addBulk(
      ids.map((id) => ({ name: SEND_NOTICE_JOB, data: { noticeId: id }, opts: noticeJobOptions(id) })),
    );
}

/** One chunk of notices: inserted (an existing key left as it is), then the ids of its rows still queued. */
async function insertNoticeChunk(
  db: Db | Tx,
  list: NoticeRequest[],
): Promise<{ inserted: number; queued: number[] }> {
  const chunk = list.map(rowData);
  const keys = chunk.map((n) => n.uniqueKey);
  // One statement per chunk, arrays as one parameter each (Prisma's createMany was ~2 ms a row here).
  const inserted = await db.$executeRaw`
    INSERT INTO notice (unique_key, kind, person_id, nomination_id, campaign_id, announcement_id, template, params)
    SELECT u.key, u.kind::"NoticeKind", u.person_id, u.nomination_id, u.campaign_id, u.announcement_id,
           u.template, u.params::jsonb
    FROM unnest(${keys}::text[], ${chunk.map((n) => n.kind)}::text[], ${chunk.map((n) => n.personId)}::int[],
                ${chunk.map((n) => n.nominationId)}::int[], ${chunk.map((n) => n.campaignId)}::int[],
                ${chunk.map((n) => n.announcementId)}::int[], ${chunk.map((n) => n.template)}::text[],
                ${chunk.map((n) => JSON.stringify(n.params))}::text[])
      AS u(key, kind, person_id, nomination_id, campaign_id, announcement_id, template, params)
    ON CONFLICT (unique_key) DO NOTHING`;
  const queued = await db.$queryRaw<{ id: number }[]>`
    SELECT id FROM notice WHERE unique_key = ANY(${keys}::text[]) AND status = 'queued'`;
  return { inserted, queued: queued.map((q) => q.id) };
}

/**
 * Queues a job for every notice still `queued` in PostgreSQL (worker start; after a restore or a Redis
 * that lost its data; and every minute from the notice sweeper for rows older than `olderThanMs`, whose
 * job should long be there: a process that died between a decision's commit and queueing its notice's
 * job; measured on PostgreSQL's clock, which wrote `created_at`). A notice whose job is still in Redis (waiting, delayed, active) gets nothing new (same job id),
 * and a job sends only after claiming its row, so nothing is sent twice. With `retryFailed` (worker
 * start), a job that used up its attempts while its notice is still unsent (e.g. Telegram unreachable
 * for longer than the backoff, about 17 minutes) is retried; the periodic sweep leaves those to the
 * next start, or it would retry them every minute for as long as Telegram stays away.
 */
export async function requeueQueuedNotices(
  db: Db,
  queues: Queues,
  opts: { page?: number; olderThanMs?: number; retryFailed?: boolean } = {},
): Promise<{ queued: number; retried: number; missing: number }> {
  const queue = queues.get('notifications');
  const { page = 1000, olderThanMs, retryFailed = true } = opts;
  let queued = 0;
  let retried = 0;
  let missing = 0;
  for (let after = 0; ; ) {
    const rows = await db.$queryRaw<{ id: number }[]>`
      SELECT id FROM notice
      WHERE status = 'queued' AND id > ${after}
        ${
          olderThanMs === undefined
            ? Prisma.empty
            : Prisma.sql`AND created_at < LOCALTIMESTAMP - make_interval(secs => ${olderThanMs / 1000}::float8)`
        }
      ORDER BY id LIMIT ${page}`;
    if (rows.length === 0) break;
    const states = await Promise.all(rows.map((r) => queue.getJobState(`notice-${r.id}`)));
    missing += states.filter((s) => s === 'unknown').length;
    const failed = retryFailed ? rows.filter((_, i) => states[i] === 'failed') : [];
    for (const r of failed) {
      const job = await queue.getJob(`notice-${r.id}`);
      if (
        job &&
        (await job.retry('failed').then(
          () => true,
          () => false,
        ))
      )
        retried++;
    }
    await queue.addBulk(
      rows.map((r) => ({ name: SEND_NOTICE_JOB, data: { noticeId: r.id }, opts: noticeJobOptions(r.id) })),
    );
    queued += rows.length;
    after = rows.at(-1)!.id;
  }
  return { queued, retried, missing };
}
