import { isUnavailableError } from '../adapters/db/client.ts';
import { redact } from '../adapters/db/tooling/pg.ts';
import { ConfigError, loadConfig } from '../config.ts';

/**
 * How a database CLI ends on an error: a configuration problem is printed as is (exit 2), an
 * unreachable database names the fix (exit 1), anything else is printed whole (exit 1).
 */
export function failCli(err: unknown): never {
  if (err instanceof ConfigError) console.error(err.message);
  else if (isUnavailableError(err))
    console.error(
      `cannot reach the database at ${redact(loadConfig().databaseUrl)}: is PostgreSQL running, and is DATABASE_URL right?`,
    );
  else console.error(err);
  process.exit(err instanceof ConfigError ? 2 : 1);
}
