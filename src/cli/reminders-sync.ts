import { ConfigError, loadConfig } from '../config.ts';
import { createDb } from '../adapters/db/client.ts';
import { Queues } from '../adapters/queue/queues.ts';
import { syncReminders } from '../usecases/reminders.ts';

// npm run reminders:sync [-- <campaign id>]
// Re-derives every reminder from PostgreSQL and brings the `reminders` queue in line: missing delayed jobs
// are re-added (e.g. after Redis lost its data), moved ones rescheduled, obsolete ones cancelled.
// Safe to run at any time, also while the worker runs (syncs of one campaign are serialised).

async function main() {
  const arg = process.argv[2];
  if (arg !== undefined && !/^\d+$/.test(arg)) {
    console.error('usage: npm run reminders:sync [-- <campaign id>]');
    process.exit(2);
  }
  const config = loadConfig();
  const db = createDb(config.databaseUrl);
  const queues = new Queues(config.redisUrl, config.queuePrefix);
  try {
    const r = await syncReminders(db, queues, {
      now: new Date(),
      ...(arg !== undefined ? { campaignId: Number(arg) } : {}),
    });
    console.log(
      `campaigns ${r.campaigns}: ${r.desired} reminders due; created ${r.created}, rescheduled ${r.rescheduled}, ` +
        `cancelled ${r.cancelled}, jobs checked ${r.ensured}, too late to create ${r.skippedLate}`,
    );
  } finally {
    await queues.close();
    await db.$disconnect();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(err instanceof ConfigError ? 2 : 1);
});
