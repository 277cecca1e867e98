import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Db } from '../../src/adapters/db/client.ts';
import { type QueryScope, withQueryScope } from '../../src/adapters/db/query-scope.ts';
import { ReadCache } from '../../src/adapters/db/read-cache.ts';
import { campaignRow, categoryRow } from '../../src/usecases/cached-reads.ts';
import { touchPerson } from '../../src/usecases/people.ts';
import { seedCampaign, seedContact } from '../support/fixtures.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

// The per-process read cache (src/adapters/db/read-cache.ts, README "Caches and invalidation") against
// the real PostgreSQL: two caches stand for two bot processes. Each "update" runs as bot.ts runs one: a
// query scope carrying the process's cache, touchPerson first (it reads the cache version in its one
// statement), then the cached reads. Changes are made the ways they happen: through Prisma (the bot's
// use cases) and by direct SQL (the admin CLI, fixtures, an operator in psql).

let tdb: TestDatabase;
let db: Db;
const USER = { id: 97_001, first_name: '缓存', language_code: 'zh-hans' };

beforeAll(async () => {
  tdb = await createTestDatabase();
  db = createDb(tdb.url, { poolSize: 4 });
});
afterAll(async () => {
  await db?.$disconnect();
  await tdb?.drop();
});

/** One update in the process owning `cache`: the statements it sent and what `fn` returned. */
async function update<T>(cache: ReadCache, fn: () => Promise<T>) {
  const scope: QueryScope = { statements: [], cache };
  const value = await withQueryScope(scope, async () => {
    const who = await touchPerson(db, USER);
    return { who, r: await fn() };
  });
  return { ...value, statements: scope.statements };
}

const version = async () => (await db.cacheVersion.findUniqueOrThrow({ where: { id: 1 } })).v;

describe('read cache checked once per update', () => {
  it('serves campaigns and categories from memory until any process or direct SQL changes them', async () => {
    const c = await seedCampaign(db as never, {
      categories: [
        { code: 'f', kind: 'frontline_worker', nameZh: '一线职工', amountYuan: 150, forms: ['in_kind'] },
      ],
    });
    const cat = c.categories[0]!;
    const a = new ReadCache();
    const b = new ReadCache();
    const read = () => Promise.all([campaignRow(db, c.id), categoryRow(db, cat.id)]);

    // A first contact's update creates the person and uses no cache; then the first update of each
    // process loads, and the next ones send only touchPerson's statement.
    await update(a, async () => null);
    await update(a, read);
    await update(b, read);
    const again = await update(a, read);
    expect(again.statements).toHaveLength(1);
    expect(again.r[0]!.titleZh).toBe(c.titleZh);
    expect(a.hits).toBe(2);

    // A change by direct SQL is seen by the very next update of both processes.
    await db.$executeRawUnsafe(`UPDATE campaign SET title_zh = '改名后的活动' WHERE id = ${c.id}`);
    for (const p of [a, b]) {
      const u = await update(p, read);
      expect(u.r[0]!.titleZh).toBe('改名后的活动');
      expect(u.statements.length).toBe(3);
    }
    await db.$executeRawUnsafe(
      `UPDATE campaign_category SET standard_amount_fen = 20000 WHERE id = ${cat.id}`,
    );
    expect((await update(b, read)).r[1]!.standardAmountFen).toBe(20_000);
    expect((await update(a, read)).r[1]!.standardAmountFen).toBe(20_000);

    // A change through Prisma (as the bot's use cases make it: /deadline, campaign load) likewise.
    const closes = new Date('2031-01-31T16:00:00Z');
    await db.campaign.update({
      where: { id: c.id },
      data: { nominationClosesAt: closes, status: 'archived' },
    });
    for (const p of [b, a]) {
      const [campaign] = (await update(p, read)).r;
      expect(campaign!.nominationClosesAt).toEqual(closes);
      expect(campaign!.status).toBe('archived');
    }

    // Outside an update (workers, CLI) nothing is cached.
    await db.$executeRawUnsafe(`UPDATE campaign SET title_zh = '再次改名' WHERE id = ${c.id}`);
    expect((await campaignRow(db, c.id))!.titleZh).toBe('再次改名');
  });

  it('grants and revokes, by Prisma or by direct SQL, are seen at once and bump the version', async () => {
    const a = new ReadCache();
    const b = new ReadCache();
    const { person, union } = await seedContact(db as never, 97_002, '缓存测试工会');
    const first = await update(a, async () => null);
    expect(first.who.access.roles.has('reviewer')).toBe(false);

    const v0 = await version();
    await db.roleGrant.create({ data: { personId: first.who.id, role: 'reviewer', scope: '' } });
    expect(await version()).toBeGreaterThan(v0);
    for (const p of [a, b])
      expect((await update(p, async () => null)).who.access.roles.has('reviewer')).toBe(true);

    const v1 = await version();
    await db.$executeRawUnsafe(
      `UPDATE role_grant SET revoked_at = now() WHERE person_id = ${first.who.id} AND role = 'reviewer'`,
    );
    expect(await version()).toBeGreaterThan(v1);
    for (const p of [b, a])
      expect((await update(p, async () => null)).who.access.roles.has('reviewer')).toBe(false);

    // A union renamed by SQL bumps the version too (its name is cached with the dialog's campaign).
    const v2 = await version();
    await db.$executeRawUnsafe(`UPDATE grassroots_union SET name = '改名工会' WHERE id = ${union.id}`);
    expect(await version()).toBeGreaterThan(v2);
    expect(person.id).toBeGreaterThan(0);
  });
});
