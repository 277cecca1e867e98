import type { Redis } from 'ioredis';
import { Prisma } from '../../adapters/db/client.ts';
import { sqlRows } from '../../adapters/db/direct-sql.ts';
import { maskBankCard, maskBirthDate, maskIdNumber, maskPhone } from '../../domain/masking.ts';
import { diffSnapshots, type FieldChange } from '../../domain/review/diff.ts';
import { REVIEWABLE_STATUSES, reviewSettingsFrom, secondApprovalReasons } from '../../domain/review/rules.ts';
import { type NominationView, toNominationView, type ViewedNomination } from '../nominations/queries.ts';
import { campaignRow, categoryRow } from '../cached-reads.ts';
import { automaticChecks, type CheckResult } from './checks.ts';
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

/** The filter's conditions on `n` (the nomination), as SQL: the candidates' and the card's re-check. */
function filterSql(f: QueueFilter): Prisma.Sql {
  const cond = [
    ...(f.campaignId ? [Prisma.sql`AND n.campaign_id = ${f.campaignId}`] : []),
    ...(f.categoryId ? [Prisma.sql`AND n.category_id = ${f.categoryId}`] : []),
    ...(f.unionId ? [Prisma.sql`AND n.union_id = ${f.unionId}`] : []),
    ...(f.flaggedOnly ? [Prisma.sql`AND cardinality(n.flags) > 0`] : []),
  ];
  return cond.length > 0 ? Prisma.join(cond, ' ') : Prisma.empty;
}

/**
 * Takes the lease of the first candidate that is free or already this reviewer's, in one round trip
 * (it was a SET, and a GET when taken, per candidate: with five reviewers at work, about nine round
 * trips per card). Returns its 1-based position, or 0. Every key carries the installation's {hash
 * tag}: one Redis Cluster slot.
 */
const TAKE_LEASE = `
for i, key in ipairs(KEYS) do
  if redis.call('SET', key, ARGV[1], 'EX', ARGV[2], 'NX') then return i end
  if redis.call('GET', key) == ARGV[1] then return i end
end
return 0`;

/**
 * The next nomination for this reviewer, with its card's row: the oldest pending one (after `afterId`
 * when skipping) that no other reviewer has open. A short Redis lease keeps two reviewers from working
 * the same card; it is only a courtesy — the decision itself is guarded by the nomination's version.
 */
export async function nextForReview(
  deps: Pick<ReviewDeps, 'db'> & { redis: Redis; prefix: string },
  input: { reviewerId: number; filter?: QueueFilter; afterId?: number },
): Promise<CardRow | null> {
  const f = input.filter ?? {};
  const cond = filterSql(f);
  // The candidates in SQL with the statuses written as literals: the partial index of reviewable
  // nominations in id order (migration review_queue_index) only serves a query whose statuses are
  // known when it is planned (Prisma sends them as parameters cast to the enum, which PostgreSQL
  // cannot match against the index's predicate: it walked the whole primary key instead).
  for (const after of input.afterId ? [input.afterId, 0] : [0]) {
    const rows = await sqlRows<{ id: number }>(deps.db)`
      SELECT n.id FROM nomination n JOIN campaign c ON c.id = n.campaign_id
      WHERE n.status IN (${REVIEWABLE_SQL}) AND c.status <> 'archived' AND n.id > ${after}
        ${cond}
        -- Not the reviewer's own first approval waiting for a second approver.
        AND NOT (n.status = 'pending_second_approval'
                 AND EXISTS (SELECT 1 FROM review_decision d WHERE d.nomination_id = n.id
                             AND d.reviewer_id = ${input.reviewerId} AND d.kind = 'approve'))
      ORDER BY n.id LIMIT 25`;
    let rest = rows.map((r) => r.id);
    while (rest.length > 0) {
      const at = (await deps.redis.eval(
        TAKE_LEASE,
        rest.length,
        ...rest.map((id) => `${deps.prefix}:rvlease:${id}`),
        String(input.reviewerId),
        String(LEASE_SECONDS),
      )) as number;
      if (at === 0) break;
      const id = rest[at - 1]!;
      rest = rest.slice(at);
      // Re-check after taking the lease: another reviewer may have decided it (and released its lease)
      // between the read above and the lease. The card's own read is the re-check (one statement).
      const card = await readCardRow(deps.db, id, f);
      if (card?.pending) return card;
    }
  }
  return null;
}

export async function releaseLease(deps: { redis: Redis; prefix: string }, nominationId: number) {
  await deps.redis.del(`${deps.prefix}:rvlease:${nominationId}`).catch(() => 0);
}

/**
 * What a card shows, in one statement read on the pool directly (it was six through the model API, and
 * the nomination was read twice): the nomination, its union's name, the decisions on its current and
 * previous revision with the reviewers' names, the two revisions' snapshots when it was resubmitted,
 * and whether it is still pending under the filter it was picked by. The campaign and category come
 * from the per-update-checked cache (cached-reads.ts).
 */
