import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { Prisma, PrismaClient } from '../../generated/prisma/client.ts';
import { registerDirectPool } from './direct-sql.ts';
import { noteQuery } from './query-scope.ts';
import { registerCursorSource } from './cursor.ts';

export type Db = PrismaClient;
export type Tx = Prisma.TransactionClient;
export { Prisma };

/**
 * Prisma client over node-postgres. A connection timeout makes pool exhaustion or an unreachable
 * server an error after 5 s instead of a hang, so users get "temporarily unavailable" promptly; the
 * pool reconnects by itself when the server returns.
 */
export function createDb(databaseUrl: string, opts: { poolSize?: number } = {}): Db {
  // The pool is made here (not by the adapter) so that the hot statements can use it directly
  // (direct-sql.ts); the adapter ends it when the client disconnects.
  const pool = new pg.Pool({
    // Every session in UTC, whatever the server's TimeZone (a Chinese server may well be Asia/Shanghai):
    // the app reads and writes `timestamp` columns as UTC (Prisma sends UTC), and a column's default
    // (`CURRENT_TIMESTAMP`, e.g. a notice's created_at, an audit row's at) is the session's local time.
    // In the URL itself: pg lets a URL's own `options` replace the pool's.
    connectionString: withUtcSession(databaseUrl),
    connectionTimeoutMillis: 5_000,
    max: opts.poolSize ?? 10,
    idleTimeoutMillis: 30_000,
  });
  // An idle connection the server ends (a restart, a dropped database) is reported on the pool: the pool
  // drops that connection and the next statement opens another. Without a listener the report would be
  // an uncaught exception — the adapter adds its own only once Prisma first connects, and a direct
  // statement may come first.
  pool.on('error', () => {});
  const adapter = new PrismaPg(pool, {
    disposeExternalPool: true,
    // Called for every statement the adapter sends: counts it for the current query scope
    // (query-scope.ts). Returning undefined keeps statements unnamed, as without the hook.
    statementNameGenerator: ((q: { sql: string }) => {
      noteQuery(q.sql);
      return undefined;
    }) as unknown as (q: { sql: string }) => string,
  });
  const db = new PrismaClient({ adapter });
  // The adapter ends the pool only if Prisma itself connected; a client that sent direct statements
  // alone would keep its connections open (and its process alive) until they idle out.
  const disconnect = db.$disconnect.bind(db);
  db.$disconnect = async () => {
    try {
      await disconnect();
    } finally {
      if (!pool.ending) await pool.end();
    }
  };
  registerCursorSource(db, databaseUrl);
  registerDirectPool(db, pool);
  return db;
}

/** The URL with `-c TimeZone=UTC` added to its own `options` (if any). */
export function withUtcSession(databaseUrl: string): string {
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    return databaseUrl; // not a URL: pg reports it
  }
  const own = url.searchParams.get('options');
  url.searchParams.set('options', [own, '-c TimeZone=UTC'].filter(Boolean).join(' '));
  return url.toString();
}

/** Name of the unique constraint a P2002 error violated (adapter and classic shapes). */
export function uniqueViolation(err: unknown): string | undefined {
  if (!(err instanceof Prisma.PrismaClientKnownRequestError) || err.code !== 'P2002') return undefined;
  const meta = err.meta as
    | {
        target?: string | string[];
        driverAdapterError?: { cause?: { constraint?: { index?: string; fields?: string[] } | string } };
      }
    | undefined;
  const c = meta?.driverAdapterError?.cause?.constraint;
  if (typeof c === 'string') return c;
  if (c?.index) return c.index;
  if (c?.fields) return c.fields.join(',');
  if (Array.isArray(meta?.target)) return meta.target.join(',');
  return meta?.target ?? 'unknown';
}

const CONNECTION_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024']);
const NET_MESSAGES =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|Connection terminated|connection timeout|timeout exceeded when trying to connect|Can't reach database|Connection is closed|ENOTFOUND|terminating connection|DatabaseNotReachable|connect failed|Stream isn't writeable|MaxRetriesPerRequest|Command timed out|Reached the max retries per request|Server has closed the connection|ConnectionClosed/i;

/** True when an error means PostgreSQL or Redis is (briefly) unreachable, not a bug. */
export function isUnavailableError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    if (e instanceof Prisma.PrismaClientInitializationError) return true;
    if (e instanceof Prisma.PrismaClientKnownRequestError && CONNECTION_CODES.has(e.code)) return true;
    const msg = e instanceof Error ? e.message : typeof e === 'string' ? e : '';
    const code = (e as { code?: unknown }).code;
    if (NET_MESSAGES.test(msg) || (typeof code === 'string' && NET_MESSAGES.test(code))) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * True for a PostgreSQL serialization failure or deadlock (40001 / 40P01) in any of the shapes Prisma 7
 * with the pg adapter produces: P2034, a known request error whose message names it, or a raw
 * DriverAdapterError (kind TransactionWriteConflict, cause.originalCode) thrown at COMMIT.
 */
export function isSerializationFailure(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    const x = e as {
      code?: unknown;
      kind?: unknown;
      originalCode?: unknown;
      message?: unknown;
      meta?: { driverAdapterError?: { cause?: { originalCode?: unknown; kind?: unknown } } };
      cause?: unknown;
    };
    const adapter = x.meta?.driverAdapterError?.cause;
    if (x.code === 'P2034' || x.code === '40001' || x.code === '40P01') return true;
    if (x.kind === 'TransactionWriteConflict' || adapter?.kind === 'TransactionWriteConflict') return true;
    for (const c of [x.originalCode, adapter?.originalCode]) if (c === '40001' || c === '40P01') return true;
    if (typeof x.message === 'string' && /could not serialize access|deadlock detected/i.test(x.message))
      return true;
    e = x.cause;
  }
  return false;
}
