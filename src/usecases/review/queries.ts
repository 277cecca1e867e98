import type { Redis } from 'ioredis';
import { Prisma } from '../../adapters/db/client.ts';
import { sqlRows } from '../../adapters/db/direct-sql.ts';
import { maskBankCard, maskBirthDate, maskIdNumber, maskPhone } from '../../domain/masking.ts';
import { diffSnapshots, type FieldChange } from '../../domain/review/diff.ts';
import { REVIEWABLE_STATUSES, reviewSettingsFrom, secondApprovalReasons } from '../../domain/review/rules.ts';
import { nominationView, type NominationView } from '../nominations/queries.ts';
import { automaticChecks, type CheckResult, loadForChecks } from './checks.ts';
import type { ReviewDeps } from './deps.ts';

// Read side of review: the pending list (/queue), the next card (/review) and everything on a card.

export const QUEUE_PAGE_SIZE = 10;

/** The reviewable statuses as SQL literals (constants of the domain, not input). */
const REVIEWABLE_SQL = Prisma.raw(REVIEWABLE_STATUSES.map((s) => `'${s}'`).join(', '));

export interface QueueFilter {
  campaignId?: number;
  categoryId?: number;
  unionId?: number;
  flaggedOnly?: boolean;
}

export function pendingWhere(f: QueueFilter): Prisma.NominationWhereInput {
  return {
    status: { in: [...REVIEWABLE_STATUSES] },
    campaign: { status: { not: 'archived' } },
    ...(f.campaignId ? { campaignId: f.campaignId } : {}),
    ...(f.categoryId ? { categoryId: f.categoryId } : {}),
    ...(f.unionId ? { unionId: f.unionId } : {}),
    ...(f.flaggedOnly ? { NOT: { flags: { isEmpty: true } } } : {}),
  };
}

export async function listPending(deps: Pick<ReviewDeps, 'db'>, f: QueueFilter, page: number) {
  const where = pendingWhere(f);
  const [total, flagged, rows] = await Promise.all([
    deps.db.nomination.count({ where }),
    deps.db.nomination.count({ where: { AND: [where, { NOT: { flags: { isEmpty: true } } }] } }),
    deps.db.nomination.findMany({
      where,
      orderBy: [{ submittedAt: 'asc' }, { id: 'asc' }],
      skip: page * QUEUE_PAGE_SIZE,
      take: QUEUE_PAGE_SIZE,
      select: {
        id: true,
        fullName: true,
        status: true,
        flags: true,
        amountFen: true,
        submittedAt: true,
        union: { select: { name: true } },
        category: { select: { nameZh: true, nameEn: true } },
      },
    }),
  ]);
  return { total, flagged, pages: Math.max(1, Math.ceil(total / QUEUE_PAGE_SIZE)), rows };
}

/** Resolves `/queue` filter words: campaign code, category code, union name (or #id), "flagged". */
export async function resolveFilter(deps: Pick<ReviewDeps, 'db'>, args: string): Promise<QueueFilter> {
  const f: QueueFilter = {};
  for (const word of args.split(/\s+/).filter(Boolean)) {
    const [k, vRaw] = word.includes('=') ? word.split('=', 2) : ['', word];
    const v = vRaw ?? '';
    if (/^(flagged|标记|有标记)$/i.test(word)) f.flaggedOnly = true;
    else if (k === 'campaign' || k === 'c') {
      const c = await deps.db.campaign.findFirst({
        where: /^\d+$/.test(v) ? { id: Number(v) } : { code: v },
      });
      f.campaignId = c?.id ?? -1;
    } else if (k === 'category' || k === 'cat') {
      const c = await deps.db.campaignCategory.findFirst({
        where: {
          ...(/^\d+$/.test(v) ? { id: Number(v) } : { OR: [{ code: v }, { nameZh: v }] }),
          ...(f.campaignId ? { campaignId: f.campaignId } : {}),
        },
        orderBy: { id: 'desc' },
      });
      f.categoryId = c?.id ?? -1;
    } else if (k === 'union' || k === 'u') {
      const u = await deps.db.union.findFirst({ where: /^\d+$/.test(v) ? { id: Number(v) } : { name: v } });
      f.unionId = u?.id ?? -1;
    } else throw Object.assign(new Error('bad filter'), { word });
  }
  return f;
}

const LEASE_SECONDS = 600;

/**
 * The next nomination for this reviewer: the oldest pending one (after `afterId` when skipping) that
 * no other reviewer has open. A short Redis lease keeps two reviewers from working the same card; it is
 * only a courtesy — the decision itself is guarded by the nomination's version.
 */
