// Databases for integration tests: each test (file) clones its own database from the template built by
// global-setup.ts, so tests never share state and need no cleanup between them.
import { randomBytes } from 'node:crypto';
import { createDb } from '../../src/adapters/db/client.ts';
import type { PrismaClient } from '../../src/generated/prisma/client.ts';
import { dropDatabase, quoteIdent, withClient, withDatabase } from '../../src/adapters/db/tooling/pg.ts';

/** A role allowed to CREATE/DROP DATABASE. On the dev machines both `root` and `postgres` work (trust). */
export const adminUrl = process.env['DATABASE_ADMIN_URL'] ?? 'postgresql://root@127.0.0.1:5432/postgres';
// WARMTH_TEST_TEMPLATE lets two checkouts with different migrations test side by side.
export const TEMPLATE_DB = process.env['WARMTH_TEST_TEMPLATE'] ?? 'warmth_test_template';
export const TEST_DB_PREFIX = 'warmth_test_db_';

export interface TestDatabase {
  url: string;
  /** Drops the database (closing any connection still open). Safe to call twice. */
  drop(): Promise<void>;
}

/** A name for a test database of this process, not yet created. */
export const newTestDatabaseName = () => `${TEST_DB_PREFIX}${process.pid}_${randomBytes(4).toString('hex')}`;

/** The connection string of test database `name`. */
export const testDatabaseUrl = (name: string) => withDatabase(adminUrl, name);

/** A fresh, fully migrated database (an empty copy of the template). */
export async function createTestDatabase(name = newTestDatabaseName()): Promise<TestDatabase> {
  const create = () =>
    withClient(adminUrl, (c) =>
      c.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${quoteIdent(TEMPLATE_DB)}`),
    );
  try {
    await create();
  } catch (error) {
    // 3D000: no template yet (a test run without the globalSetup, e.g. another config). Build it once.
    if ((error as { code?: string }).code !== '3D000') throw error;
    const { ensureTemplate } = await import('./global-setup.ts');
    await ensureTemplate();
    await create();
  }
  let dropped = false;
  return {
    url: testDatabaseUrl(name),
    async drop() {
      if (dropped) return;
      dropped = true;
      await withClient(adminUrl, (c) => dropDatabase(c, name));
    },
  };
}

/**
 * A Prisma client on `url`, made as the app makes its own (createDb: the pg driver adapter on a pool
 * the direct statements share, the cursor source registered). Call $disconnect().
 */
export function createPrisma(url: string): PrismaClient {
  return createDb(url);
}

/** Export cursors (`export_cursor`, adapters/db/cursor.ts) still open on `db`'s database, from other connections. */
export async function openExportCursors(db: {
  $queryRawUnsafe<T>(sql: string): Promise<T>;
}): Promise<number> {
  const rows = await db.$queryRawUnsafe<{ n: number }[]>(
    `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND query ILIKE '%export_cursor%'`,
  );
  return rows[0]!.n;
}
