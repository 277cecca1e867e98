import { createHash } from 'node:crypto';

// The audit trail's hash chain: each row's hash covers its content and the previous row's hash, so a
// row changed, deleted or slipped in later breaks the chain at that row. The database trigger
// audit_log_chain (migration 20261202050000_audit_chain) writes the chain; this file recomputes it
// independently (same canonical serialisation, version 1) and walks it to name the first break.

/** The head before the first row. */
export const GENESIS_HASH = '0'.repeat(64);

/** One audit row as stored, JSON columns as PostgreSQL renders them (`before::text`). */
export interface ChainRow {
  id: bigint;
  seq: bigint | null;
  /** UTC, millisecond precision. */
  at: Date;
  actorId: number | null;
  action: string;
  entity: string;
  entityId: string;
  before: string | null;
  after: string | null;
  requestId: string | null;
  prevHash: string | null;
  hash: string | null;
}

export interface ChainHead {
  seq: bigint;
  hash: string;
}

const field = (v: string | null): string => (v === null ? '~' : `${Buffer.byteLength(v, 'utf8')}:${v},`);

/**
 * Canonical serialisation (version 1): 'warmth-audit-v1', then each field in a fixed order as
 * '<UTF-8 byte length>:<text>,' or '~' for NULL. Length-prefixed, so no value can imitate a boundary.
 */
export function canonicalAuditRow(r: Omit<ChainRow, 'hash'>): string {
  return (
    'warmth-audit-v1' +
    field(String(r.id)) +
    field(r.seq === null ? null : String(r.seq)) +
    field(r.at.toISOString()) +
    field(r.actorId === null ? null : String(r.actorId)) +
    field(r.action) +
    field(r.entity) +
    field(r.entityId) +
    field(r.before) +
    field(r.after) +
    field(r.requestId) +
    field(r.prevHash)
  );
}

export const auditRowHash = (r: Omit<ChainRow, 'hash'>): string =>
  createHash('sha256').update(canonicalAuditRow(r), 'utf8').digest('hex');

/** The first break found, in chain order. Row ids are audit_log ids; seq is the chain position. */
export type ChainProblem =
  /** The row's content no longer matches its hash: it was changed (or forged with a made-up hash). */
  | { kind: 'changed'; rowId: bigint; seq: bigint }
  /** Position `seq` is missing: that row was deleted (it stood between rows afterId and beforeId). */
  | { kind: 'deleted'; seq: bigint; afterRowId: bigint | null; beforeRowId: bigint | null }
  /** The row is not the successor of the row before it (inserted out of order, or its predecessor was
   * replaced and re-hashed). */
  | { kind: 'inserted'; rowId: bigint; seq: bigint | null; previousRowId: bigint | null }
  /** A head held elsewhere (printed in a ledger or report) names a hash the chain no longer has. */
  | { kind: 'head_mismatch'; seq: bigint; rowId: bigint | null };

/**
 * Walks rows in chain order (seq ascending, rows without a position last) and stops at the first
 * break. Feed it page by page; `finish` checks the end of the chain against the stored head.
 */
export class ChainWalker {
  private expected = 1n;
  private prev = GENESIS_HASH;
  private lastId: bigint | null = null;
  rows = 0;
  problem: ChainProblem | null = null;

  /** `stored`: the head row read in the same snapshot as the rows; `held`: a head printed elsewhere. */
  constructor(
    private readonly stored: ChainHead,
    private readonly held?: ChainHead,
  ) {}

