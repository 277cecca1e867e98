import { loadConfig } from '../config.ts';
import { failCli } from './fail.ts';
import { createDb } from '../adapters/db/client.ts';
import { describeChainProblem, formatChainHead, parseChainHead } from '../domain/audit/chain.ts';
import { verifyAuditChain } from '../usecases/audit-chain.ts';

// npm run audit:verify [-- "#<seq> <hash>"]
// Recomputes the audit trail's hash chain and names the first row that was changed, deleted or
// inserted out of order. With a head copied from an exported ledger or report, also checks that the
// chain still passes through it. Exit code 0 intact, 1 broken, 2 bad usage. Nothing is changed.

async function main() {
  const arg = process.argv.slice(2).join(' ').trim();
  const held = arg ? parseChainHead(arg) : undefined;
  if (arg && !held) {
    console.error(
      'usage: npm run audit:verify [-- "#<position> <64 hex hash>"] (the head printed in a ledger or report)',
    );
    process.exit(2);
  }
  const config = loadConfig();
  const db = createDb(config.databaseUrl);
  try {
    const started = Date.now();
    const v = await verifyAuditChain(db, held ? { held } : {});
    const ms = Date.now() - started;
    if (v.ok) {
      console.log(
        `audit trail intact: ${v.rows} row(s) checked in ${ms} ms; head ${formatChainHead(v.head)}`,
      );
      if (held) console.log(`the chain passes through the held head ${formatChainHead(held)}`);
      return;
    }
    console.log(`AUDIT TRAIL BROKEN: ${describeChainProblem(v.problem!)}`);
    console.log(`(${v.rows} row(s) checked before the break; stored head ${formatChainHead(v.head)})`);
    process.exitCode = 1;
  } finally {
    await db.$disconnect();
  }
}

main().catch(failCli);
