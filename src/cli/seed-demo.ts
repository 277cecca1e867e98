import { loadConfig } from '../config.ts';
import { createDb, type Db } from '../adapters/db/client.ts';
import { grantRole } from '../usecases/people.ts';

// npm run seed:demo — a demo federation, two grassroots unions, an admin, a reviewer, a finance
// officer, a contact and the example campaign, so a newcomer can try every role in the sandbox.
// Idempotent: running it again changes nothing.

export const DEMO_PEOPLE = [
  { telegramId: 1001n, name: '王主任（管理员）', role: 'admin' as const },
  { telegramId: 1002n, name: '李审核（审核人员）', role: 'reviewer' as const },
  { telegramId: 1003n, name: '赵会计（财务人员）', role: 'finance' as const },
  { telegramId: 1004n, name: '张联系（基层工会联系人）', role: 'contact' as const },
];

export async function seedDemo(db: Db) {
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
  return { federation, unions };
}

async function main() {
  const config = loadConfig();
  const db = createDb(config.databaseUrl);
  try {
    const { unions } = await seedDemo(db);
    console.log('Demo data is ready. Chat as:');
    for (const p of DEMO_PEOPLE) console.log(`  npm run chat -- --user ${p.telegramId}    # ${p.name}`);
    console.log(`Grassroots unions: ${unions.map((u) => `${u.id}. ${u.name}`).join('; ')}`);
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
