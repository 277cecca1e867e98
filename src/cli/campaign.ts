import { Queues } from '../adapters/queue/queues.ts';
import { onCampaignChanged } from '../usecases/reminders.ts';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { ConfigError, loadConfig } from '../config.ts';
import { createDb, type Db } from '../adapters/db/client.ts';
import { formatShanghaiDateTime } from '../domain/calendar/date.ts';
import { type CampaignChange, type CampaignProblem, formatYuan } from '../domain/campaign/index.ts';
import { listCampaigns, loadCampaign } from '../usecases/campaigns.ts';

// npm run campaign -- load <file.yaml>   create or update a campaign from its file (exit 1 if refused)
// npm run campaign -- list               campaigns with their state and nomination counts
// Audit rows written from here record no actor.

const usage = 'usage: npm run campaign -- load <file.yaml>\n       npm run campaign -- list';

const where = (p: CampaignProblem<string>) =>
  [p.path || '(file)', p.line !== undefined ? `line ${p.line}:${p.col ?? 1}` : ''].filter(Boolean).join(' ');

const value = (v: CampaignChange['before']) => (v === null ? '(none)' : String(v));

export function describeChange(c: CampaignChange): string {
  if (c.kind === 'added') return `+ ${c.path}: ${value(c.after)}`;
  if (c.kind === 'removed') return `- ${c.path}: ${value(c.before)}`;
  return `~ ${c.path}: ${value(c.before)} -> ${value(c.after)}`;
}

async function load(db: Db, file: string, redisUrl: string): Promise<number> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    console.error(`cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  const r = await loadCampaign(db, { actorId: null, text, sourceName: basename(file) });
  if (!r.ok) {
    console.error(`${file}: ${r.problems.length} problem(s), nothing was loaded:`);
    for (const p of r.problems) console.error(`  ${where(p)}: ${p.message} [${p.code}]`);
    return 1;
  }
  console.log(`${r.outcome}: ${r.campaign.code} (${r.campaign.title.zh}), id ${r.campaign.id}`);
  for (const c of r.changes) console.log(`  ${describeChange(c)}`);
  for (const w of r.warnings) console.log(`  warning: ${where(w)}: ${w.message}`);
  if (r.outcome !== 'unchanged') {
    // Reminders follow the timeline: re-derive them now rather than at the worker's next start.
    const queues = new Queues(redisUrl, 'warmth');
    try {
      await onCampaignChanged(db, queues, r.campaign.id, new Date());
    } catch (err) {
      console.error(
        `reminders not re-synced (run npm run reminders:sync): ${err instanceof Error ? err.message : String(err)}`,
      );
    } finally {
      await queues.close();
    }
  }
  return 0;
}

async function list(db: Db): Promise<void> {
  const campaigns = await listCampaigns(db, new Date());
  if (campaigns.length === 0) console.log('no campaigns yet');
  for (const c of campaigns) {
    const counts = Object.entries(c.nominations)
      .map(([s, n]) => `${s} ${n}`)
      .join(', ');
    console.log(
      `${c.id}. ${c.code}  [${c.state}]  ${c.title.zh}\n` +
        `   nominations ${formatShanghaiDateTime(c.timeline.nominationOpens)} - ${formatShanghaiDateTime(c.timeline.nominationCloses)}, ` +
        `review by ${formatShanghaiDateTime(c.timeline.reviewDeadline)}, payment ${c.timeline.targetPaymentDate}\n` +
        `   budget ${formatYuan(c.budget.totalFen)} (unions ${formatYuan(c.budget.allocatedToUnionsFen)}); ` +
        `nominations: ${c.nominationsTotal}${counts ? ` (${counts})` : ''}`,
    );
    for (const k of c.categories) {
      console.log(
        `   - ${k.code}: ${k.name.zh}, ${formatYuan(k.standardAmountFen)} (${k.benefitForms.join(', ')})`,
      );
    }
  }
}

async function main(): Promise<number> {
  const [cmd, file] = process.argv.slice(2);
  if (!(cmd === 'list' || (cmd === 'load' && file))) {
    console.error(usage);
    return 2;
  }
  const config = loadConfig();
  const db = createDb(config.databaseUrl);
  try {
    if (cmd === 'list') {
      await list(db);
      return 0;
    }
    return await load(db, file!, config.redisUrl);
  } finally {
    await db.$disconnect();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main()
    .then((code) => {
      process.exitCode = code;
    })
    .catch((err: unknown) => {
      if (err instanceof ConfigError) {
        console.error(err.message);
        process.exit(2);
      }
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    });
}