  /** Returns false once a problem is found (stop reading). */
  push(r: ChainRow): boolean {
    if (this.problem) return false;
    this.rows++;
    if (r.seq === null || r.hash === null || r.prevHash === null) {
      this.problem = { kind: 'inserted', rowId: r.id, seq: r.seq, previousRowId: this.lastId };
      return false;
    }
    if (r.seq > this.stored.seq) {
      // Past the head the trigger keeps: written with the chain's trigger switched off.
      this.problem = { kind: 'inserted', rowId: r.id, seq: r.seq, previousRowId: this.lastId };
      return false;
    }
    if (r.seq > this.expected) {
      this.problem = { kind: 'deleted', seq: this.expected, afterRowId: this.lastId, beforeRowId: r.id };
      return false;
    }
    if (r.seq < this.expected || r.prevHash !== this.prev) {
      this.problem = { kind: 'inserted', rowId: r.id, seq: r.seq, previousRowId: this.lastId };
      return false;
    }
    if (auditRowHash(r) !== r.hash) {
      this.problem = { kind: 'changed', rowId: r.id, seq: r.seq };
      return false;
    }
    if (this.held && this.held.seq === r.seq && this.held.hash !== r.hash) {
      this.problem = { kind: 'head_mismatch', seq: r.seq, rowId: r.id };
      return false;
    }
    this.prev = r.hash;
    this.lastId = r.id;
    this.expected = r.seq + 1n;
    return true;
  }

  /** The chain ends where the stored head says, and reaches the held head if one was given. */
  finish(): ChainProblem | null {
    if (this.problem) return this.problem;
    const stored = this.stored;
    const last = this.expected - 1n;
    if (stored.seq > last) {
      this.problem = { kind: 'deleted', seq: last + 1n, afterRowId: this.lastId, beforeRowId: null };
    } else if (stored.seq === last && stored.hash !== this.prev) {
      // The head row says the chain ended differently: the last row was replaced.
      this.problem = { kind: 'changed', rowId: this.lastId ?? 0n, seq: last };
    } else if (this.held && this.held.seq > last) {
      this.problem = { kind: 'head_mismatch', seq: this.held.seq, rowId: null };
    }
    return this.problem;
  }

  /** The head the walk reached (valid when no problem was found). */
  head(): ChainHead {
    return { seq: this.expected - 1n, hash: this.prev };
  }
}

/** "#<seq> <hash>", the form printed in ledgers and reports and accepted back by /audit_verify. */
export const formatChainHead = (h: ChainHead): string => `#${h.seq} ${h.hash}`;

export function parseChainHead(text: string): ChainHead | null {
  const m = /^#?(\d{1,18})[\s:]+([0-9a-f]{64})$/i.exec(text.trim());
  return m ? { seq: BigInt(m[1]!), hash: m[2]!.toLowerCase() } : null;
}

/** One line of plain English naming the break (the CLI's output; chat uses the locale files). */
export function describeChainProblem(p: ChainProblem): string {
  switch (p.kind) {
    case 'changed':
      return `audit row ${p.rowId} (chain position ${p.seq}) was changed after it was written: its content no longer matches its hash`;
    case 'deleted':
      return `the audit row at chain position ${p.seq} was deleted (it stood after row ${p.afterRowId ?? '(start)'} and before row ${p.beforeRowId ?? '(end)'})`;
    case 'inserted':
      return p.seq === null
        ? `audit row ${p.rowId} was inserted outside the chain (no chain position: written with the chain trigger switched off)`
        : `audit row ${p.rowId} (chain position ${p.seq}) was inserted out of order or its predecessor (row ${p.previousRowId ?? '(start)'}) was replaced: it does not follow the row before it`;
    case 'head_mismatch':
      return `the chain no longer has the head held elsewhere at position ${p.seq}${p.rowId === null ? ' (the chain is shorter)' : ` (row ${p.rowId} differs)`}`;
  }
}

/**
 * The line printed in every exported ledger and report: a copy kept elsewhere later proves what the
 * audit trail said at that moment (`npm run audit:verify -- "#<seq> <hash>"`, `/audit_verify #<seq> <hash>`).
 */
export function chainHeadLine(head: ChainHead | string, locale: 'zh-CN' | 'en'): string {
  const h = typeof head === 'string' ? head : formatChainHead(head);
  return locale === 'en'
    ? `Audit trail head at export: ${h} (check with /audit_verify or npm run audit:verify)`
    : `导出时审计日志链头：${h}（可用 /audit_verify 或 npm run audit:verify 核验）`;
}
