// npm run db:migrate | db:migration -- <name> | db:check  (see package.json). Exit codes: 0 ok,
// 1 failure or drift, 2 usage / missing configuration.
import { relative } from 'node:path';
import { createMigration } from './authoring.ts';
import { checkDrift } from './drift.ts';
import { applyMigrationsOnline, ensureDatabase } from './migrate.ts';
import { adminUrlFromEnv, databaseName, redact } from './pg.ts';

class UsageError extends Error {}

async function migrate(): Promise<void> {
  const url = process.env['DATABASE_URL'];
  if (!url) throw new UsageError('DATABASE_URL is not set (e.g. postgresql://root@127.0.0.1:5432/warmth).');
  if (await ensureDatabase(url)) console.log(`Created database ${databaseName(url)}.`);
  const started = Date.now();
  const applied = await applyMigrationsOnline(url);
  const took = `${Date.now() - started} ms`;
  if (applied.length === 0) console.log(`${redact(url)}: already up to date (${took}).`);
  else
    console.log(
      `${redact(url)}: applied ${applied.length} migration(s) in ${took}:\n  ${applied.join('\n  ')}`,
    );
}

async function migration(name: string | undefined): Promise<void> {
  if (!name) throw new UsageError('Usage: npm run db:migration -- <name>   (e.g. add_person_nickname)');
  const result = await createMigration(name);
  if (!result.created) {
    console.log('No changes: schema.prisma matches the migrations; nothing written.');
    return;
  }
  console.log(`Wrote ${relative(process.cwd(), result.dir)}/migration.sql (and the schema.prisma snapshot).`);
  console.log(
    'Review it (add hand-written SQL below the generated part if needed), then npm run db:migrate.',
  );
}

async function check(): Promise<void> {
  const result = await checkDrift({ adminUrl: adminUrlFromEnv() });
  if (result.ok) {
    console.log('OK: prisma/migrations and schema.prisma describe the same database.');
    return;
  }
  console.error(
    `Drift: prisma/migrations and schema.prisma disagree (${result.differences.length} difference(s)):\n  ` +
      result.differences.join('\n  ') +
      '\nIf schema.prisma changed on purpose, run: npm run db:migration -- <name>',
  );
  process.exitCode = 1;
}

const [command, arg] = process.argv.slice(2);
try {
  if (command === 'migrate') await migrate();
  else if (command === 'migration') await migration(arg);
  else if (command === 'check') await check();
  else throw new UsageError(`Unknown command "${command ?? ''}". Use: migrate | migration <name> | check`);
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = error instanceof UsageError ? 2 : 1;
}
