import type { JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Db } from '../../adapters/db/client.ts';
import { BOUNDED_RETENTION, type Queues } from '../../adapters/queue/queues.ts';
import {
  digestWindow,
  digestWindowEnd,
  isReviewable,
  REVIEWABLE_STATUSES,
  reviewSettingsFrom,
  slaDueAt,
} from '../../domain/review/rules.ts';
import { enqueueNotice } from '../notices.ts';

// Review tasks and what hangs off them, all in BullMQ with ids only in payloads:
// - `review-task` (queue review), one per nomination revision (jobId rvtask-<id>-r<rev>): records the
//   task for the campaign's digest and schedules the SLA check;
// - `review-digest` (queue review), one per campaign, kind and window (jobId rvdigest-…): one message per
//   reviewer ("12 new nominations waiting, 3 flagged") at most every N minutes; the same job with kind
//   `sla` tells admins about nominations past the review SLA;
// - `review-sla` (queue reminders, next to the reminder jobs): one per nomination revision and SLA period.
// Delivery is at least once: a task is recorded once (a field of the campaign's `rvseen` hash + ZADD in
// one Lua call), and every message is a Notice row with a unique key, so a repeated or stalled job never
// notifies twice. Completed jobs are not kept for de-duplication (bounded retention, adapters/queue):
// the job id de-duplicates while a job waits, the hash or the Notice row once it has run.

export const REVIEW_TASK_JOB = 'review-task';
export const REVIEW_DIGEST_JOB = 'review-digest';
export const REVIEW_SLA_JOB = 'review-sla';

export type DigestKind = 'new' | 'sla';

const JOB_OPTIONS = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 2_000, jitter: 0.5 },
  ...BOUNDED_RETENTION,
} satisfies JobsOptions;

/** A campaign's record of recorded tasks expires this long after its last task (refreshed on each). */
const SEEN_TTL_SECONDS = 90 * 86_400;

export interface TaskDeps {
  db: Db;
  queues: Queues;
  now: () => Date;
}

export const taskJobId = (nominationId: number, revision: number) => `rvtask-${nominationId}-r${revision}`;
export const slaJobId = (nominationId: number, revision: number, period: number) =>
  `rvsla-${nominationId}-r${revision}-p${period}`;
export const digestJobId = (kind: DigestKind, campaignId: number, window: number) =>
  `rvdigest-${kind}-${campaignId}-${window}`;

/** Queues the review task of one submitted revision (idempotent: the job id is fixed). */
export async function queueReviewTask(queues: Queues, t: { nominationId: number; revision: number }) {
  await queues.get('review').add(
    REVIEW_TASK_JOB,
    { nominationId: t.nominationId, revision: t.revision },
    {
      ...JOB_OPTIONS,
      jobId: taskJobId(t.nominationId, t.revision),
    },
  );
}

/** Nominations read per query by a digest (a bounded number of bind parameters). */
const DIGEST_PAGE = 5_000;

/** Nominations read per page by the sweep (one page in memory at a time). */
export const SWEEP_PAGE = 1000;

/**
 * Re-queues tasks of every pending nomination (a submit whose queue call failed, rows imported from a
 * spreadsheet, Redis that lost its data). Safe to run any time. Pages through the nominations by id and
 * queues only the tasks that are neither in the queue (any state) nor already recorded (the marker), so a
 * worker restart with 100,000 pending nominations re-queues nothing. Returns the number queued.
 */
export async function ensureReviewTasks(db: Db, queues: Queues, campaignId?: number): Promise<number> {
  const queue = queues.get('review');
  const redis = await redisOf(queues);
  let queued = 0;
  let after = 0;
  for (;;) {
    const rows = await db.nomination.findMany({
      where: {
        id: { gt: after },
        status: { in: [...REVIEWABLE_STATUSES] },
        ...(campaignId ? { campaignId } : {}),
      },
      select: { id: true, revision: true, campaignId: true },
      orderBy: { id: 'asc' },
      take: SWEEP_PAGE,
    });
    if (rows.length === 0) break;
    after = rows[rows.length - 1]!.id;
    const pipe = redis.pipeline();
    for (const r of rows) {
      pipe.exists(queue.toKey(taskJobId(r.id, r.revision)));
      pipe.hget(seenKey(queues, 'new', r.campaignId), String(r.id));
    }
    const found = (await pipe.exec()) ?? [];
    const missing = rows.filter((r, i) => {
      const queuedAlready = found[2 * i]?.[1] === 1;
      const recordedRevision = Number(found[2 * i + 1]?.[1] ?? 0);
      return !queuedAlready && recordedRevision < r.revision;
    });
    if (missing.length > 0) {
      await queue.addBulk(
        missing.map((r) => ({
          name: REVIEW_TASK_JOB,
          data: { nominationId: r.id, revision: r.revision },
          opts: { ...JOB_OPTIONS, jobId: taskJobId(r.id, r.revision) },
        })),
      );
      queued += missing.length;
    }
    if (rows.length < SWEEP_PAGE) break;
  }
  return queued;
}

