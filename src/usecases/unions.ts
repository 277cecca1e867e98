import type { Db } from '../adapters/db/client.ts';
import { uniqueViolation } from '../adapters/db/client.ts';
import { DomainError } from '../domain/errors.ts';
import { audit } from './audit.ts';

/** The federation this installation serves (one per installation; created on first use). */
export async function ensureFederation(db: Db, name = '总工会') {
  const existing = await db.federation.findFirst({ orderBy: { id: 'asc' } });
  if (existing) return existing;
  return db.federation.create({ data: { name, centers: { create: { name: '困难职工帮扶服务中心' } } } });
}

export function normaliseUnionName(raw: string): string {
  return raw.normalize('NFKC').replace(/\s+/g, ' ').trim();
}

export async function createUnion(db: Db, input: { actorId: number; name: string }) {
  const name = normaliseUnionName(input.name);
  if (name.length < 2 || name.length > 60 || !/\p{L}/u.test(name)) {
    throw new DomainError('union_name_invalid', { min: 2, max: 60 });
  }
  const federation = await ensureFederation(db);
  try {
    return await db.$transaction(async (tx) => {
      const union = await tx.union.create({ data: { name, federationId: federation.id } });
      await audit(tx, {
        actorId: input.actorId,
        action: 'union.create',
        entity: 'union',
        entityId: union.id,
        after: { name },
      });
      return union;
    });
  } catch (err) {
    if (uniqueViolation(err)) throw new DomainError('union_exists', { name });
    throw err;
  }
}

export async function listUnions(db: Db) {
  const unions = await db.union.findMany({
    where: { active: true },
    orderBy: { id: 'asc' },
    include: { _count: { select: { grants: { where: { role: 'contact', revokedAt: null } } } } },
  });
  return unions.map((u) => ({ id: u.id, name: u.name, contacts: u._count.grants }));
}

/** The unions with these ids (a contact's own), in id order. */
export async function unionsByIds(db: Db, ids: readonly number[]) {
  return db.union.findMany({ where: { id: { in: [...ids] } }, orderBy: { id: 'asc' } });
}
