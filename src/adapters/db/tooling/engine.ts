// Prisma's schema engine compiled to WebAssembly, driven through the pg driver adapter. This is how the
// project migrates and authors migrations without the native engine binary, which cannot be downloaded
// offline (see /work/shared/notes/prisma-offline.md for what was tried and why).
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import type { SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import * as bg from '@prisma/schema-engine-wasm/schema_engine_bg';
import type { DiffTarget, SchemaEngine, SchemaFilter } from '@prisma/schema-engine-wasm/schema_engine_bg';
import { readMigrations } from './migrations-dir.ts';
import { adminUrlFromEnv } from './pg.ts';

const filters: SchemaFilter = { externalTables: [], externalEnums: [] };
const verbose = () => process.env['WARMTH_DB_DEBUG'] === '1';

// The tsconfig's libs (ES2023, node types) do not declare the WebAssembly global; this is all we use.
const Wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
interface WasmApi {
  compile(bytes: Uint8Array): Promise<object>;
  Instance: new (
    module: object,
    imports: Record<string, Record<string, unknown>>,
  ) => { exports: Record<string, unknown> };
}

let loaded: Promise<void> | undefined;
let lastPanic: string | undefined;

/** Instantiates the wasm once per process. The package's own entry point imports the .wasm file as an
 * ES module, which Node 20 refuses without --experimental-wasm-modules, so it is wired up by hand. */
function loadWasm(): Promise<void> {
  loaded ??= (async () => {
    // A Rust panic reports its message here before the call fails; without this object the engine
    // crashes with "cannot read properties of undefined" instead of saying what went wrong.
    (globalThis as Record<string, unknown>)['PRISMA_WASM_PANIC_REGISTRY'] = {
      set_message: (message: string) => {
        lastPanic = message;
        if (verbose()) process.stderr.write(`[schema-engine panic] ${message}\n`);
      },
    };
    // createRequire rather than import.meta.resolve, which vitest's module runner does not support.
    const bgPath = createRequire(import.meta.url).resolve('@prisma/schema-engine-wasm/schema_engine_bg');
    const bytes = await readFile(join(dirname(bgPath), 'schema_engine_bg.wasm'));
    const instance = new Wasm.Instance(await Wasm.compile(bytes), {
      './schema_engine_bg.js': unrefTimers(bg),
    });
    bg.__wbg_set_wasm(instance.exports);
    (instance.exports['__wbindgen_start'] as () => void)();
  })();
  return loaded;
}

/** The engine arms a 10 s timer for each wait (e.g. the advisory lock taken while migrating) and never
 * clears it, which kept every CLI run and test alive 10 s after its work was done. Its timers are
 * unref'd: they still fire while the process has work, but no longer hold it open. */
function unrefTimers(module: typeof bg): Record<string, unknown> {
  const imports: Record<string, unknown> = { ...module };
  for (const [name, fn] of Object.entries(module)) {
    if (!name.startsWith('__wbg_setTimeout_') || typeof fn !== 'function') continue;
    imports[name] = (...args: unknown[]) => {
      const timer = (fn as (...a: unknown[]) => unknown)(...args);
      (timer as { unref?: () => void } | undefined)?.unref?.();
      return timer;
    };
  }
  return imports;
}

type PgAdapter = Awaited<ReturnType<PrismaPg['connect']>>;

/** The pg adapter's executeScript splits a script on every ';' (even inside $$ function bodies) and runs
 * the pieces one by one, each in autocommit. The native engine sends a migration as ONE simple query,
 * which PostgreSQL runs atomically; restore that so plpgsql functions survive and a failing migration
 * leaves nothing half-applied. Every adapter opened is remembered so it can be closed afterwards. */
function factoryFor(
  url: string,
  opened: SqlDriverAdapter[],
  lockTimeoutMs?: number,
): SqlMigrationAwareDriverAdapterFactory {
  const pg = new PrismaPg({
    connectionString: url,
    connectionTimeoutMillis: 10_000,
    // A migration waiting for a table lock queues every later query on that table behind it: give up
    // after lockTimeoutMs instead (the migration is one transaction, so nothing is half-applied).
    ...(lockTimeoutMs ? { options: `-c lock_timeout=${lockTimeoutMs}` } : {}),
  });
  const patch = (adapter: PgAdapter): PgAdapter => {
    const pool = adapter.underlyingDriver();
    adapter.executeScript = async (script: string) => {
      try {
        await pool.query(script);
      } catch (error) {
        // The adapter's own error conversion (into a DriverAdapterError the engine understands).
        (adapter as unknown as { onError(e: unknown): never }).onError(error);
      }
    };
    opened.push(adapter);
    return adapter;
  };
  return {
    provider: pg.provider,
    adapterName: pg.adapterName,
    connect: async () => patch(await pg.connect()),
    connectToShadowDb: async () => patch(await pg.connectToShadowDb()),
  };
}

/** The engine needs a datamodel to know the provider (it panics with none). Tables come from the
 * migrations or the diff targets, so a bare datasource is enough. */
const providerOnly: [string, string] = ['provider.prisma', 'datasource db {\n  provider = "postgresql"\n}\n'];

const FAILED_HINT =
  '\nOur migrations run as one transaction, so a failed one left nothing behind: fix it, then mark it ' +
  "rolled back (UPDATE _prisma_migrations SET rolled_back_at = now() WHERE migration_name = '...' " +
  'AND finished_at IS NULL) and migrate again.';

function describe(error: unknown, what: string): Error {
  let message = error instanceof Error ? error.message : String(error);
  // The engine appends a Rust span trace ("   0: sql_schema_connector::..."); noise unless debugging.
  if (!verbose()) message = message.replace(/\n\s+0: [\s\S]*$/, '');
  if (message.includes('found failed migrations')) message += FAILED_HINT;
  const panic = lastPanic ? `\n(engine panic: ${lastPanic})` : '';
  lastPanic = undefined;
  return new Error(`${what} failed: ${message.trim()}${panic}`, { cause: error });
}

/** Runs `run` with a fresh engine connected to `url`; engine and connections are always closed. */
async function withEngine<T>(
  url: string,
  what: string,
  run: (engine: SchemaEngine) => Promise<T>,
  lockTimeoutMs?: number,
): Promise<T> {
  await loadWasm();
  const opened: SqlDriverAdapter[] = [];
  const log = (line: string) => {
    if (verbose()) process.stderr.write(`[schema-engine] ${line}\n`);
  };
  let engine: SchemaEngine | undefined;
  try {
    engine = await bg.SchemaEngine.new(
      { datamodels: [providerOnly] },
      log,
      bindMigrationAwareSqlAdapterFactory(factoryFor(url, opened, lockTimeoutMs)),
    );
    return await run(engine);
  } catch (error) {
    throw describe(error, what);
  } finally {
    try {
      engine?.free();
    } catch {
      // After a panic the wasm instance may refuse even this; the connections below matter more.
    }
    await Promise.allSettled(opened.map((adapter) => adapter.dispose()));
  }
}

/** Applies pending migrations like `prisma migrate deploy` (same `_prisma_migrations` bookkeeping, so the
 * native engine can take over the database later). Returns the names applied now (empty if none). */
export async function applyMigrations(
  databaseUrl: string,
  opts: { migrationsDir?: string; lockTimeoutMs?: number } = {},
): Promise<string[]> {
  const migrationsList = await readMigrations(opts.migrationsDir);
  const out = await withEngine(
    databaseUrl,
    'Applying migrations',
    (engine) => engine.applyMigrations({ migrationsList, filters }),
    opts.lockTimeoutMs,
  );
  return out.appliedMigrationNames;
}

/** 'empty' or the text of a schema.prisma. */
export type DiffSide = 'empty' | string;

const target = (side: DiffSide, path: string): DiffTarget =>
  side === 'empty' ? { tag: 'empty' } : { tag: 'schemaDatamodel', files: [{ path, content: side }] };

/** SQL turning the database of `from` into that of `to`. Touches no database, but the engine insists on
 * a connection when it starts, hence `connectionUrl` (any reachable PostgreSQL server). */
export async function diffSchemas(
  from: DiffSide,
  to: DiffSide,
  connectionUrl: string = adminUrlFromEnv(),
): Promise<string> {
  if (from === 'empty' && to === 'empty') return '';
  const out = await withEngine(connectionUrl, 'Diffing schemas', (engine) =>
    engine.diff({
      from: target(from, 'from/schema.prisma'),
      to: target(to, 'to/schema.prisma'),
      script: true,
      exitCode: null,
      filters,
    }),
  );
  return out.stdout ?? '';
}

/** True when a diff script holds no statement (the engine says "-- This is an empty migration."). */
export function isEmptyScript(sql: string): boolean {
  return sql.replace(/--.*$/gm, '').trim() === '';
}
