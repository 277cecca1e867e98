// Migrating a database at startup or from the CLI: optionally create it, then apply pending migrations.
import { applyMigrations } from './engine.ts';
import { databaseExists, databaseName, quoteIdent, withClient, withDatabase } from './pg.ts';

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
  return applyMigrations(databaseUrl, opts.migrationsDir ? { migrationsDir: opts.migrationsDir } : {});
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
