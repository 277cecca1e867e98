// Migrating a database at startup or from the CLI: optionally create it, then apply pending migrations.
import { applyMigrations } from './engine.ts';
import { databaseExists, databaseName, quoteIdent, withClient, withDatabase } from './pg.ts';

/**
 * How long one migration statement may wait for a table lock. Old processes keep serving during an
 * upgrade (README, "Upgrades while campaigns run"): a migration queued behind a long transaction would
 * hold up every query on that table, so it gives up instead, is marked rolled back (it ran as one
 * transaction: nothing was applied) and is tried again, up to LOCK_RETRIES times.
 */
export const MIGRATION_LOCK_TIMEOUT_MS = 5_000;
const LOCK_RETRIES = 3;

export interface MigrateOptions {
  /** Create the database first when it does not exist (needs CREATEDB on the server). */
  createDatabase?: boolean;
  /** Where to run CREATE DATABASE; default DATABASE_ADMIN_URL, else the target server's `postgres`. */
  adminUrl?: string;
  migrationsDir?: string;
}

/** Returns the names of the migrations applied now (empty when already up to date). */
export async function migrateDatabase(databaseUrl: string, opts: MigrateOptions = {}): Promise<string[]> {
  if (opts.createDatabase) await ensureDatabase(databaseUrl, opts.adminUrl);
  return applyMigrationsOnline(databaseUrl, opts);
}

/**
 * Applies pending migrations while old processes still use the database: each statement waits at most
 * `lockTimeoutMs` for a lock; a migration that timed out is marked rolled back and tried again after a
 * pause. Other failures are reported as they are (a failed migration stays recorded for a person to see).
 */
export async function applyMigrationsOnline(
  databaseUrl: string,
  opts: { migrationsDir?: string; lockTimeoutMs?: number; retries?: number; pauseMs?: number } = {},
): Promise<string[]> {
  const applied: string[] = [];
  const retries = opts.retries ?? LOCK_RETRIES;
  for (let attempt = 0; ; attempt++) {
    try {
      applied.push(
        ...(await applyMigrations(databaseUrl, {
          ...(opts.migrationsDir ? { migrationsDir: opts.migrationsDir } : {}),
          lockTimeoutMs: opts.lockTimeoutMs ?? MIGRATION_LOCK_TIMEOUT_MS,
        })),
      );
      return applied;
    } catch (error) {
      if (!/lock timeout/i.test((error as Error).message) || attempt >= retries) throw error;
      const released = await withClient(databaseUrl, (c) =>
        c.query(
          `UPDATE _prisma_migrations SET rolled_back_at = now()
           WHERE finished_at IS NULL AND rolled_back_at IS NULL AND logs ILIKE '%lock timeout%'
           RETURNING migration_name`,
        ),
      );
      console.warn(
        `migration ${released.rows.map((r) => r.migration_name).join(', ')} waited too long for a lock ` +
          `(another transaction holds it); nothing was applied, trying again (${attempt + 1}/${retries})`,
      );
      await new Promise((r) => setTimeout(r, (opts.pauseMs ?? 2_000) * 2 ** attempt));
    }
  }
}

/** Creates the database named in `databaseUrl` if missing; true when it was created. */
export async function ensureDatabase(databaseUrl: string, adminUrl?: string): Promise<boolean> {
  const name = databaseName(databaseUrl);
  const admin = adminUrl ?? process.env['DATABASE_ADMIN_URL'] ?? withDatabase(databaseUrl);
  return withClient(admin, async (client) => {
    if (await databaseExists(client, name)) return false;
    try {
      await client.query(`CREATE DATABASE ${quoteIdent(name)}`);
    } catch (error) {
      // Another process may have created it in the meantime (42P04 duplicate_database).
      if ((error as { code?: string }).code !== '42P04') throw error;
      return false;
    }
    return true;
  });
}
