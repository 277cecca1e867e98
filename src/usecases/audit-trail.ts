import type { Db, Prisma } from '../adapters/db/client.ts';
import { type ChainHead, type ChainProblem, formatChainHead } from '../domain/audit/chain.ts';
import { addDays, isValidIsoDate, shanghaiMidnight } from '../domain/calendar/date.ts';
import { type LedgerAccess, ledgerAccess, type RoleName } from '../domain/roles.ts';
import { auditPayload } from './audit.ts';
import { type CampaignFigures, campaignFigures } from './report/figures.ts';
import { readChainHead, verifyAuditChain } from './audit-chain.ts';

// What auditors read (issue 15): the audit trail of a campaign as rows for a spreadsheet, and the
// chain verification. Every such read is itself audited. The /export access rule for auditors lives
// with the roles (domain/roles ledgerAccess).

export const AUDIT_TRAIL_PAGE = 2_000;

export interface AuditTrailRow {
  seq: bigint;
  at: Date;
  actorId: number | null;
  actorName: string | null;
  action: string;
  entity: string;
  entityId: string;
  /** JSON text, personal values removed / masked. */
  before: string;
  after: string;
  hash: string;
}

export interface AuditTrailQuery {
  campaignId: number;
  /** Inclusive instants; undefined = open. */
  from?: Date;
  to?: Date;
}

/** Digit runs that could be an ID number, phone or card in free text: kept to their last 4. */
const LONG_DIGITS = /(?<![\dA-Za-z])\d{10,18}[\dXx]?(?![\dA-Za-z])/g;

function maskedJson(v: Prisma.JsonValue | null): string {
  if (v === null || v === undefined) return '';
  const clean = auditPayload(v as Prisma.InputJsonValue);
  return JSON.stringify(clean).replace(LONG_DIGITS, (d) => `${'*'.repeat(d.length - 4)}${d.slice(-4)}`);
}

/**
 * The rows of the audit trail that concern a campaign (the campaign, its nominations, payment batches
 * and follow-ups) plus the rows that concern no campaign (roles, unions, invites, keys), in chain
 * order, page by page.
 */
export async function* auditTrailPages(db: Db, q: AuditTrailQuery): AsyncGenerator<AuditTrailRow[]> {
  const from = q.from ?? new Date(0);
  const to = q.to ?? new Date(8.64e15);
  const c = q.campaignId;
  const cid = String(c);
  let after = 0n;
  for (;;) {
    const page = await db.$queryRaw<
      {
        seq: bigint;
        at: Date;
        actor_id: number | null;
        actor_name: string | null;
        action: string;
        entity: string;
        entity_id: string;
        before: Prisma.JsonValue | null;
        after: Prisma.JsonValue | null;
        hash: string | null;
      }[]
    >`
      SELECT a.seq, a.at, a.actor_id, p.display_name AS actor_name, a.action, a.entity, a.entity_id,
             a.before, a.after, a.hash
      FROM audit_log a LEFT JOIN person p ON p.id = a.actor_id
      WHERE a.seq > ${after} AND a.at >= ${from} AND a.at <= ${to}
        AND (
          (a.entity = 'campaign' AND a.entity_id = ${cid})
          OR (a.entity = 'nomination' AND a.entity_id IN (SELECT id::text FROM nomination WHERE campaign_id = ${c}))
          OR (a.entity = 'payment_batch' AND a.entity_id IN (SELECT id::text FROM payment_batch WHERE campaign_id = ${c}))
          OR (a.entity = 'follow_up' AND a.entity_id IN (
                SELECT f.id::text FROM follow_up f JOIN nomination n ON n.id = f.nomination_id WHERE n.campaign_id = ${c}))
          OR a.entity NOT IN ('campaign', 'nomination', 'payment_batch', 'follow_up')
        )
      ORDER BY a.seq
      LIMIT ${AUDIT_TRAIL_PAGE}`;
    if (page.length === 0) return;
    yield page.map((r) => ({
      seq: BigInt(r.seq),
      at: r.at,
      actorId: r.actor_id,
      actorName: r.actor_name,
      action: r.action,
      entity: r.entity,
      entityId: r.entity_id,
      before: maskedJson(r.before),
      after: maskedJson(r.after),
      hash: r.hash ?? '',
    }));
    if (page.length < AUDIT_TRAIL_PAGE) return;
    after = BigInt(page[page.length - 1]!.seq);
  }
}

