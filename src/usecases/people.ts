import type { Db } from '../adapters/db/client.ts';
import { sqlRows } from '../adapters/db/direct-sql.ts';
import { noteCacheVersion } from '../adapters/db/read-cache.ts';
import { DomainError } from '../domain/errors.ts';
import { conflictingRoles, ROLES, type RoleName, type RoleSet } from '../domain/roles.ts';
import { audit } from './audit.ts';

export interface TelegramUserInfo {
  id: number;
  first_name: string;
  last_name?: string | undefined;
  username?: string | undefined;
  language_code?: string | undefined;
}

export interface PersonView {
  id: number;
  telegramId: bigint | null;
  displayName: string;
  locale: string | null;
  telegramLanguage: string | null;
  access: RoleSet;
}

const SEEN_REFRESH_MS = 10 * 60_000;

/**
 * Creates or refreshes the person behind a Telegram user and loads their active roles. Runs on every
 * update, so it reads first and writes only when something changed (name, username, language) or the
 * last-seen time is more than 10 minutes old: one statement per update in the common case. The same
 * statement reads the version of the in-memory caches (read-cache.ts), so the grants are always
 * fresh and the cached campaigns are checked at no extra cost.
 */
export async function touchPerson(db: Db, user: TelegramUserInfo, now = new Date()): Promise<PersonView> {
  const displayName =
    [user.first_name, user.last_name].filter(Boolean).join(' ').slice(0, 100) || String(user.id);
  const fields = {
    displayName,
    username: user.username ?? null,
    telegramLanguage: user.language_code ?? null,
  };
  const grants = { where: { revokedAt: null }, select: { role: true, unionId: true } } as const;
  const telegramId = BigInt(user.id);
  // One statement with the active grants aggregated in (Prisma's include sends a second SELECT), sent
  // directly on the pool: every update sends it (direct-sql.ts).
  const [found] = await sqlRows<{
    id: number;
    telegram_id: bigint | null;
    display_name: string;
    username: string | null;
    locale: string | null;
    telegram_language: string | null;
    last_seen_at: Date;
    grants: { role: string; unionId: number | null }[];
    cache_ver: bigint | null;
  }>(
    db,
  )`SELECT p.id, p.telegram_id, p.display_name, p.username, p.locale, p.telegram_language, p.last_seen_at,
      (SELECT v FROM cache_version WHERE id = 1) AS cache_ver,
      COALESCE(json_agg(json_build_object('role', g.role, 'unionId', g.union_id))
        FILTER (WHERE g.id IS NOT NULL), '[]'::json) AS grants
    FROM person p LEFT JOIN role_grant g ON g.person_id = p.id AND g.revoked_at IS NULL
    WHERE p.telegram_id = ${telegramId} GROUP BY p.id`;
  // The version of the in-memory caches, read in the same statement (read-cache.ts): no extra query.
  noteCacheVersion(found?.cache_ver);
  let p:
    | {
        id: number;
        telegramId: bigint | null;
        displayName: string;
        username: string | null;
        locale: string | null;
        telegramLanguage: string | null;
        lastSeenAt: Date;
        grants: { role: string; unionId: number | null }[];
      }
    | undefined = found && {
    id: found.id,
    telegramId: found.telegram_id,
    displayName: found.display_name,
    username: found.username,
    locale: found.locale,
    telegramLanguage: found.telegram_language,
    lastSeenAt: found.last_seen_at,
    grants: found.grants,
  };
  if (!p) {
    p = await db.person.upsert({
      where: { telegramId },
      create: { telegramId, ...fields },
      update: { ...fields, lastSeenAt: now },
      include: { grants },
    });
  } else if (
    p.displayName !== fields.displayName ||
    p.username !== fields.username ||
    p.telegramLanguage !== fields.telegramLanguage ||
    now.getTime() - p.lastSeenAt.getTime() > SEEN_REFRESH_MS
  ) {
    await db.person.update({ where: { id: p.id }, data: { ...fields, lastSeenAt: now } });
    p = { ...p, ...fields, lastSeenAt: now };
  }
  return {
    id: p.id,
    telegramId: p.telegramId,
    displayName: p.displayName,
    locale: p.locale,
    telegramLanguage: p.telegramLanguage,
    access: {
      roles: new Set(p.grants.map((g) => g.role as RoleName)),
      unionIds: p.grants.filter((g) => g.role === 'contact' && g.unionId !== null).map((g) => g.unionId!),
    },
  };
}

export async function setLocale(db: Db, personId: number, locale: string): Promise<void> {
  await db.$transaction(async (tx) => {
    const before = await tx.person.update({ where: { id: personId }, data: { locale } });
    await audit(tx, {
      actorId: personId,
      action: 'person.locale',
      entity: 'person',
      entityId: personId,
      after: { locale },
      before: { locale: before.locale },
    });
  });
}

/** Finds a person by Telegram id, creating a placeholder (updated on their first message) if needed. */
export async function personByTelegramId(db: Db, telegramId: bigint, create = false) {
  const found = await db.person.findUnique({ where: { telegramId } });
  if (found || !create) return found;
  return db.person.upsert({
    where: { telegramId },
    create: { telegramId, displayName: `#${telegramId}` },
    update: {},
  });
}

