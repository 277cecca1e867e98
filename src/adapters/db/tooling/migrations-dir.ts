// Reading prisma/migrations: the list handed to the engine, the schema snapshot kept beside each
// migration (used to author the next one offline), and a hash identifying the migration history.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { packageRoot } from '../../package-root.ts';
import type { MigrationDirectory, MigrationList } from '@prisma/schema-engine-wasm/schema_engine_bg';

export const defaultSchemaPath = join(packageRoot, 'prisma', 'schema.prisma');
export const defaultMigrationsDir = join(packageRoot, 'prisma', 'migrations');

/** The schema.prisma as it was when a migration was authored (see authoring.ts). */
export const SNAPSHOT_FILE = 'schema.prisma';

/** Migration directory names (those holding a migration.sql), oldest first. */
export async function migrationNames(dir = defaultMigrationsDir): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .filter((e) => e.isDirectory() && existsSync(join(dir, e.name, 'migration.sql')))
    .map((e) => e.name)
    .sort();
}

export async function readMigrations(dir = defaultMigrationsDir): Promise<MigrationList> {
  const baseDir = resolve(dir);
  const migrationDirectories: MigrationDirectory[] = [];
  for (const name of await migrationNames(baseDir)) {
    const value = await readFile(join(baseDir, name, 'migration.sql'), 'utf8');
    migrationDirectories.push({
      path: name,
      migrationFile: { path: 'migration.sql', content: { tag: 'ok', value } },
    });
  }
  const lock = join(baseDir, 'migration_lock.toml');
  return {
    baseDir,
    lockfile: {
      path: 'migration_lock.toml',
      content: existsSync(lock) ? await readFile(lock, 'utf8') : null,
    },
    shadowDbInitScript: '',
    migrationDirectories,
  };
}

/** Identifies the migration history (names and SQL); used to know when a template database is stale. */
export async function migrationsHash(dir = defaultMigrationsDir): Promise<string> {
  const list = await readMigrations(dir);
  const hash = createHash('sha256');
  for (const m of list.migrationDirectories) {
    const sql = m.migrationFile.content.tag === 'ok' ? m.migrationFile.content.value : '';
    hash.update(`${m.path}\0${sql}\0`);
  }
  return hash.digest('hex').slice(0, 32);
}

/** The snapshot of the newest migration: 'empty' with no migration yet; throws if it is missing. */
export async function latestSnapshot(
  dir = defaultMigrationsDir,
): Promise<'empty' | { name: string; text: string }> {
  const name = (await migrationNames(dir)).at(-1);
  if (!name) return 'empty';
  const path = join(dir, name, SNAPSHOT_FILE);
  if (!existsSync(path)) {
    throw new Error(
      `${path} is missing. Each migration keeps the schema.prisma it was authored from; restore it ` +
        `(git show <commit>:prisma/schema.prisma) so the next migration can be diffed against it.`,
    );
  }
  return { name, text: await readFile(path, 'utf8') };
}
