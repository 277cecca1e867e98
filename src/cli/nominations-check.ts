import { loadConfig } from '../config.ts';
import { failCli } from './fail.ts';
import { createDb } from '../adapters/db/client.ts';
import { listPayableViolations } from '../usecases/nominations/payable-check.ts';

// npm run nominations:check
// Lists nominations past the draft that miss what their benefit form needs to be paid (transfer: bank
// and card; every form: the form and the amount; unit condolence: the unit). Exit code 1 when any is
// found, so it can run after an upgrade or in monitoring. Nothing is changed.

async function main() {
  const config = loadConfig();
  const db = createDb(config.databaseUrl);
  try {
    const list = await listPayableViolations(db);
    if (list.length === 0) {
      console.log('every submitted nomination has what its benefit form needs');
      return;
    }
    console.log(
      `${list.length} nomination(s) cannot be paid as stored (return them for correction or reject them):`,
    );
    for (const v of list)
      console.log(
        `  #${v.id} campaign ${v.campaignId} union ${v.unionId} ${v.status}: missing ${v.gaps.join(', ')}`,
      );
    process.exitCode = 1;
  } finally {
    await db.$disconnect();
  }
}

main().catch(failCli);
