import { AsyncLocalStorage } from 'node:async_hooks';

// Counts the SQL statements one piece of work sends (an update, in bot.ts): every statement of the
// Prisma client goes through the pg adapter's statementNameGenerator hook (client.ts), which notes it
// in the scope of the async context it runs in. Used for the per-update query budget (metrics and
// test/e2e/query-budget.test.ts). No scope, no cost beyond one AsyncLocalStorage look-up.

export interface QueryScope {
  /** The statements' SQL text, in the order sent. */
  statements: string[];
}

const scopes = new AsyncLocalStorage<QueryScope>();

/** Runs `fn` with a fresh scope; the scope collects the statements sent while `fn` runs. */
export function withQueryScope<T>(scope: QueryScope, fn: () => T): T {
  return scopes.run(scope, fn);
}

export function noteQuery(sql: string): void {
  scopes.getStore()?.statements.push(sql);
}
