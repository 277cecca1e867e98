// Benchmark: a campaign opening at province scale. N active contacts (default 20,000) in U unions (default
// 2,000), seeded with SQL; measured: queueing the opening notice for every contact (`fanOutOpening`: bulk
// insert + bulk jobs), running it again (a worker restart: nothing new), and /announce_status over the U
// unions. Baseline in the same run: the same notices queued one by one with `enqueueNotice` (the API every
// other notice uses) for a second campaign. Sending itself is bounded by Telegram (30 messages/s: 20,000
// messages need at least 11 minutes whatever the design); `npm run bench:notices` measures that part.
//
//   npm run bench:opening -- [--contacts 20000] [--unions 2000] [--baseline-sample 2000]
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { createDb } from '../src/adapters/db/client.ts';
import { Queues } from '../src/adapters/queue/queues.ts';
import { announceStatus, fanOutOpening, openingKey } from '../src/usecases/announcements.ts';
import { enqueueNotice } from '../src/usecases/notices.ts';
import { createTestDatabase } from '../test/support/db.ts';
import { REDIS_URL, writeResult } from './support.ts';

const { values: args } = parseArgs({
  options: {
    contacts: { type: 'string', default: '20000' },
    unions: { type: 'string', default: '2000' },
    'baseline-sample': { type: 'string', default: '2000' },
  },
});
const CONTACTS = Number(args.contacts);
const UNIONS = Number(args.unions);
/** The baseline (one notice at a time) runs on this many contacts: its rate is the comparison. */
const SAMPLE = Math.min(CONTACTS, Number(args['baseline-sample']));
const NOW = new Date('2026-03-02T02:00:00Z'); // 10:00 in Shanghai, a Monday: not quiet hours

const rss = () => Math.round(process.memoryUsage().rss / 1024 / 1024);
async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t = performance.now();
  const value = await fn();
  return { ms: Math.round((performance.now() - t) * 10) / 10, value };
}

async function main() {
  const tdb = await createTestDatabase();
  const db = createDb(tdb.url);
  const queues = new Queues(REDIS_URL, `bench-open-${randomBytes(4).toString('hex')}`);
  let peak = rss();
  const sample = setInterval(() => {
    peak = Math.max(peak, rss());
  }, 50);
  try {
    const fed = await db.federation.create({ data: { name: '省总工会' } });
    await db.$executeRaw`
      INSERT INTO grassroots_union (federation_id, name)
      SELECT ${fed.id}, '基层工会' || g FROM generate_series(1, ${UNIONS}) g`;
    await db.$executeRaw`
      INSERT INTO person (telegram_id, display_name, telegram_language)
      SELECT 9000000000 + g, 'c' || g, CASE WHEN g % 5 = 0 THEN 'en' ELSE 'zh-hans' END
      FROM generate_series(1, ${CONTACTS}) g`;
    await db.$executeRaw`
      INSERT INTO role_grant (person_id, role, scope, union_id)
      SELECT p.id, 'contact', 'union:' || u.id, u.id
      FROM (SELECT id, row_number() OVER (ORDER BY id) AS k FROM person) p
      JOIN (SELECT id, row_number() OVER (ORDER BY id) AS k FROM grassroots_union) u
        ON u.k = ((p.k - 1) % ${UNIONS}) + 1`;
    const campaign = (code: string) =>
      db.campaign.create({
        data: {
          code,
          federationId: fed.id,
          titleZh: '送温暖活动',
          titleEn: 'Send Warmth',
          organiser: '省总工会',
          status: 'open',
          budgetTotalFen: 1n,
          nominationOpensAt: new Date('2026-03-02T01:00:00Z'),
          nominationClosesAt: new Date('2026-03-13T09:00:00Z'),
          reviewDeadline: new Date('2026-03-20T09:00:00Z'),
          targetPaymentDate: new Date('2026-03-31T00:00:00Z'),
        },
      });
    const a = await campaign('bench-open-a');
    const b = await campaign('bench-open-b');

    const first = await timed(() => fanOutOpening(db, queues, a.id, NOW));
    const again = await timed(() => fanOutOpening(db, queues, a.id, NOW));
    const status = await timed(() => announceStatus(db, a.id, NOW));

    const persons = await db.person.findMany({ select: { id: true }, orderBy: { id: 'asc' }, take: SAMPLE });
    const baseline = await timed(async () => {
      for (const p of persons) {
        await enqueueNotice(db, queues, {
          uniqueKey: openingKey(b.id, p.id),
          kind: 'campaign_opened',
          personId: p.id,
          campaignId: b.id,
          template: 'announce.opened',
        });
      }
    });
    const rows = await db.notice.count({ where: { campaignId: a.id } });
    const jobs = await queues.get('notifications').count();
    const perSecond = (n: number, ms: number) => Math.round((n / ms) * 1000);
    const result = {
      date: new Date().toISOString(),
      note: 'Queueing only (no worker): sending is bounded by Telegram (30 messages/s). Measured on a shared, busy machine.',
      setup: { contacts: CONTACTS, unions: UNIONS },
      fanOut: {
        ms: first.ms,
        rows: first.value.created,
        rowsPerSecond: perSecond(first.value.created, first.ms),
      },
      rerun: { ms: again.ms, rows: again.value.created },
      status: { ms: status.ms, rows: status.value?.unions.length ?? 0 },
      check: { noticeRows: rows, jobsInQueue: jobs },
      peakRssMb: peak,
      baseline: {
        what: 'enqueueNotice once per contact (upsert + add) for the first `rows` contacts, second campaign',
        ms: baseline.ms,
        rows: persons.length,
        rowsPerSecond: perSecond(persons.length, baseline.ms),
      },
    };
    const file = writeResult('opening', result);
    console.log(JSON.stringify(result, null, 2));
    console.log(`written to ${file}`);
  } finally {
    clearInterval(sample);
    await queues.get('notifications').obliterate({ force: true });
    await queues.close();
    await db.$disconnect();
    await tdb.drop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
