import type { Prisma, Tx } from '../adapters/db/client.ts';

export interface AuditEntry {
  actorId: number | null;
  action: string;
  entity: string;
  entityId: string | number;
  before?: Prisma.InputJsonValue | null;
  after?: Prisma.InputJsonValue | null;
}

/**
 * Appends one audit row inside the caller's transaction, so the change and its record commit together.
 * Callers pass masked values only (never clear ID numbers, phones or cards).
 */
export async function audit(tx: Tx, e: AuditEntry): Promise<void> {
  await tx.auditLog.create({
    data: {
      actorId: e.actorId,
      action: e.action,
      entity: e.entity,
      entityId: String(e.entityId),
      ...(e.before != null ? { before: e.before } : {}),
      ...(e.after != null ? { after: e.after } : {}),
    },
  });
}