export async function grantRole(
  db: Db,
  input: { actorId: number | null; telegramId: bigint; role: RoleName; unionId?: number },
): Promise<{ changed: boolean; personId: number; conflict?: RoleName[] }> {
  if (!ROLES.includes(input.role)) throw new DomainError('role_unknown', { role: input.role });
  const scope = input.unionId !== undefined ? `union:${input.unionId}` : '';
  return db.$transaction(async (tx) => {
    const person =
      (await tx.person.findUnique({ where: { telegramId: input.telegramId } })) ??
      (await tx.person.create({
        data: { telegramId: input.telegramId, displayName: `#${input.telegramId}` },
      }));
    // Separation of duties (domain/roles): an auditor holds no role whose work is audited.
    const held = await tx.roleGrant.findMany({
      where: { personId: person.id, revokedAt: null },
      select: { role: true },
    });
    const conflict = conflictingRoles(input.role, new Set(held.map((g) => g.role as RoleName)));
    if (conflict.length > 0) return { changed: false, personId: person.id, conflict };
    const existing = await tx.roleGrant.findUnique({
      where: { personId_role_scope: { personId: person.id, role: input.role, scope } },
    });
    if (existing && existing.revokedAt === null) return { changed: false, personId: person.id };
    const grant = existing
      ? await tx.roleGrant.update({
          where: { id: existing.id },
          data: { revokedAt: null, revokedById: null, grantedById: input.actorId, grantedAt: new Date() },
        })
      : await tx.roleGrant.create({
          data: {
            personId: person.id,
            role: input.role,
            scope,
            unionId: input.unionId ?? null,
            grantedById: input.actorId,
          },
        });
    await audit(tx, {
      actorId: input.actorId,
      action: 'role.grant',
      entity: 'person',
      entityId: person.id,
      after: { role: input.role, scope, grantId: grant.id },
    });
    return { changed: true, personId: person.id };
  });
}

export async function revokeRole(
  db: Db,
  input: { actorId: number | null; telegramId: bigint; role: RoleName; unionId?: number },
): Promise<{ changed: boolean; personId?: number; draftsDeleted?: number; returnedLeft?: number }> {
  // A contact's grants are per union: without a union, every union's contact grant is revoked.
  const scope =
    input.unionId !== undefined ? `union:${input.unionId}` : input.role === 'contact' ? undefined : '';
  return db.$transaction(async (tx) => {
    const person = await tx.person.findUnique({ where: { telegramId: input.telegramId } });
    if (!person) return { changed: false };
    if (input.role === 'admin' && person.id === input.actorId) throw new DomainError('role_self_revoke');
    if (input.role === 'admin') {
      const admins = await tx.roleGrant.count({ where: { role: 'admin', revokedAt: null } });
      if (admins <= 1) throw new DomainError('role_last_admin');
    }
    const where = {
      personId: person.id,
      role: input.role,
      revokedAt: null,
      ...(scope !== undefined ? { scope } : {}),
    };
    const revoked = await tx.roleGrant.findMany({ where, select: { unionId: true } });
    if (revoked.length === 0) return { changed: false, personId: person.id };
    await tx.roleGrant.updateMany({ where, data: { revokedAt: new Date(), revokedById: input.actorId } });
    // A former contact's open drafts for those unions go (nobody else can finish them); nominations
    // already submitted stay with the union, and those returned for correction are counted for the admin.
    let draftsDeleted = 0;
    let returnedLeft = 0;
    if (input.role === 'contact') {
      const unionIds = revoked.flatMap((g) => (g.unionId !== null ? [g.unionId] : []));
      const mine = { submittedById: person.id, unionId: { in: unionIds } };
      draftsDeleted = (await tx.nomination.deleteMany({ where: { ...mine, status: 'draft' } })).count;
      returnedLeft = await tx.nomination.count({ where: { ...mine, status: 'returned' } });
    }
    await audit(tx, {
      actorId: input.actorId,
      action: 'role.revoke',
      entity: 'person',
      entityId: person.id,
      before: { role: input.role, scope: scope ?? 'union:*' },
      ...(input.role === 'contact' ? { after: { draftsDeleted, returnedLeft } } : {}),
    });
    return { changed: true, personId: person.id, draftsDeleted, returnedLeft };
  });
}

/** Grants admin to the configured bootstrap ids (idempotent; runs at start). */
export async function bootstrapAdmins(db: Db, telegramIds: bigint[]): Promise<number> {
  let changed = 0;
  for (const telegramId of telegramIds) {
    const r = await grantRole(db, { actorId: null, telegramId, role: 'admin' });
    if (r.changed) changed++;
  }
  return changed;
}

/** A person's live roles and language, by Telegram id (to refresh their command menu), or null. */
export async function personRoles(db: Db, telegramId: bigint) {
  const p = await db.person.findUnique({
    where: { telegramId },
    include: { grants: { where: { revokedAt: null }, select: { role: true } } },
  });
  return p && { locale: p.locale, telegramLanguage: p.telegramLanguage, roles: p.grants.map((g) => g.role) };
}

/** Federation-wide staff grants (admin, reviewer, finance) with their people, for /staff. */
export async function listStaff(db: Db) {
  return db.roleGrant.findMany({
    where: { revokedAt: null, role: { in: ['admin', 'reviewer', 'finance'] } },
    include: { person: true },
    orderBy: [{ role: 'asc' }, { personId: 'asc' }],
  });
}