export async function nextForReview(
  deps: Pick<ReviewDeps, 'db'> & { redis: Redis; prefix: string },
  input: { reviewerId: number; filter?: QueueFilter; afterId?: number },
): Promise<number | null> {
  const f = input.filter ?? {};
  const where = pendingWhere(f);
  // The candidates in SQL with the statuses written as literals: the partial index of reviewable
  // nominations in id order (migration review_queue_index) only serves a query whose statuses are
  // known when it is planned (Prisma sends them as parameters cast to the enum, which PostgreSQL
  // cannot match against the index's predicate: it walked the whole primary key instead).
  const cond = [
    ...(f.campaignId ? [Prisma.sql`AND n.campaign_id = ${f.campaignId}`] : []),
    ...(f.categoryId ? [Prisma.sql`AND n.category_id = ${f.categoryId}`] : []),
    ...(f.unionId ? [Prisma.sql`AND n.union_id = ${f.unionId}`] : []),
    ...(f.flaggedOnly ? [Prisma.sql`AND cardinality(n.flags) > 0`] : []),
  ];
  for (const after of input.afterId ? [input.afterId, 0] : [0]) {
    const rows = await sqlRows<{ id: number }>(deps.db)`
      SELECT n.id FROM nomination n JOIN campaign c ON c.id = n.campaign_id
      WHERE n.status IN (${REVIEWABLE_SQL}) AND c.status <> 'archived' AND n.id > ${after}
        ${cond.length > 0 ? Prisma.join(cond, ' ') : Prisma.empty}
        -- Not the reviewer's own first approval waiting for a second approver.
        AND NOT (n.status = 'pending_second_approval'
                 AND EXISTS (SELECT 1 FROM review_decision d WHERE d.nomination_id = n.id
                             AND d.reviewer_id = ${input.reviewerId} AND d.kind = 'approve'))
      ORDER BY n.id LIMIT 25`;
    for (const r of rows) {
      const key = `${deps.prefix}:rvlease:${r.id}`;
      const ok = await deps.redis.set(key, String(input.reviewerId), 'EX', LEASE_SECONDS, 'NX');
      const mine = ok === 'OK' || (await deps.redis.get(key)) === String(input.reviewerId);
      // Re-check after taking the lease: another reviewer may have decided it (and released its lease)
      // between the read above and the SET.
      if (mine && (await deps.db.nomination.count({ where: { AND: [where, { id: r.id }] } })) > 0)
        return r.id;
    }
  }
  return null;
}

export async function releaseLease(deps: { redis: Redis; prefix: string }, nominationId: number) {
  await deps.redis.del(`${deps.prefix}:rvlease:${nominationId}`).catch(() => 0);
}

export interface ReviewCard {
  view: NominationView;
  version: number;
  campaignId: number;
  unionName: string;
  submittedAt: Date | null;
  checks: CheckResult[];
  secondApproval: ('amount' | 'flagged')[];
  /** Decisions on the current revision (e.g. the first approval). */
  decisions: {
    kind: string;
    by: string;
    byId: number;
    at: Date;
    reason: string | null;
    comment: string | null;
  }[];
  /** Changes against the previous revision, with the comment the contact was given. */
  diff: { fromRevision: number; changes: FieldChange[]; returnComment: string | null } | null;
}

export async function reviewCard(
  deps: Pick<ReviewDeps, 'db' | 'cipher' | 'now'>,
  id: number,
): Promise<ReviewCard | null> {
  const n = await loadForChecks(deps.db, id);
  if (!n) return null;
  const view = await nominationView(deps, id);
  if (!view) return null;
  const [checks, decisions, revisions] = await Promise.all([
    automaticChecks(deps, n),
    deps.db.reviewDecision.findMany({
      where: { nominationId: id, revision: { in: [n.revision, n.revision - 1] } },
      orderBy: { id: 'asc' },
      include: { reviewer: { select: { displayName: true } } },
    }),
    n.revision > 1
      ? deps.db.nominationRevision.findMany({
          where: { nominationId: id, revision: { in: [n.revision - 1, n.revision] } },
          orderBy: { revision: 'asc' },
        })
      : Promise.resolve([]),
  ]);
  let diff: ReviewCard['diff'] = null;
  const [prev, cur] = revisions;
  if (prev && cur) {
    const reveal = (key: string, value: unknown) => {
      const clear = deps.cipher.decrypt(String(value));
      return { value: clear, display: key === 'phoneEnc' ? maskPhone(clear) : maskIdNumber(clear) };
    };
    const categories = new Map(
      (await deps.db.campaignCategory.findMany({ where: { campaignId: n.campaignId } })).map((c) => [
        String(c.id),
        c.nameZh,
      ]),
    );
    const changes = diffSnapshots(
      prev.snapshot as Record<string, unknown>,
      cur.snapshot as Record<string, unknown>,
      reveal,
    ).map((c) =>
      // The card shows a masked ID number: a birth date beside it is the year only (see maskBirthDate).
      c.field === 'birth_date'
        ? {
            ...c,
            before: c.before === '—' ? c.before : maskBirthDate(c.before),
            after: c.after === '—' ? c.after : maskBirthDate(c.after),
          }
        : c.field === 'category'
          ? { ...c, before: categories.get(c.before) ?? c.before, after: categories.get(c.after) ?? c.after }
          : c.field === 'bank_card'
            ? {
                ...c,
                before: c.before === '—' ? c.before : maskBankCard(c.before),
                after: c.after === '—' ? c.after : maskBankCard(c.after),
              }
            : c,
    );
    const ret = decisions.find((d) => d.revision === prev.revision && d.kind === 'return');
    diff = { fromRevision: prev.revision, changes, returnComment: ret?.comment ?? null };
  }
  return {
    view,
    version: n.version,
    campaignId: n.campaignId,
    unionName: n.union.name,
    submittedAt: n.submittedAt,
    checks,
    secondApproval: secondApprovalReasons(reviewSettingsFrom(n.campaign.settings).fourEyes, n),
    decisions: decisions
      .filter((d) => d.revision === n.revision)
      .map((d) => ({
        kind: d.kind,
        by: d.reviewer.displayName,
        byId: d.reviewerId,
        at: d.createdAt,
        reason: d.reason,
        comment: d.comment,
      })),
    diff,
  };
}
