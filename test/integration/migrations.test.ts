import { createHash } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMigration } from '../../src/adapters/db/tooling/authoring.ts';
import { checkDrift } from '../../src/adapters/db/tooling/drift.ts';
import { applyMigrations } from '../../src/adapters/db/tooling/engine.ts';
import {
  defaultMigrationsDir,
  defaultSchemaPath,
  migrationNames,
} from '../../src/adapters/db/tooling/migrations-dir.ts';
import { withClient, withScratchDatabase } from '../../src/adapters/db/tooling/pg.ts';
import { adminUrl, createPrisma, createTestDatabase, type TestDatabase } from '../support/db.ts';

describe('migrations', () => {
  it('apply to an empty database, record _prisma_migrations, and a second apply is a no-op', async () => {
    const names = await migrationNames();
    expect(names.length).toBeGreaterThan(0);
    await withScratchDatabase(adminUrl, async (url) => {
      expect(await applyMigrations(url)).toEqual(names);
      expect(await applyMigrations(url)).toEqual([]);
      const rows = await withClient(
        url,
        async (c) => (await c.query('SELECT * FROM _prisma_migrations ORDER BY started_at')).rows,
      );
      expect(rows.map((r) => r.migration_name)).toEqual(names);
      for (const row of rows) {
        expect(row.finished_at).toBeInstanceOf(Date);
        expect(row.rolled_back_at).toBeNull();
        // Same checksum as `prisma migrate deploy` records, so the native CLI can take over later.
        const sql = await readFile(join(defaultMigrationsDir, row.migration_name, 'migration.sql'));
        expect(row.checksum).toBe(createHash('sha256').update(sql).digest('hex'));
      }
    });
  });
});

describe('drift check', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'warmth-drift-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** A throwaway copy of prisma/ whose schema.prisma got `edit` applied. */
  async function copyWith(name: string, edit: (schema: string) => string) {
    const root = join(dir, name);
    await cp(join(defaultMigrationsDir, '..'), root, { recursive: true });
    const schemaPath = join(root, 'schema.prisma');
    await writeFile(schemaPath, edit(await readFile(schemaPath, 'utf8')));
    return { schemaPath, migrationsDir: join(root, 'migrations') };
  }

  it('passes on the repository as it is (hand-written triggers do not count)', async () => {
    const result = await checkDrift({ schemaPath: defaultSchemaPath });
    expect(result.differences).toEqual([]);
    expect(result.ok).toBe(true);
  });

  it('fails when schema.prisma gains a field or a model without a migration', async () => {
    const paths = await copyWith('unmigrated', (s) =>
      s
        .replace(/(\n {2}username\s+String\?)/, '$1\n  nickname String?')
        .concat('\nmodel Gadget {\n  id Int @id\n\n  @@map("gadget")\n}\n'),
    );
    const result = await checkDrift(paths);
    expect(result.ok).toBe(false);
    expect(result.differences).toContain(
      'column person.nickname: in schema.prisma (text NULL) but no migration creates it',
    );
    expect(result.differences.some((d) => d.startsWith('column gadget.id:'))).toBe(true);
    expect(result.differences.some((d) => d.startsWith('constraint gadget.gadget_pkey:'))).toBe(true);
  });

  it('authors the missing migration, after which the check passes and nothing more is due', async () => {
    const paths = await copyWith('authored', (s) =>
      s.replace(/(\n {2}username\s+String\?)/, '$1\n  nickname String?'),
    );
    const created = await createMigration('Add nickname', {
      ...paths,
      now: new Date('2099-01-02T03:04:05Z'),
    });
    expect(created).toMatchObject({ created: true, name: '20990102030405_add_nickname' });
    if (created.created) expect(created.sql).toContain('ALTER TABLE "person" ADD COLUMN     "nickname" TEXT');
    expect(await checkDrift(paths)).toEqual({ ok: true, differences: [] });
    expect(await createMigration('again', { ...paths, verifySnapshot: false })).toEqual({ created: false });
  });
});

describe('migrated database', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('refuses UPDATE, DELETE and TRUNCATE of audit_log', async () => {
    await withClient(db.url, async (c) => {
      await c.query(`INSERT INTO audit_log (action, entity, entity_id) VALUES ('create', 'person', '1')`);
      await expect(c.query(`UPDATE audit_log SET action = 'x'`)).rejects.toThrow(/append-only: UPDATE/);
      await expect(c.query('DELETE FROM audit_log')).rejects.toThrow(/append-only: DELETE/);
      await expect(c.query('TRUNCATE audit_log')).rejects.toThrow(/append-only: TRUNCATE/);
      expect((await c.query('SELECT count(*)::int AS n FROM audit_log')).rows[0].n).toBe(1);
    });
  });

  it('round-trips through the generated Prisma client (BigInt telegramId)', async () => {
    const prisma = createPrisma(db.url);
    try {
      const federation = await prisma.federation.create({ data: { name: '某县总工会' } });
      const telegramId = 2n ** 53n + 7n; // beyond Number.MAX_SAFE_INTEGER on purpose
      await prisma.person.create({ data: { telegramId, displayName: '张三' } });
      const person = await prisma.person.findUniqueOrThrow({ where: { telegramId } });
      expect(person.telegramId).toBe(telegramId);
      expect(person.displayName).toBe('张三');
      expect(await prisma.federation.findUnique({ where: { id: federation.id } })).toMatchObject({
        name: '某县总工会',
      });
    } finally {
      await prisma.$disconnect();
    }
  });
});
