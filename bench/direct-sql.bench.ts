// Benchmark: one statement sent directly on the Prisma client's pg pool (direct-sql.ts, what the hot
// paths use: touchPerson on every update) against the same statement through Prisma's $queryRaw (the
// baseline, same run, same pool, same database): CPU of this process per statement and wall time per
// statement, one statement at a time. Three statements: `SELECT 1`, touchPerson's own (the person
// with their grants aggregated and the cache version) and a row of 40 columns (a nomination).
//
//   npm run bench:direct-sql        (N=2000 statements per kind and path, after 300 warm-up ones)
import { type Db, Prisma } from '../src/adapters/db/client.ts';
import { directRows } from '../src/adapters/db/direct-sql.ts';
import { createPrisma, createTestDatabase } from '../test/support/db.ts';
import { writeResult } from './support.ts';

const N = Number(process.env['N'] ?? 2000);
const WARM = 300;

async function perStatement(run: () => Promise<unknown>) {
  for (let i = 0; i < WARM; i++) await run();
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < N; i++) await run();
  const wall = performance.now() - t0;
  const used = process.cpuUsage(cpu);
  const r = (x: number) => Math.round(x * 1000) / 1000;
  return { cpuMsPerStatement: r((used.user + used.system) / 1000 / N), msPerStatement: r(wall / N) };
}

const tdb = await createTestDatabase();
const db = createPrisma(tdb.url) as unknown as Db;
try {
  const person = await db.person.create({ data: { telegramId: 777n, displayName: '基准' } });
  await db.roleGrant.create({ data: { personId: person.id, role: 'reviewer', scope: 'global' } });
  const touch = Prisma.sql`SELECT p.id, p.telegram_id, p.display_name, p.username, p.locale,
      p.telegram_language, p.last_seen_at, (SELECT v FROM cache_version WHERE id = 1) AS cache_ver,
      COALESCE(json_agg(json_build_object('role', g.role, 'unionId', g.union_id))
        FILTER (WHERE g.id IS NOT NULL), '[]'::json) AS grants
    FROM person p LEFT JOIN role_grant g ON g.person_id = p.id AND g.revoked_at IS NULL
    WHERE p.telegram_id = ${777n} GROUP BY p.id`;
  // A nomination's 40 columns (no row needs to exist: the right join returns one row of nulls).
  const wide = Prisma.sql`SELECT n.* FROM nomination n RIGHT JOIN (SELECT 1) x ON false`;
  const kinds = { select1: Prisma.sql`SELECT 1 AS x`, touchPerson: touch, nominationRow: wide };
  const out: Record<string, unknown> = {};
  for (const [name, q] of Object.entries(kinds)) {
    // Interleaved: baseline, direct, baseline, direct (the machine's load drifts between the halves).
    const b1 = await perStatement(() => db.$queryRaw(q));
    const d1 = await perStatement(() => directRows(db, q));
    const b2 = await perStatement(() => db.$queryRaw(q));
    const d2 = await perStatement(() => directRows(db, q));
    const mean = (a: number, b: number) => Math.round(((a + b) / 2) * 1000) / 1000;
    const direct = {
      cpuMsPerStatement: mean(d1.cpuMsPerStatement, d2.cpuMsPerStatement),
      msPerStatement: mean(d1.msPerStatement, d2.msPerStatement),
    };
    const baseline = {
      what: 'the same statement through Prisma $queryRaw',
      cpuMsPerStatement: mean(b1.cpuMsPerStatement, b2.cpuMsPerStatement),
      msPerStatement: mean(b1.msPerStatement, b2.msPerStatement),
    };
    out[name] = {
      ...direct,
      baseline,
      cpuRatio: Math.round((direct.cpuMsPerStatement / baseline.cpuMsPerStatement) * 100) / 100,
      runs: { baseline: [b1, b2], direct: [d1, d2] },
    };
    console.log(name, JSON.stringify(out[name]));
  }
  const result = { date: new Date().toISOString(), node: process.version, statements: N, ...out };
  console.log(`written to ${writeResult('direct-sql', result)}`);
} finally {
  await db.$disconnect();
  await tdb.drop();
}