const redisOf = async (queues: Queues): Promise<Redis> => queues.redis;
/**
 * What a campaign already recorded, one hash per campaign and kind (not one key per task): field = the
 * nomination id (`new`) or `<id>-<revision>` (`sla`), value = the highest revision (`new`) or SLA period
 * (`sla`) recorded. About 70 bytes of Redis per pending nomination.
 */
const seenKey = (queues: Queues, kind: DigestKind, campaignId: number) =>
  `${queues.prefix}:rvseen:${kind}:${campaignId}`;
const taskMember = (nominationId: number, revision: number) => `${nominationId}-${revision}`;
const setKey = (queues: Queues, kind: DigestKind, campaignId: number) =>
  `${queues.prefix}:rvdigest:${kind}:${campaignId}`;

// Only when the hash holds a lower value for the field: raise it and add the member. Atomic, so a crash
// leaves either both or neither. Both keys carry the installation's {hash tag}: one Redis Cluster slot.
const RECORD_ONCE = `
local seen = tonumber(redis.call('HGET', KEYS[1], ARGV[3]) or '0')
if seen >= tonumber(ARGV[4]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[3], ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
redis.call('ZADD', KEYS[2], ARGV[1], ARGV[2])
return 1`;

async function recordOnce(
  queues: Queues,
  kind: DigestKind,
  campaignId: number,
  r: { member: string; field: string; value: number },
  at: Date,
) {
  const redis = await redisOf(queues);
  const added = (await redis.eval(
    RECORD_ONCE,
    2,
    seenKey(queues, kind, campaignId),
    setKey(queues, kind, campaignId),
    String(at.getTime()),
    r.member,
    r.field,
    String(r.value),
    String(SEEN_TTL_SECONDS),
  )) as number;
  return added === 1;
}

async function scheduleDigest(deps: TaskDeps, kind: DigestKind, campaignId: number, minutes: number) {
  const now = deps.now();
  const window = digestWindow(now, minutes);
  const delay = Math.max(0, digestWindowEnd(window, minutes).getTime() - now.getTime());
  await deps.queues
    .get('review')
    .add(
      REVIEW_DIGEST_JOB,
      { campaignId, kind, window },
      { ...JOB_OPTIONS, jobId: digestJobId(kind, campaignId, window), delay },
    );
}

export type TaskOutcome = 'recorded' | 'duplicate' | 'stale';

/** The `review-task` job: record the task for the digest, schedule the first SLA check. */
export async function recordReviewTask(
  deps: TaskDeps,
  t: { nominationId: number; revision: number },
): Promise<TaskOutcome> {
  const n = await deps.db.nomination.findUnique({
    where: { id: t.nominationId },
    select: {
      id: true,
      campaignId: true,
      status: true,
      revision: true,
      submittedAt: true,
      campaign: { select: { settings: true } },
    },
  });
  if (!n || n.revision !== t.revision || !isReviewable(n.status)) return 'stale';
  const settings = reviewSettingsFrom(n.campaign.settings);
  const added = await recordOnce(
    deps.queues,
    'new',
    n.campaignId,
    { member: taskMember(n.id, n.revision), field: String(n.id), value: n.revision },
    deps.now(),
  );
  // Both adds are no-ops when the jobs exist, so a retried task re-does them harmlessly.
  await scheduleDigest(deps, 'new', n.campaignId, settings.digestMinutes);
  await scheduleSla(deps, {
    nominationId: n.id,
    revision: n.revision,
    period: 1,
    submittedAt: n.submittedAt ?? deps.now(),
    slaHours: settings.slaHours,
  });
  return added ? 'recorded' : 'duplicate';
}

async function scheduleSla(
  deps: TaskDeps,
  s: { nominationId: number; revision: number; period: number; submittedAt: Date; slaHours: number },
) {
  const due = slaDueAt(s.submittedAt, s.slaHours, s.period);
  await deps.queues.get('reminders').add(
    REVIEW_SLA_JOB,
    { nominationId: s.nominationId, revision: s.revision, period: s.period },
    {
      ...JOB_OPTIONS,
      jobId: slaJobId(s.nominationId, s.revision, s.period),
      delay: Math.max(0, due.getTime() - deps.now().getTime()),
    },
  );
}

export type SlaOutcome =
  | { outcome: 'escalated' | 'duplicate' }
  | { outcome: 'skipped'; reason: string }
  /** Not due yet by the app clock: run again at `until`. */
  | { outcome: 'deferred'; until: Date };

/**
 * The `review-sla` job (reminders queue): the nomination has waited a whole SLA period. Once per
 * period it joins the admins' escalation digest, and the next period's check is scheduled.
 */
