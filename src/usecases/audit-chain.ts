import type { Db, Tx } from '../adapters/db/client.ts';
import { type ChainHead, type ChainProblem, type ChainRow, ChainWalker } from '../domain/audit/chain.ts';

// Reading and verifying the audit trail's hash chain (the chain itself is written by the database
// trigger audit_log_chain, in the transaction of each audit insert; src/domain/audit/chain.ts).

export interface ChainVerdict {
  ok: boolean;
  /** Rows checked before the walk stopped (all of them when ok). */
  rows: number;
  /** The head the chain reaches (when ok) or the stored head (when not). */
  head: ChainHead;
  problem: ChainProblem | null;
}

const PAGE = 5_000;

/** The current chain head: its position and hash. Printed in ledgers and reports. */
export async function readChainHead(db: Db | Tx): Promise<ChainHead> {
  const rows = await db.$queryRaw<{ seq: bigint; hash: string }[]>`
    SELECT "seq", "hash" FROM "audit_chain" WHERE "id" = 1`;
  return rows[0] ?? { seq: 0n, hash: '0'.repeat(64) };
}

interface RawRow {
  id: bigint;
  seq: bigint | null;
  at: Date;
  actor_id: number | null;
  action: string;
  entity: string;
  entity_id: string;
  before: string | null;
  after: string | null;
  request_id: string | null;
  prev_hash: string | null;
  hash: string | null;
}

const toChainRow = (r: RawRow): ChainRow => ({
  id: BigInt(r.id),
  seq: r.seq === null ? null : BigInt(r.seq),
  at: r.at instanceof Date ? r.at : new Date(`${String(r.at).replace(' ', 'T')}Z`),
  actorId: r.actor_id,
  action: r.action,
  entity: r.entity,
  entityId: r.entity_id,
  before: r.before,
  after: r.after,
  requestId: r.request_id,
  prevHash: r.prev_hash,
  hash: r.hash,
});

/**
 * Recomputes the whole chain in one consistent snapshot (REPEATABLE READ, read only: concurrent
 * writers neither block it nor appear half-way) and names the first row changed, deleted or inserted
 * out of order. `held`: a head printed in an earlier ledger or report, checked to still be in the chain.
 */
export async function verifyAuditChain(
  db: Db,
  opts: { held?: ChainHead; pageSize?: number } = {},
): Promise<ChainVerdict> {
  const pageSize = opts.pageSize ?? PAGE;
  return db.$transaction(
    async (tx) => {
      await tx.$executeRaw`SET TRANSACTION READ ONLY`;
      const stored = await readChainHead(tx);
      const walker = new ChainWalker(stored, opts.held);
      let after = 0n;
      let going = true;
      while (going) {
        const page = await tx.$queryRaw<RawRow[]>`
          SELECT "id", "seq", "at", "actor_id", "action", "entity", "entity_id",
                 "before"::text AS "before", "after"::text AS "after", "request_id", "prev_hash", "hash"
          FROM "audit_log" WHERE "seq" > ${after} ORDER BY "seq" LIMIT ${pageSize}`;
        for (const r of page) if (!walker.push(toChainRow(r))) going = false;
        if (page.length < pageSize) break;
        after = BigInt(page[page.length - 1]!.seq!);
      }
      if (going) {
        // Rows outside the chain (written with its trigger off, no position): each one is a forgery.
        const stray = await tx.$queryRaw<RawRow[]>`
          SELECT "id", "seq", "at", "actor_id", "action", "entity", "entity_id",
                 "before"::text AS "before", "after"::text AS "after", "request_id", "prev_hash", "hash"
          FROM "audit_log" WHERE "seq" IS NULL ORDER BY "id" LIMIT 1`;
        if (stray[0]) walker.push(toChainRow(stray[0]));
      }
      const problem = walker.finish();
      return { ok: problem === null, rows: walker.rows, head: problem ? stored : walker.head(), problem };
    },
    { isolationLevel: 'RepeatableRead', timeout: 600_000, maxWait: 10_000 },
  );
}
