import pg from 'pg';
import { Prisma } from '../../generated/prisma/client.ts';
import { noteQuery } from './query-scope.ts';

// The statements every update sends (the person and their grants, a review decision) and the heavy
// ones of an import go to PostgreSQL on the Prisma client's own pg pool, without Prisma's query interpreter:
// touchPerson's statement costs 0.31 ms of the bot's CPU through $queryRaw and 0.13 ms directly
// (`npm run bench:direct-sql`, bench/README.md), and an update sends three to eight.
// The rows come back as $queryRaw gives them (int8 → bigint, timestamp and date → Date in UTC, numeric
// → Decimal, json → objects, arrays as arrays): callers switch from `db.$queryRaw` by changing one
// call, and test/integration/direct-sql.test.ts holds both paths to the same answers.
// Statements are counted for the update's query budget (query-scope.ts) as the adapter's are.
// Dates are sent as UTC ISO text; Prisma's adapter sends the same instant as zone-less UTC text. The two
// agree for `timestamp` and `date` (every statement here); for `timestamptz` in a session whose time zone
// is not UTC only the ISO text is right, so check such a statement before switching it.
// A transaction client (or any client created without a registered pool, or one disconnected) goes
// through $queryRaw: a statement of a transaction must run on the transaction's connection.
// A failing statement's `detail` is dropped: for a constraint violation PostgreSQL puts the row's values
// there ("Failing row contains (…)"), and errors are logged.

/** A Prisma client or transaction client (this module must not import client.ts, which registers here). */
interface RawClient {
  $queryRaw<T = unknown>(query: Prisma.Sql): Prisma.PrismaPromise<T>;
}

const pools = new WeakMap<object, pg.Pool>();

/** Records the pg pool a Prisma client runs on (createDb, the test helper). */
export function registerDirectPool(db: object, pool: pg.Pool): void {
  pools.set(db, pool);
}

const utcTimestamp = (v: string) => new Date(`${v.replace(' ', 'T')}Z`);
const utcDate = (v: string) => new Date(`${v}T00:00:00Z`);
const arrayOf =
  <T>(one: (v: string) => T) =>
  (v: string) =>
    (pg.types.getTypeParser(1009 as never, 'text')(v) as (string | null)[]).map((x) =>
      x === null ? null : one(x),
    );

/** What $queryRaw returns for the types pg would parse otherwise (by type OID, text format). */
const PARSERS: Record<number, (v: string) => unknown> = {
  20: (v) => BigInt(v), // int8
  1016: arrayOf((v) => BigInt(v)), // int8[]
  1082: utcDate, // date
  1182: arrayOf(utcDate), // date[]
  1114: utcTimestamp, // timestamp (without time zone: stored as UTC by Prisma)
  1115: arrayOf(utcTimestamp), // timestamp[]
  1700: (v) => new Prisma.Decimal(v), // numeric
  1231: arrayOf((v) => new Prisma.Decimal(v)), // numeric[]
};
const types = {
  getTypeParser: ((oid: number, format?: string) =>
    (format ?? 'text') === 'text' && PARSERS[oid]
      ? PARSERS[oid]
      : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

/** A parameter as $queryRaw sends it: Date as UTC ISO text, bigint and Decimal as text, objects as JSON. */
function param(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return v.map(param);
  if (Buffer.isBuffer(v)) return v;
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  if (Prisma.Decimal.isDecimal(v)) return (v as { toString(): string }).toString();
  if (typeof v === 'object') return JSON.stringify(v);
  return v;
}

/** Runs `query` on `db`'s pool directly (see above); rows as $queryRaw returns them. */
export async function directRows<T>(db: RawClient, query: Prisma.Sql): Promise<T[]> {
  const pool = pools.get(db);
  // After $disconnect the pool is ended; Prisma would connect again, and so does $queryRaw.
  if (!pool || pool.ending) return (await db.$queryRaw<T[]>(query)) as T[];
  noteQuery(query.text);
  try {
    const result = await pool.query({ text: query.text, values: query.values.map(param), types });
    return result.rows as T[];
  } catch (err) {
    if (err && typeof err === 'object' && 'detail' in err) (err as { detail?: string }).detail = undefined;
    throw err;
  }
}

/**
 * Tagged-template form of directRows: `await sqlRows<Row>(db)\`SELECT … ${value}\`` (values are
 * parameters, Prisma.sql fragments are spliced in, as with $queryRaw).
 */
export function sqlRows<T>(db: RawClient) {
  return (strings: TemplateStringsArray, ...values: unknown[]): Promise<T[]> =>
    directRows<T>(db, Prisma.sql(strings, ...values));
}
