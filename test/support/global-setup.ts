// vitest globalSetup: make sure ONE template database with all migrations applied exists, so each
// integration test can clone a fresh database from it in a fraction of a second (test/support/db.ts).
//
// The template is rebuilt only when prisma/migrations changed: a hash of the migrations is kept as the
// template database's comment. Concurrent runs (two terminals, CI shards on one server) serialise on a
// PostgreSQL advisory lock; the new template is built under a temporary name and swapped in by rename.
import { migrateDatabase } from '../../src/adapters/db/tooling/migrate.ts';
import { migrationsHash } from '../../src/adapters/db/tooling/migrations-dir.ts';
import { dropDatabase, quoteIdent, withClient, withDatabase } from '../../src/adapters/db/tooling/pg.ts';
import { adminUrl, TEMPLATE_DB, TEST_DB_PREFIX } from './db.ts';

const LOCK_KEY = 7_263_001; // arbitrary, shared by every run building the template
const STAMP = 'warmth-migrations:';

export default async function setup(): Promise<void> {
  const started = Date.now();
  const rebuilt = await ensureTemplate();
  if (rebuilt && process.env['WARMTH_TEST_QUIET'] !== '1') {
    console.log(`[db] built ${TEMPLATE_DB} in ${Date.now() - started} ms (migrations changed)`);
  }
}

/** Returns true when the template had to be (re)built. */
export async function ensureTemplate(): Promise<boolean> {
  const hash = await migrationsHash();
  return withClient(adminUrl, async (client) => {
    await client.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
    try {
      await dropAbandonedTestDatabases(client);
      const res = await client.query(
        "SELECT shobj_description(oid, 'pg_database') AS stamp FROM pg_database WHERE datname = $1",
        [TEMPLATE_DB],
      );
      if (res.rows[0]?.stamp === STAMP + hash) return false;

      const building = `${TEMPLATE_DB}_build_${process.pid}`;
      await dropDatabase(client, building);
      await client.query(`CREATE DATABASE ${quoteIdent(building)} TEMPLATE template0`);
      try {
        await migrateDatabase(withDatabase(adminUrl, building));
      } catch (error) {
        await dropDatabase(client, building);
        throw error;
      }
      await client.query(`COMMENT ON DATABASE ${quoteIdent(building)} IS '${STAMP}${hash}'`);
      if (res.rows.length > 0) {
        await client.query(`ALTER DATABASE ${quoteIdent(TEMPLATE_DB)} WITH IS_TEMPLATE false`);
        await dropDatabase(client, TEMPLATE_DB);
      }
      await client.query(`ALTER DATABASE ${quoteIdent(building)} RENAME TO ${quoteIdent(TEMPLATE_DB)}`);
      // Nobody may connect to it: a session on the template would make every clone fail.
      await client.query(
        `ALTER DATABASE ${quoteIdent(TEMPLATE_DB)} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false`,
      );
      return true;
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]);
    }
  });
}

/** Test databases are named <prefix><pid>_<random>; drop those whose process is gone (a crashed or
 * interrupted run). Only done when PostgreSQL and the tests share the machine (pids are local). */
async function dropAbandonedTestDatabases(client: import('pg').Client): Promise<void> {
  // Under the lock no build is in progress, so any half-built template is left over from a crash.
  const builds = await client.query('SELECT datname FROM pg_database WHERE starts_with(datname, $1)', [
    `${TEMPLATE_DB}_build_`,
  ]);
  for (const { datname } of builds.rows as { datname: string }[]) await dropDatabase(client, datname);
  const host = new URL(adminUrl).hostname;
  if (!['127.0.0.1', 'localhost', '::1', '[::1]', ''].includes(host)) return;
  const res = await client.query('SELECT datname FROM pg_database WHERE starts_with(datname, $1)', [
    TEST_DB_PREFIX,
  ]);
  for (const { datname } of res.rows as { datname: string }[]) {
    const pid = Number(/^[a-z_]+?(\d+)_[0-9a-f]+$/.exec(datname)?.[1]);
    if (pid && !isAlive(pid)) await dropDatabase(client, datname);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
