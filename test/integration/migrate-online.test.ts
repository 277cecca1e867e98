import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyMigrationsOnline } from '../../src/adapters/db/tooling/migrate.ts';
import { defaultMigrationsDir } from '../../src/adapters/db/tooling/migrations-dir.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import pg from 'pg';

// `npm run db:migrate` while old processes serve: a migration that needs a table lock held by a long
// transaction (a report, a sync) waits at most the lock timeout instead of queueing every query on the
// table behind it, leaves nothing half-applied, and is applied when the lock is free.

let tdb: TestDatabase;
let dir: string;
beforeAll(async () => {
  tdb = await createTestDatabase();
  dir = await mkdtemp(join(tmpdir(), 'warmth-online-'));
  await cp(defaultMigrationsDir, dir, { recursive: true });
  await mkdir(join(dir, '29990101000000_online_test'));
  await writeFile(
    join(dir, '29990101000000_online_test', 'migration.sql'),
    'ALTER TABLE "nomination" ADD COLUMN "online_test" INTEGER;\n',
  );
});
afterAll(async () => {
  await tdb?.drop();
  await rm(dir, { recursive: true, force: true });
});

describe('migrating while old processes serve', () => {
  it('gives up on a held lock within the timeout (readers keep going), then applies when it is free', async () => {
    const holder = new pg.Client({ connectionString: tdb.url });
    const reader = new pg.Client({ connectionString: tdb.url });
    await holder.connect();
    await reader.connect();
    try {
      // An old process in a long read transaction on the table the migration alters.
      await holder.query('BEGIN');
      await holder.query('SELECT count(*) FROM nomination');
      const started = Date.now();
      const migrating = applyMigrationsOnline(tdb.url, {
        migrationsDir: dir,
        lockTimeoutMs: 500,
        retries: 2,
        pauseMs: 200,
      });
      // While the migration retries, the table stays readable within a short time each time.
      let reads = 0;
      let slowest = 0;
      const until = Date.now() + 1_500;
      while (Date.now() < until) {
        const t = Date.now();
        await reader.query('SELECT count(*) FROM nomination');
        slowest = Math.max(slowest, Date.now() - t);
        reads++;
        await new Promise((r) => setTimeout(r, 50));
      }
      // Release the lock during the retries: the migration then goes through.
      await holder.query('COMMIT');
      const applied = await migrating;
      expect(applied).toEqual(['29990101000000_online_test']);
      expect(reads).toBeGreaterThan(2);
      // A read queued behind the waiting ALTER waits at most about the lock timeout.
      expect(slowest).toBeLessThan(1_500);
      expect(Date.now() - started).toBeLessThan(30_000);
      const rows = (
        await reader.query(
          `SELECT migration_name, finished_at, rolled_back_at FROM _prisma_migrations
           WHERE migration_name = '29990101000000_online_test' ORDER BY started_at`,
        )
      ).rows;
      // At least one attempt timed out and was marked rolled back; exactly one finished.
      expect(rows.filter((r) => r.rolled_back_at !== null).length).toBeGreaterThanOrEqual(1);
      expect(rows.filter((r) => r.finished_at !== null && r.rolled_back_at === null)).toHaveLength(1);
      const col = await reader.query(
        `SELECT 1 FROM information_schema.columns WHERE table_name = 'nomination' AND column_name = 'online_test'`,
      );
      expect(col.rowCount).toBe(1);
    } finally {
      await holder.end();
      await reader.end();
    }
  });

  it('gives up with a clear error when the lock stays held through every retry, applying nothing', async () => {
    const db2 = await createTestDatabase();
    const holder = new pg.Client({ connectionString: db2.url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT count(*) FROM nomination');
      await expect(
        applyMigrationsOnline(db2.url, { migrationsDir: dir, lockTimeoutMs: 300, retries: 1, pauseMs: 100 }),
      ).rejects.toThrow(/lock timeout/i);
      await holder.query('COMMIT');
      const col = await holder.query(
        `SELECT 1 FROM information_schema.columns WHERE table_name = 'nomination' AND column_name = 'online_test'`,
      );
      expect(col.rowCount).toBe(0);
    } finally {
      await holder.end();
      await db2.drop();
    }
  });
});