export async function checkReviewSla(
  deps: TaskDeps,
  s: { nominationId: number; revision: number; period: number },
): Promise<SlaOutcome> {
  const n = await deps.db.nomination.findUnique({
    where: { id: s.nominationId },
    select: {
      id: true,
      campaignId: true,
      status: true,
      revision: true,
      submittedAt: true,
      campaign: { select: { settings: true, status: true } },
    },
  });
  if (!n || n.revision !== s.revision || !isReviewable(n.status))
    return { outcome: 'skipped', reason: 'decided' };
  if (n.campaign.status === 'archived') return { outcome: 'skipped', reason: 'archived' };
  const settings = reviewSettingsFrom(n.campaign.settings);
  const submittedAt = n.submittedAt ?? deps.now();
  const due = slaDueAt(submittedAt, settings.slaHours, s.period);
  if (due.getTime() > deps.now().getTime() + 2_000) return { outcome: 'deferred', until: due };
  const added = await recordOnce(
    deps.queues,
    'sla',
    n.campaignId,
    { member: `${n.id}-${n.revision}-${s.period}`, field: `${n.id}-${n.revision}`, value: s.period },
    deps.now(),
  );
  await scheduleDigest(deps, 'sla', n.campaignId, settings.digestMinutes);
  await scheduleSla(deps, { ...s, period: s.period + 1, submittedAt, slaHours: settings.slaHours });
  return { outcome: added ? 'escalated' : 'duplicate' };
}

export type DigestOutcome =
  | { outcome: 'sent'; items: number; recipients: number }
  | { outcome: 'empty' }
  | { outcome: 'deferred'; until: Date };

/**
 * The `review-digest` job: one message per recipient for everything recorded up to the window's end
 * that is still waiting. Notices first (unique key per recipient and window), then the members are
 * removed: a crash in between repeats the same keys, which send nothing new.
 */
export async function sendReviewDigest(
  deps: TaskDeps & {
    localeOf: (p: { locale: string | null; telegramLanguage: string | null }) => 'zh-CN' | 'en';
  },
  d: { campaignId: number; kind: DigestKind; window: number },
): Promise<DigestOutcome> {
  const campaign = await deps.db.campaign.findUnique({ where: { id: d.campaignId } });
  if (!campaign) return { outcome: 'empty' };
  const settings = reviewSettingsFrom(campaign.settings);
  const end = digestWindowEnd(d.window, settings.digestMinutes);
  if (end.getTime() > deps.now().getTime() + 2_000) return { outcome: 'deferred', until: end };
  const redis = await redisOf(deps.queues);
  const key = setKey(deps.queues, d.kind, d.campaignId);
  const members = await redis.zrangebyscore(key, '-inf', String(end.getTime()));
  if (members.length === 0) return { outcome: 'empty' };
  // A province's first digest can hold every pending nomination (tens of thousands): read them in pages
  // (never one bind parameter per member in one query) and match members through a set.
  const ids = [...new Set(members.map((m) => Number(m.split('-')[0])))].sort((a, b) => a - b);
  const live: { id: number; revision: number; flags: string[]; submittedAt: Date | null }[] = [];
  // Members are `<id>-<revision>` (new) or `<id>-<revision>-<period>` (sla).
  const revisions = new Set(members.map((m) => m.split('-').slice(0, 2).join('-')));
  for (let i = 0; i < ids.length; i += DIGEST_PAGE) {
    const rows = await deps.db.nomination.findMany({
      where: { id: { in: ids.slice(i, i + DIGEST_PAGE) }, status: { in: [...REVIEWABLE_STATUSES] } },
      select: { id: true, revision: true, flags: true, submittedAt: true },
      orderBy: { id: 'asc' },
    });
    for (const r of rows) {
      if (revisions.has(`${r.id}-${r.revision}`)) live.push(r);
    }
  }
  let recipients = 0;
  if (live.length > 0 && campaign.status !== 'archived') {
    const people = await deps.db.person.findMany({
      where: {
        telegramId: { not: null },
        blockedBotAt: null,
        grants: { some: { revokedAt: null, role: { in: d.kind === 'new' ? ['reviewer'] : ['admin'] } } },
      },
      select: { id: true, locale: true, telegramLanguage: true },
    });
    const flagged = live.filter((r) => r.flags.length > 0).length;
    const oldest = live.reduce(
      (a, r) => (a.submittedAt && r.submittedAt && r.submittedAt < a.submittedAt ? r : a),
      live[0]!,
    );
    for (const p of people) {
      const lang = deps.localeOf(p);
      await enqueueNotice(deps.db, deps.queues, {
        uniqueKey: `rvdigest-${d.kind}-${d.campaignId}-${d.window}-p${p.id}`,
        kind: 'reminder',
        personId: p.id,
        template: d.kind === 'new' ? 'review.digest_new' : 'review.digest_sla',
        params: {
          n: live.length,
          flagged,
          campaign: lang === 'en' ? campaign.titleEn : campaign.titleZh,
          hours: settings.slaHours,
          oldest: oldest.id,
          ids:
            live
              .slice(0, 10)
              .map((r) => `#${r.id}`)
              .join(' ') + (live.length > 10 ? ' …' : ''),
        },
        buttons: [{ textKey: 'review.btn_start', action: 'rv_next', args: [d.campaignId] }],
      });
      recipients++;
    }
  }
  for (let i = 0; i < members.length; i += DIGEST_PAGE)
    await redis.zrem(key, ...members.slice(i, i + DIGEST_PAGE));
  return live.length > 0 ? { outcome: 'sent', items: live.length, recipients } : { outcome: 'empty' };
}
