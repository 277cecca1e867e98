import { AsyncLocalStorage } from 'node:async_hooks';

// Counts the SQL statements one piece of work sends (an update, in bot.ts): every statement of the
// Prisma client goes through the pg adapter's statementNameGenerator hook (client.ts), which notes it
// in the scope of the async context it runs in. Used for the per-update query budget (metrics and
// test/e2e/query-budget.test.ts). No scope, no cost beyond one AsyncLocalStorage look-up.

export interface QueryScope {
  /** The statements' SQL text, in the order sent. */
  statements: string[];
  /** The process's in-memory cache (read-cache.ts), used once `cacheVersion` is known. */
  cache?: {
    observe(version: bigint): void;
    read<T>(key: string, load: () => Promise<T>): Promise<T>;
  };
  /** The cache version this update read (touchPerson); unset: the in-memory cache is not used. */
  cacheVersion?: bigint;
  /** Rows this update wrote, as the database returned them (see `rememberWritten`). */
  written?: Map<string, unknown>;
}

const scopes = new AsyncLocalStorage<QueryScope>();

/** Runs `fn` with a fresh scope; the scope collects the statements sent while `fn` runs. */
export function withQueryScope<T>(scope: QueryScope, fn: () => T): T {
  return scopes.run(scope, fn);
}

export function currentQueryScope(): QueryScope | undefined {
  return scopes.getStore();
}

export function noteQuery(sql: string): void {
  scopes.getStore()?.statements.push(sql);
}

/**
 * Keeps a row this update has just written (as the database returned it), so a read of the same row
 * later in the same update uses it instead of asking again: the dialog's next question is drawn from
 * the answer's own write. Only within one update (its chat's turn: nothing else of this chat runs).
 */
export function rememberWritten(key: string, row: unknown): void {
  const scope = scopes.getStore();
  if (!scope) return;
  scope.written ??= new Map();
  scope.written.set(key, row);
}

/** A row this update wrote (`rememberWritten`), or undefined. */
export function writtenInThisUpdate<T>(key: string): T | undefined {
  return scopes.getStore()?.written?.get(key) as T | undefined;
}
