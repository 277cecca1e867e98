// Backups that restore: pg_dump in its custom format plus a manifest beside it (<file>.json) naming the
// data-key versions the backup's encrypted fields need, never the keys. A restore goes into an EMPTY
// database only (pg_restore in one transaction: all or nothing). Redis is not backed up: everything in
// it is rebuilt from PostgreSQL by the worker at start (README, Runbook).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { migrationNames } from './migrations-dir.ts';
import { databaseName, redact, withClient } from './pg.ts';
import { ensureDatabase } from './migrate.ts';

export const MANIFEST_FORMAT = 'warmth-backup/1';

export interface BackupManifest {
  format: typeof MANIFEST_FORMAT;
  createdAt: string;
  database: string;
  dumpFile: string;
  serverVersion: string;
  pgDumpVersion: string;
  /** Migrations recorded as applied in the database (restore with a release that has them all). */
  migrations: string[];
  keys: {
    /** DATA_KEY version that encrypted new values when the backup was made. */
    current: number;
    /** DATA_HASH_KEY_VERSION in use (look-up hashes and button MACs). */
    hash: number;
    /** Key versions found in the backup's encrypted fields, with how many values each. */
    inData: Record<string, number>;
  };
}

export class BackupError extends Error {}

function run(cmd: string, args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += String(d);
    });
    child.stderr.on('data', (d) => {
      err += String(d);
    });
    child.on('error', (e: NodeJS.ErrnoException) =>
      reject(
        e.code === 'ENOENT'
          ? new BackupError(
              `${cmd} not found: install the PostgreSQL client (apt-get install postgresql-client)`,
            )
          : e,
      ),
    );
    child.on('close', (code) => resolvePromise({ code: code ?? 1, out, err }));
  });
}

const major = (version: string) => Number(/(\d+)(?:\.\d+)?/.exec(version)?.[1] ?? 0);

async function toolVersion(tool: string): Promise<string> {
  const r = await run(tool, ['--version']);
  return r.out.trim();
}

/** pg_dump and pg_restore must be at least the server's major version. */
async function checkClientVersion(tool: string, serverVersion: string): Promise<string> {
  const version = await toolVersion(tool);
  if (major(version) < major(serverVersion))
    throw new BackupError(
      `${version} is older than the server (PostgreSQL ${serverVersion}): use ${tool} ${major(serverVersion)} or newer`,
    );
  return version;
}

/** Key versions of the encrypted fields ("<version>:<base64>"), nominations and revision snapshots. */
async function keyVersionsInData(url: string): Promise<Record<string, number>> {
  return withClient(url, async (c) => {
    const res = await c.query<{ version: string; n: string }>(`
      SELECT split_part(v, ':', 1) AS version, count(*) AS n
      FROM nomination, unnest(ARRAY[id_number_enc, phone_enc, bank_card_enc]) AS v
      WHERE v IS NOT NULL GROUP BY 1 ORDER BY 1`);
    return Object.fromEntries(res.rows.map((r) => [r.version, Number(r.n)]));
  });
}

async function appliedMigrations(url: string): Promise<string[]> {
  return withClient(url, async (c) => {
    const res = await c.query<{ migration_name: string }>(
      `SELECT migration_name FROM _prisma_migrations
       WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL ORDER BY migration_name`,
    );
    return res.rows.map((r) => r.migration_name);
  });
}

const stamp = (d: Date) => d.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');

