import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { applyMigrations } from '../../src/adapters/db/tooling/engine.ts';
import { defaultMigrationsDir, migrationNames } from '../../src/adapters/db/tooling/migrations-dir.ts';
import { withScratchDatabase } from '../../src/adapters/db/tooling/pg.ts';
import { verifyAuditChain } from '../../src/usecases/audit-chain.ts';
import { adminUrl, createPrisma } from '../support/db.ts';

// The migration `audit_chain` on a database that already has an audit trail: the existing rows are
// chained in id order from the genesis head, and rows written afterwards continue the same chain.

const MIGRATION = 'audit_chain';

describe(`migration ${MIGRATION}`, () => {
  it('hashes the existing rows (genesis) and later rows continue the chain', async () => {
    const names = await migrationNames();
    const target = names.find((n) => n.endsWith(MIGRATION))!;
    expect(target).toBeDefined();
    const before = await mkdtemp(join(tmpdir(), 'warmth-migrations-'));
    try {
      await cp(join(defaultMigrationsDir, 'migration_lock.toml'), join(before, 'migration_lock.toml'));
      for (const n of names.slice(0, names.indexOf(target)))
        await cp(join(defaultMigrationsDir, n), join(before, n), { recursive: true });

      await withScratchDatabase(adminUrl, async (url) => {
        await applyMigrations(url, { migrationsDir: before });
        const c = new pg.Client({ connectionString: url });
        await c.connect();
        try {
          for (let i = 0; i < 25; i++)
            await c.query(
              `INSERT INTO audit_log (action, entity, entity_id, after) VALUES ('old.action', 'nomination', $1, $2)`,
              [String(i), JSON.stringify({ i, 说明: '旧记录' })],
            );
        } finally {
          await c.end();
        }
        await applyMigrations(url);
        const db = createPrisma(url);
        try {
          const rows = await db.auditLog.findMany({ orderBy: { id: 'asc' } });
          expect(rows.map((r) => r.seq)).toEqual(rows.map((_, i) => BigInt(i + 1)));
          await db.auditLog.create({ data: { action: 'new.action', entity: 'campaign', entityId: '1' } });
          const v = await verifyAuditChain(db);
          expect(v).toMatchObject({ ok: true, rows: 26 });
          expect(v.head.seq).toBe(26n);
        } finally {
          await db.$disconnect();
        }
      });
    } finally {
      await rm(before, { recursive: true, force: true });
    }
  });
});
