import pg from 'pg';

// Server-side cursors for exports that read a whole campaign (100,000+ rows): one SQL statement,
// `DECLARE … NO SCROLL CURSOR` in a read-only transaction on a connection of its own, then `FETCH n`
// batch by batch, one batch read ahead. The caller pulls the next batch only when it has written the
// previous one, so memory holds two batches whatever the row count, and PostgreSQL does the joins and
// aggregation.
// Rows come back as arrays (rowMode 'array'): no per-row objects from the driver.
//
// Prisma's client does not expose its pool, so the connection string of each client is recorded
// when it is created (`createDb`, the test helper) and a cursor opens its own short-lived connection
// (exports open it on the decryption worker's thread: crypto/decrypt-worker.ts).

/** A Prisma client (any object: this module must not import client.ts, which registers here). */
type Db = object;
const sources = new WeakMap<Db, string>();

/** Records the connection string of a Prisma client, for `cursorSource` (exports open their own connection). */
export function registerCursorSource(db: Db, connectionString: string): void {
  sources.set(db, connectionString);
}

/** The connection string recorded for a Prisma client (see registerCursorSource). */
export function cursorSource(db: Db): string {
  const connectionString = sources.get(db);
  if (!connectionString)
    throw new Error('cursorSource: this database client has no registered connection string');
  return connectionString;
}

/**
 * Runs `sql` (positional parameters $1…) behind a server-side cursor and yields its rows as arrays,
 * `batchSize` at a time. Stopping the iteration early (break, an error in the consumer) closes the
 * cursor, ends the transaction and the connection.
 */
export async function* cursorBatches(
  connectionString: string,
  sql: string,
  params: unknown[],
  batchSize: number,
): AsyncGenerator<unknown[][]> {
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: 5_000 });
  client.on('error', () => {}); // a lost connection surfaces as a failing query
  await client.connect();
  let open = false;
  let ahead: Promise<pg.QueryArrayResult> | undefined;
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    open = true;
    // One long sequential read: JIT compilation costs more than it saves here.
    await client.query('SET LOCAL jit = off');
    await client.query(`DECLARE export_cursor NO SCROLL CURSOR FOR ${sql}`, params);
    const fetch = `FETCH ${Math.max(1, Math.floor(batchSize))} FROM export_cursor`;
    const next = () => {
      const p = client.query({ text: fetch, rowMode: 'array' });
      p.catch(() => {}); // awaited below, or abandoned when the consumer stops early
      return p;
    };
    // One batch read ahead: PostgreSQL runs and sends batch n+1 (its own process, the other core)
    // while the consumer works on batch n, instead of waiting for it afterwards. Memory: two batches.
    let pending = next();
    ahead = pending;
    for (;;) {
      const r = await pending;
      ahead = undefined;
      if (r.rows.length === 0) break;
      const more = r.rows.length >= batchSize;
      if (more) ahead = pending = next();
      yield r.rows as unknown[][];
      if (!more) break;
    }
    await client.query('COMMIT');
    open = false;
  } finally {
    // A FETCH still in flight is answered before the ROLLBACK (the connection runs queries in order).
    if (ahead) await ahead.catch(() => {});
    if (open) await client.query('ROLLBACK').catch(() => {});
    await client.end().catch(() => {});
  }
}