/** `[from] [to]` as Shanghai calendar dates (YYYY-MM-DD), both inclusive; null when malformed. */
export function parseAuditRange(tokens: string[]): { from?: Date; to?: Date } | null {
  if (tokens.length > 2 || !tokens.every(isValidIsoDate)) return null;
  const [a, b] = tokens;
  const range = {
    ...(a ? { from: shanghaiMidnight(a) } : {}),
    ...(b ? { to: new Date(shanghaiMidnight(addDays(b, 1)).getTime() - 1) } : {}),
  };
  if (range.from && range.to && range.from > range.to) return null;
  return range;
}

export interface AuditTrailExportInput extends AuditTrailQuery {
  actorId: number;
  /** Writes the rows (a streamed .xlsx); `head` is the chain head when the export started. */
  sink: (pages: AsyncIterable<AuditTrailRow[]>, head: ChainHead) => Promise<unknown>;
}

/** Streams the campaign's audit trail into `sink`, then records the export itself. Returns the row count. */
export async function exportAuditTrail(db: Db, input: AuditTrailExportInput): Promise<number> {
  const head = await readChainHead(db);
  let rows = 0;
  const counted = async function* () {
    for await (const page of auditTrailPages(db, input)) {
      rows += page.length;
      yield page;
    }
  };
  await input.sink(counted(), head);
  await db.auditLog.create({
    data: {
      actorId: input.actorId,
      action: 'audit.export',
      entity: 'campaign',
      entityId: String(input.campaignId),
      after: {
        rows,
        from: input.from?.toISOString() ?? null,
        to: input.to?.toISOString() ?? null,
        head: formatChainHead(head),
      },
    },
  });
  return rows;
}

/** `verifyAuditChain` on behalf of a person, and the verification recorded in the trail it checked. */
export async function verifyAuditTrailFor(
  db: Db,
  input: { actorId: number; held?: ChainHead },
): Promise<{ ok: boolean; rows: number; head: ChainHead; problem: ChainProblem | null }> {
  const v = await verifyAuditChain(db, input.held ? { held: input.held } : {});
  await db.auditLog.create({
    data: {
      actorId: input.actorId,
      action: 'audit.verify',
      entity: 'audit_log',
      entityId: String(v.head.seq),
      after: {
        ok: v.ok,
        rows: v.rows,
        head: formatChainHead(v.head),
        ...(input.held ? { held: formatChainHead(input.held) } : {}),
        ...(v.problem ? { problem: v.problem.kind } : {}),
      },
    },
  });
  return v;
}

/**
 * The ledger access of `roles` for one campaign: the rule is domain/roles `ledgerAccess`; this reads
 * the campaign file's `settings.auditor_full_values` it depends on.
 */
export async function campaignLedgerAccess(
  db: Db,
  roles: ReadonlySet<RoleName>,
  campaignId: number,
): Promise<LedgerAccess | null> {
  const c = await db.campaign.findUnique({ where: { id: campaignId }, select: { settings: true } });
  const settings = (c?.settings ?? {}) as { auditorFullValues?: boolean };
  return ledgerAccess(roles, { auditorFullValues: settings.auditorFullValues === true });
}

/** The campaign's figures for /report, the read recorded in the audit trail (who looked, when). */
export async function viewReport(
  db: Db,
  input: { campaignId: number; actorId: number; now: Date },
): Promise<CampaignFigures> {
  const f = await campaignFigures(db, input.campaignId, input.now);
  await db.auditLog.create({
    data: {
      actorId: input.actorId,
      action: 'report.view',
      entity: 'campaign',
      entityId: String(input.campaignId),
      after: { asOf: f.asOf, head: f.auditHead },
    },
  });
  return f;
}
