// Small helpers over `pg` for the tooling: admin URL, create/drop databases, scratch databases.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const DEFAULT_ADMIN_URL = 'postgresql://root@127.0.0.1:5432/postgres';

/** The same server as `url`, but the `database` given (default: the maintenance database `postgres`). */
export function withDatabase(url: string, database = 'postgres'): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

export function databaseName(url: string): string {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  if (!name) throw new Error(`The database URL has no database name: ${redact(url)}`);
  return name;
}

/** A URL fit for CREATE/DROP DATABASE: DATABASE_ADMIN_URL, else DATABASE_URL's server, else the local default. */
export function adminUrlFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  if (env['DATABASE_ADMIN_URL']) return env['DATABASE_ADMIN_URL'];
  if (env['DATABASE_URL']) return withDatabase(env['DATABASE_URL']);
  return DEFAULT_ADMIN_URL;
}

/** Hides a password before a URL goes into a message. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<invalid URL>';
  }
}

export const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

export async function withClient<T>(url: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(`Cannot connect to PostgreSQL at ${redact(url)}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

export async function databaseExists(client: pg.Client, name: string): Promise<boolean> {
  const res = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
  return (res.rowCount ?? 0) > 0;
}

/** Drops a database even if something is still connected to it (PostgreSQL 13+). */
export async function dropDatabase(client: pg.Client, name: string): Promise<void> {
  await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
}

/** Creates an empty database with a unique name, runs `run` with its URL, and always drops it. */
export async function withScratchDatabase<T>(adminUrl: string, run: (url: string) => Promise<T>): Promise<T> {
  const name = `warmth_scratch_${process.pid}_${randomBytes(4).toString('hex')}`;
  await withClient(adminUrl, (c) => c.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE template0`));
  try {
    return await run(withDatabase(adminUrl, name));
  } finally {
    await withClient(adminUrl, (c) => dropDatabase(c, name));
  }
}
