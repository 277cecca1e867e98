import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { loadConfig } from '../config.ts';
import { createDb, type Db } from '../adapters/db/client.ts';
import { addDays, formatShanghaiDateTime, shanghaiDateOf } from '../domain/calendar/date.ts';
import { defaultCalendar } from '../domain/calendar/index.ts';
import { packageRoot } from '../adapters/package-root.ts';
import { grantRole } from '../usecases/people.ts';
import { loadCampaign } from '../usecases/campaigns.ts';

// npm run seed:demo — a demo federation, two grassroots unions, an admin, a reviewer, a finance
// officer, a contact and the example campaign, so a newcomer can try every role in the sandbox. The
// campaign (code `fumin-demo`) is the shipped example with its timeline moved around today, so that
// nominations are open right away.
// Idempotent: running it again the same day changes nothing (a later day only moves the timeline).

export const DEMO_PEOPLE = [
  { telegramId: 1001n, name: '王主任（管理员）', role: 'admin' as const },
  { telegramId: 1002n, name: '李审核（审核人员）', role: 'reviewer' as const },
  { telegramId: 1003n, name: '赵会计（财务人员）', role: 'finance' as const },
  { telegramId: 1004n, name: '张联系（基层工会联系人）', role: 'contact' as const },
];

/** Someone to nominate and to bind with the recipient's link (no role: not created by the seed). */
export const DEMO_RECIPIENT = { telegramId: 2001n, name: '王小红（慰问对象）' };

export const DEMO_CAMPAIGN_CODE = 'fumin-demo';
const EXAMPLE_CAMPAIGN = join(packageRoot, 'campaigns', 'example-2024-spring.yaml');

/**
 * The example campaign file with its own code and a timeline around `now`, so that nominations are open
 * in the demo: opened yesterday 09:00, close in 14 days at 18:00, review a week later, payment 3 working
 * days after that (Asia/Shanghai). Comments and everything else stay as in the example.
 */
export function demoCampaignText(exampleText: string, now: Date): string {
  const doc = parseDocument(exampleText);
  const today = shanghaiDateOf(now);
  const closes = addDays(today, 14);
  const review = addDays(closes, 7);
  doc.set('code', DEMO_CAMPAIGN_CODE);
  doc.setIn(['title', 'zh'], '富民县总工会元旦春节送温暖活动（演示）');
  doc.setIn(['title', 'en'], 'Fumin County Federation of Trade Unions Send Warmth Campaign (demo)');
  doc.setIn(['timeline', 'nomination_opens'], `${addDays(today, -1)} 09:00`);
  doc.setIn(['timeline', 'nomination_closes'], `${closes} 18:00`);
  doc.setIn(['timeline', 'review_deadline'], `${review} 18:00`);
  doc.setIn(['timeline', 'target_payment_date'], defaultCalendar.addWorkingDays(review, 3));
  return doc.toString();
}

export async function seedDemo(db: Db, now = new Date()) {
  const federation =
    (await db.federation.findFirst({ where: { name: '富民县总工会（演示）' } })) ??
    (await db.federation.create({
      data: {
        name: '富民县总工会（演示）',
        centers: { create: { name: '富民县困难职工帮扶服务中心（演示）' } },
      },
    }));
  const unions = [];
  for (const name of ['县人民医院工会（演示）', '县邮政快递行业工会（演示）']) {
    unions.push(
      await db.union.upsert({
        where: { federationId_name: { federationId: federation.id, name } },
        create: { federationId: federation.id, name },
        update: {},
      }),
    );
  }
  for (const p of DEMO_PEOPLE) {
    await db.person.upsert({
      where: { telegramId: p.telegramId },
      create: { telegramId: p.telegramId, displayName: p.name, telegramLanguage: 'zh-hans' },
      update: {},
    });
    await grantRole(db, {
      actorId: null,
      telegramId: p.telegramId,
      role: p.role,
      ...(p.role === 'contact' ? { unionId: unions[0]!.id } : {}),
    });
  }
  const loaded = await loadCampaign(db, {
    actorId: null,
    text: demoCampaignText(readFileSync(EXAMPLE_CAMPAIGN, 'utf8'), now),
    sourceName: 'example-2024-spring.yaml (demo timeline)',
    federationId: federation.id,
    now,
  });
  if (!loaded.ok) {
    throw new Error(
      `demo campaign refused: ${loaded.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
    );
  }
  return { federation, unions, campaign: loaded.campaign };
}

async function main() {
  const config = loadConfig();
  const db = createDb(config.databaseUrl);
  try {
    const { unions, campaign } = await seedDemo(db);
    console.log('Demo data is ready.');
    if (config.sandbox)
      console.log(
        `Open the sandbox in a browser (while npm start runs): http://127.0.0.1:${config.emulatorPort}/\nOr chat in a terminal as:`,
      );
    else console.log('Chat as:');
    for (const p of [...DEMO_PEOPLE, DEMO_RECIPIENT])
      console.log(`  npm run chat -- --user ${p.telegramId}    # ${p.name}`);
    console.log(`Grassroots unions: ${unions.map((u) => `${u.id}. ${u.name}`).join('; ')}`);
    console.log(
      `Campaign ${campaign.code} (${campaign.title.zh}): nominations open until ${formatShanghaiDateTime(campaign.timeline.nominationCloses)}`,
    );
  } finally {
    await db.$disconnect();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