/** Writes `<dir>/warmth-<time>.dump` (pg_dump custom format) and its manifest; returns both paths. */
export async function backupDatabase(opts: {
  databaseUrl: string;
  dir?: string;
  file?: string;
  keys: { current: number; hash: number };
  now?: Date;
}): Promise<{ file: string; manifestFile: string; manifest: BackupManifest; bytes: number }> {
  const now = opts.now ?? new Date();
  const serverVersion = await withClient(opts.databaseUrl, async (c) =>
    String((await c.query('SHOW server_version')).rows[0].server_version),
  );
  const pgDumpVersion = await checkClientVersion('pg_dump', serverVersion);
  const file = resolve(opts.file ?? join(opts.dir ?? 'backups', `warmth-${stamp(now)}.dump`));
  await mkdir(resolve(file, '..'), { recursive: true });
  const partial = `${file}.partial`;
  // The manifest is read before the dump: a value written in between can only carry the current key.
  const inData = await keyVersionsInData(opts.databaseUrl);
  const migrations = await appliedMigrations(opts.databaseUrl);
  const r = await run('pg_dump', [
    '--format=custom',
    '--no-owner',
    '--no-privileges',
    `--file=${partial}`,
    `--dbname=${opts.databaseUrl}`,
  ]);
  if (r.code !== 0) {
    await rm(partial, { force: true });
    throw new BackupError(`pg_dump failed for ${redact(opts.databaseUrl)}: ${r.err.trim()}`);
  }
  await rename(partial, file);
  const manifest: BackupManifest = {
    format: MANIFEST_FORMAT,
    createdAt: now.toISOString(),
    database: databaseName(opts.databaseUrl),
    dumpFile: basename(file),
    serverVersion,
    pgDumpVersion,
    migrations,
    keys: { current: opts.keys.current, hash: opts.keys.hash, inData },
  };
  const manifestFile = `${file}.json`;
  await writeFile(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
  const { size } = await stat(file);
  return { file, manifestFile, manifest, bytes: size };
}

export async function readManifest(file: string): Promise<BackupManifest | null> {
  const path = `${file}.json`;
  if (!existsSync(path)) return null;
  const m = JSON.parse(await readFile(path, 'utf8')) as BackupManifest;
  if (m.format !== MANIFEST_FORMAT) throw new BackupError(`${path}: not a warmth backup manifest`);
  return m;
}

/** What the configured keys lack to read a backup (empty: they can read it all). */
export function missingKeys(manifest: BackupManifest, configured: number[]): string[] {
  const have = new Set(configured.map(String));
  const need = new Set([...Object.keys(manifest.keys.inData), String(manifest.keys.hash)]);
  return [...need].filter((v) => !have.has(v)).sort();
}

/** Tables in the database outside the system schemas (a restore needs 0). */
export async function userTableCount(url: string): Promise<number> {
  return withClient(url, async (c) => {
    const res = await c.query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')`,
    );
    return Number(res.rows[0]!.n);
  });
}

/**
 * Restores a backup into an EMPTY database (created if missing; a database with tables is refused),
 * in one transaction. The release restoring must have every migration the backup recorded.
 */
export async function restoreDatabase(opts: {
  databaseUrl: string;
  file: string;
  adminUrl?: string;
}): Promise<{ tables: number; migrations: string[] }> {
  const file = resolve(opts.file);
  if (!existsSync(file)) throw new BackupError(`${file}: no such backup file`);
  const manifest = await readManifest(file);
  if (manifest) {
    const known = new Set(await migrationNames());
    const unknown = manifest.migrations.filter((m) => !known.has(m));
    if (unknown.length > 0)
      throw new BackupError(
        `the backup was made by a newer release (migrations ${unknown.join(', ')} are not in this one): ` +
          'restore with that release or a later one',
      );
  }
  await ensureDatabase(opts.databaseUrl, opts.adminUrl);
  const existing = await userTableCount(opts.databaseUrl);
  if (existing > 0)
    throw new BackupError(
      `database ${databaseName(opts.databaseUrl)} is not empty (${existing} tables): a backup is restored ` +
        'only into an empty database. Point DATABASE_URL at a new database name (it is created), ' +
        'or drop this one first if you are sure it holds nothing you need.',
    );
  const serverVersion = await withClient(opts.databaseUrl, async (c) =>
    String((await c.query('SHOW server_version')).rows[0].server_version),
  );
  await checkClientVersion('pg_restore', serverVersion);
  const r = await run('pg_restore', [
    '--no-owner',
    '--no-privileges',
    '--exit-on-error',
    '--single-transaction',
    `--dbname=${opts.databaseUrl}`,
    file,
  ]);
  if (r.code !== 0)
    throw new BackupError(`pg_restore failed (nothing was restored): ${r.err.trim().slice(0, 2000)}`);
  return {
    tables: await userTableCount(opts.databaseUrl),
    migrations: await appliedMigrations(opts.databaseUrl),
  };
}