export interface CardRow extends ViewedNomination {
  campaignId: number;
  categoryId: number | null;
  version: number;
  idNumberHash: string | null;
  phoneHash: string | null;
  bankCardEnc: string | null;
  bankCardHash: string | null;
  submittedAt: Date | null;
  unionName: string;
  /** Reviewable, its campaign not archived, and within the filter given to the read. */
  pending: boolean;
  decisions: {
    kind: string;
    revision: number;
    reviewerId: number;
    by: string;
    /** JSON text of a UTC timestamp without its zone. */
    at: string;
    reason: string | null;
    comment: string | null;
  }[];
  revisions: { revision: number; snapshot: Record<string, unknown> }[] | null;
}

async function readCardRow(db: ReviewDeps['db'], id: number, f: QueueFilter = {}): Promise<CardRow | null> {
  const [row] = await sqlRows<CardRow>(db)`
    SELECT n.id, n.campaign_id AS "campaignId", n.category_id AS "categoryId", n.union_id AS "unionId",
      n.submitted_by_id AS "submittedById", n.status::text AS status, n.revision, n.version,
      n.full_name AS "fullName", n.id_number_enc AS "idNumberEnc", n.id_number_hash AS "idNumberHash",
      n.sex::text AS sex, n.phone_enc AS "phoneEnc", n.phone_hash AS "phoneHash", n.employer,
      n.work_status AS "workStatus", n.model_worker_level AS "modelWorkerLevel",
      n.hardship_tier AS "hardshipTier", n.main_cause AS "mainCause",
      COALESCE(n.secondary_causes, '{}') AS "secondaryCauses", n.description,
      n.benefit_form::text AS "benefitForm", n.bank_name AS "bankName", n.bank_card_enc AS "bankCardEnc",
      n.bank_card_last4 AS "bankCardLast4", n.bank_card_hash AS "bankCardHash", n.amount_fen AS "amountFen",
      COALESCE(n.flags, '{}') AS flags, n.submitted_at AS "submittedAt", u.name AS "unionName",
      (n.status IN (${REVIEWABLE_SQL}) AND c.status <> 'archived' ${filterSql(f)}) AS pending,
      (SELECT COALESCE(json_agg(json_build_object('kind', d.kind, 'revision', d.revision,
          'reviewerId', d.reviewer_id, 'by', p.display_name, 'at', d.created_at, 'reason', d.reason,
          'comment', d.comment) ORDER BY d.id), '[]'::json)
        FROM review_decision d JOIN person p ON p.id = d.reviewer_id
        WHERE d.nomination_id = n.id AND d.revision IN (n.revision, n.revision - 1)) AS decisions,
      CASE WHEN n.revision > 1 THEN
        (SELECT json_agg(json_build_object('revision', r.revision, 'snapshot', r.snapshot) ORDER BY r.revision)
          FROM nomination_revision r
          WHERE r.nomination_id = n.id AND r.revision IN (n.revision - 1, n.revision)) END AS revisions
    FROM nomination n JOIN grassroots_union u ON u.id = n.union_id JOIN campaign c ON c.id = n.campaign_id
    WHERE n.id = ${id}`;
  return row ?? null;
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

/** A JSON timestamp (UTC, written without its zone) as a Date. */
const jsonUtc = (at: string) => new Date(/(?:[zZ]|[+-]\d\d:?\d\d)$/.test(at) ? at : `${at}Z`);

/** The card of nomination `id`; `row`: its row when already read (nextForReview). */
export async function reviewCard(
  deps: Pick<ReviewDeps, 'db' | 'cipher' | 'now'>,
  id: number,
  row?: CardRow,
): Promise<ReviewCard | null> {
  const n = row ?? (await readCardRow(deps.db, id));
  if (!n) return null;
  const [campaign, category] = await Promise.all([
    campaignRow(deps.db, n.campaignId),
    n.categoryId === null ? Promise.resolve(null) : categoryRow(deps.db, n.categoryId),
  ]);
  if (!campaign) return null;
  // Decrypted once: the checks validate it, the view masks it.
  const idNumber = n.idNumberEnc ? deps.cipher.decrypt(n.idNumberEnc) : null;
  const view = toNominationView(deps, n, { unionName: n.unionName, campaign, category }, idNumber);
  const checks = await automaticChecks(deps, { ...n, campaign, category }, idNumber);
  const decisions = n.decisions;
  let diff: ReviewCard['diff'] = null;
  const [prev, cur] = n.revisions ?? [];
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
    const changes = diffSnapshots(prev.snapshot, cur.snapshot, reveal).map((c) =>
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
    unionName: n.unionName,
    submittedAt: n.submittedAt,
    checks,
    secondApproval: secondApprovalReasons(reviewSettingsFrom(campaign.settings).fourEyes, n),
    decisions: decisions
      .filter((d) => d.revision === n.revision)
      .map((d) => ({
        kind: d.kind,
        by: d.by,
        byId: d.reviewerId,
        at: jsonUtc(d.at),
        reason: d.reason,
        comment: d.comment,
      })),
    diff,
  };
}
