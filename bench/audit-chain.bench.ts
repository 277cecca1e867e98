// Benchmark: the cost of the audit hash chain on a concurrent write path. C writers (default 20) run
// N transactions (default 2,000) that each change a record and append its audit row, the shape of
// every use case (update + audit(tx, ...) in one transaction). Every audit insert takes the single chain
// position (the audit_chain row) until its transaction commits.
//
//   npm run bench:audit-chain -- [--count 2000] [--writers 20]
//
// Baseline in the same run: the same transactions with the chain trigger switched off (the audit
// trail as it was before: append-only, no hash). Then `verifyAuditChain` over everything written.
// Results go to bench/results/audit-chain.json.
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createDb } from '../src/adapters/db/client.ts';
import { audit } from '../src/usecases/audit.ts';
import { verifyAuditChain } from '../src/usecases/audit-chain.ts';
import { createTestDatabase } from '../test/support/db.ts';
import { summarize, writeResult } from './support.ts';

const { values: args } = parseArgs({
  options: { count: { type: 'string', default: '2000' }, writers: { type: 'string', default: '20' } },
});
const N = Number(args.count);
const WRITERS = Number(args.writers);

async function main() {
  const tdb = await createTestDatabase();
  const db = createDb(tdb.url, { poolSize: WRITERS });
  const admin = new pg.Client({ connectionString: tdb.url });
  await admin.connect();
  try {
    const people = await Promise.all(
      Array.from({ length: WRITERS }, (_, i) => db.person.create({ data: { displayName: `写入者${i}` } })),
    );
    const round = async (label: string) => {
      const times: number[] = [];
      let next = 0;
      const started = performance.now();
      await Promise.all(
        people.map(async (p) => {
          while (next < N) {
            const k = next++;
            const t0 = performance.now();
            await db.$transaction(async (tx) => {
              await tx.person.update({ where: { id: p.id }, data: { displayName: `${label}-${k}` } });
              await audit(tx, {
                actorId: p.id,
                action: 'bench.write',
                entity: 'person',
                entityId: p.id,
                before: { round: label },
                after: { k, note: '送温暖慰问金审核通过' },
              });
            });
            times.push(performance.now() - t0);
          }
        }),
      );
      const ms = performance.now() - started;
      return { ms: Math.round(ms), rows: N, rowsPerSecond: Math.round((N / ms) * 1000), ...summarize(times) };
    };

    // Warm-up (connections, plans), then the baseline without the chain, then with it.
    await round('warmup');
    await admin.query('ALTER TABLE audit_log DISABLE TRIGGER audit_log_chain');
    const baseline = await round('baseline');
    await admin.query('ALTER TABLE audit_log ENABLE TRIGGER audit_log_chain');
    // The baseline's rows have no chain position; remove them so the chain can be verified afterwards.
    await admin.query('ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_delete');
    await admin.query('DELETE FROM audit_log WHERE seq IS NULL');
    await admin.query('ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update_delete');
    const chained = await round('chained');

    const v0 = performance.now();
    const verdict = await verifyAuditChain(db);
    const verifyMs = performance.now() - v0;
    const result = {
      writers: WRITERS,
      ...chained,
      baseline,
      overheadMedianRatio: Math.round((chained.medianMs / baseline.medianMs) * 100) / 100,
      throughputRatio: Math.round((chained.rowsPerSecond / baseline.rowsPerSecond) * 100) / 100,
      verify: {
        ok: verdict.ok,
        rows: verdict.rows,
        ms: Math.round(verifyMs),
        rowsPerSecond: Math.round((verdict.rows / verifyMs) * 1000),
      },
      peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    };
    console.log(JSON.stringify(result, null, 2));
    console.log(`wrote ${writeResult('audit-chain', result)}`);
    if (!verdict.ok) process.exitCode = 1;
  } finally {
    await admin.end();
    await db.$disconnect();
    await tdb.drop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
