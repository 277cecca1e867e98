// Drift check: do prisma/migrations and schema.prisma describe the same database?
//
// The wasm engine cannot describe a live database (it fails on pg's "char" columns), so the check never
// asks it to: the migrations are applied to one scratch database, the engine's `empty -> schema.prisma`
// script to another, and the two are compared through PostgreSQL's catalog. Only what schema.prisma can
// express is compared (enums, tables, columns, indexes, constraints), so hand-written functions and
// triggers in migrations never count as drift. A hand-written index or constraint is ignored when its
// comment starts with "manual" (COMMENT ON INDEX x IS 'manual: why').
import { readFile } from 'node:fs/promises';
import type pg from 'pg';
import { applyMigrations, diffSchemas } from './engine.ts';
import { defaultMigrationsDir, defaultSchemaPath } from './migrations-dir.ts';
import { adminUrlFromEnv, withClient, withScratchDatabase } from './pg.ts';

export interface DriftOptions {
  /** Path of the schema.prisma to compare (default: the repo's). Ignored when schemaText is given. */
  schemaPath?: string;
  schemaText?: string;
  migrationsDir?: string;
  /** Server on which scratch databases are created and dropped. */
  adminUrl?: string;
}

export interface DriftResult {
  ok: boolean;
  /** One readable line per difference, empty when ok. */
  differences: string[];
}

export async function checkDrift(opts: DriftOptions = {}): Promise<DriftResult> {
  const adminUrl = opts.adminUrl ?? adminUrlFromEnv();
  const schemaText = opts.schemaText ?? (await readFile(opts.schemaPath ?? defaultSchemaPath, 'utf8'));
  const fromSchema = await diffSchemas('empty', schemaText, adminUrl);
  const [fromMigrations, expected] = await Promise.all([
    withScratchDatabase(adminUrl, async (url) => {
      await applyMigrations(url, { migrationsDir: opts.migrationsDir ?? defaultMigrationsDir });
      return withClient(url, catalog);
    }),
    withScratchDatabase(adminUrl, async (url) =>
      withClient(url, async (client) => {
        await client.query(fromSchema);
        return catalog(client);
      }),
    ),
  ]);
  const differences = compare(fromMigrations, expected);
  return { ok: differences.length === 0, differences };
}

/** Object key (e.g. "column person.telegram_id") -> a description that must be equal on both sides. */
type Catalog = Map<string, string>;

const IGNORED_TABLE = '_prisma_migrations';

async function catalog(client: pg.Client): Promise<Catalog> {
  const out: Catalog = new Map();
  const rows = async (sql: string) => (await client.query(sql, [IGNORED_TABLE])).rows;

  // Labels are sorted: ALTER TYPE ... ADD VALUE appends, so order legitimately differs (Prisma ignores it too).
  for (const r of await rows(`
    SELECT t.typname AS name, string_agg(e.enumlabel, ', ' ORDER BY e.enumlabel) AS labels
    FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
    WHERE n.nspname = 'public' AND t.typname <> $1 GROUP BY t.typname`)) {
    out.set(`enum ${r.name}`, r.labels);
  }
  // Column order is ignored: a column added later lands at the end of the table.
  for (const r of await rows(`
    SELECT c.relname AS tbl, a.attname AS col, format_type(a.atttypid, a.atttypmod) AS type,
           a.attnotnull AS not_null, pg_get_expr(d.adbin, d.adrelid) AS dflt, a.attidentity AS ident
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
      AND c.relname <> $1`)) {
    const dflt = r.dflt ? ` DEFAULT ${r.dflt}` : '';
    const ident = r.ident ? ` IDENTITY(${r.ident})` : '';
    out.set(`column ${r.tbl}.${r.col}`, `${r.type} ${r.not_null ? 'NOT NULL' : 'NULL'}${dflt}${ident}`);
  }
  for (const r of await rows(`
    SELECT i.relname AS name, pg_get_indexdef(i.oid) AS def
    FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace
    WHERE n.nspname = 'public' AND t.relname <> $1
      AND coalesce(obj_description(i.oid, 'pg_class'), '') NOT LIKE 'manual%'`)) {
    out.set(`index ${r.name}`, r.def);
  }
  for (const r of await rows(`
    SELECT t.relname AS tbl, c.conname AS name, pg_get_constraintdef(c.oid) AS def
    FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
    WHERE n.nspname = 'public' AND t.relname <> $1
      AND coalesce(obj_description(c.oid, 'pg_constraint'), '') NOT LIKE 'manual%'`)) {
    out.set(`constraint ${r.tbl}.${r.name}`, r.def);
  }
  return out;
}

function compare(migrations: Catalog, schema: Catalog): string[] {
  const lines: string[] = [];
  const keys = [...new Set([...migrations.keys(), ...schema.keys()])].sort();
  for (const key of keys) {
    const m = migrations.get(key);
    const s = schema.get(key);
    if (m === s) continue;
    if (m === undefined) lines.push(`${key}: in schema.prisma (${s}) but no migration creates it`);
    else if (s === undefined) lines.push(`${key}: created by the migrations (${m}) but not in schema.prisma`);
    else lines.push(`${key}: the migrations give "${m}" but schema.prisma gives "${s}"`);
  }
  return lines;
}
