import { type Db, Prisma, type Tx } from '../adapters/db/client.ts';
import { sqlRows } from '../adapters/db/direct-sql.ts';
import { MASKED_ID_RE } from '../domain/masking.ts';

export interface AuditEntry {
  actorId: number | null;
  action: string;
  entity: string;
  entityId: string | number;
  before?: Prisma.InputJsonValue | null;
  after?: Prisma.InputJsonValue | null;
}

/** Keys never kept in an audit row, whatever their value: the record is identified by its id. */
const PERSONAL_KEYS = new Set(['idNumber', 'phone', 'bankCard', 'birthDate', 'birth_date', 'fullName']);

/**
 * An audit payload without personal values: keys in PERSONAL_KEYS are dropped and masked ID numbers
 * removed from strings. A masked ID plus the birth date on the nomination row rebuilds the number, and
 * the audit log is append-only, so nothing that helps rebuild one may ever enter it.
 */
export function auditPayload(v: Prisma.InputJsonValue): Prisma.InputJsonValue {
  if (typeof v === 'string') return v.replace(MASKED_ID_RE, '[id]');
  if (Array.isArray(v)) return v.map((x) => (x === null ? x : auditPayload(x as Prisma.InputJsonValue)));
  if (v !== null && typeof v === 'object') {
    const out: Record<string, Prisma.InputJsonValue | null> = {};
    for (const [k, x] of Object.entries(v)) {
      if (PERSONAL_KEYS.has(k) || x === undefined) continue;
      out[k] = x === null ? null : auditPayload(x as Prisma.InputJsonValue);
    }
    return out as Prisma.InputJsonObject;
  }
  return v;
}

/**
 * Appends one audit row inside the caller's transaction, so the change and its record commit together.
 * Callers pass ids and codes, never personal values; `auditPayload` drops any that slip through.
 * The database links the row into the hash chain (trigger audit_log_chain, same transaction; verified
 * by `verifyAuditChain` in ./audit-chain.ts), whichever way the row is inserted.
 */
export async function audit(tx: Tx, e: AuditEntry): Promise<void> {
  await tx.auditLog.create({
    data: {
      actorId: e.actorId,
      action: e.action,
      entity: e.entity,
      entityId: String(e.entityId),
      ...(e.before != null ? { before: auditPayload(e.before) } : {}),
      ...(e.after != null ? { after: auditPayload(e.after) } : {}),
    },
  });
}

/**
 * Appends one audit row in a statement of its own, on the pool directly (direct-sql.ts): for a record
 * that goes with no other change (a look-up). The statement is its own transaction, so the chain's
 * head is locked and written back within it, as in `audit`.
 */
export async function auditAlone(db: Db, e: AuditEntry): Promise<void> {
  await sqlRows(db)`${auditInsert(e)}`;
}

/**
 * The INSERT of one audit row, payloads through `auditPayload`: for a statement that writes it beside
 * another change (a data-modifying CTE, one transaction), or alone (`auditAlone`).
 */
export function auditInsert(e: AuditEntry): Prisma.Sql {
  const json = (v: Prisma.InputJsonValue | null | undefined) =>
    v == null ? null : JSON.stringify(auditPayload(v));
  // `at` sent as Prisma's create sends it (the app's clock, UTC): the column's default would be the
  // session's local time, wrong when the database's time zone is not UTC.
  return Prisma.sql`INSERT INTO audit_log (at, actor_id, action, entity, entity_id, before, after)
    VALUES (${new Date()}, ${e.actorId}, ${e.action}, ${e.entity}, ${String(e.entityId)},
      ${json(e.before)}::jsonb, ${json(e.after)}::jsonb)`;
}

/**
 * Appends many audit rows in one statement (a spreadsheet's 10,000 submissions), each payload through
 * `auditPayload` as in `audit`.
 */
export async function auditMany(tx: Tx, entries: readonly AuditEntry[]): Promise<void> {
  const CHUNK = 20_000;
  for (let i = 0; i < entries.length; i += CHUNK) {
    const part = entries.slice(i, i + CHUNK);
    const json = (v: Prisma.InputJsonValue | null | undefined) =>
      v == null ? null : JSON.stringify(auditPayload(v));
    await tx.$executeRaw`
      INSERT INTO audit_log (actor_id, action, entity, entity_id, before, after)
      SELECT v.actor_id, v.action, v.entity, v.entity_id, v.before::jsonb, v.after::jsonb
      FROM unnest(${part.map((e) => e.actorId)}::int[], ${part.map((e) => e.action)}::text[],
        ${part.map((e) => e.entity)}::text[], ${part.map((e) => String(e.entityId))}::text[],
        ${part.map((e) => json(e.before))}::text[], ${part.map((e) => json(e.after))}::text[])
        AS v(actor_id, action, entity, entity_id, before, after)`;
  }
}
