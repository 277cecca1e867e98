import { describe, expect, it } from 'vitest';
import { Prisma } from '../../src/adapters/db/client.ts';
import { directRows, sqlRows } from '../../src/adapters/db/direct-sql.ts';
import { type QueryScope, withQueryScope } from '../../src/adapters/db/query-scope.ts';
import { createPrisma } from '../support/db.ts';
import { useTestDatabase } from '../support/test-db.ts';

// The direct statements (direct-sql.ts) must answer exactly as $queryRaw does, type by type, for
// values read and parameters sent: the hot paths switch between the two by changing one call.

const { db, url } = useTestDatabase();

const both = async <T>(q: Prisma.Sql) => ({
  direct: await directRows<T>(db, q),
  prisma: await db.$queryRaw<T[]>(q),
});

describe('direct statements', () => {
  it('read every column type the app uses as $queryRaw reads it', async () => {
    const q = Prisma.sql`SELECT 1::int AS i4, 2::smallint AS i2, 9007199254740993::bigint AS i8,
        1.5::float8 AS f8, 12.34::numeric(10, 2) AS num, 'x'::text AS t, true AS b, NULL::text AS nothing,
        '2024-01-10 02:03:04.567'::timestamp(3) AS ts, '2024-01-10 02:03:04.567+08'::timestamptz AS tstz,
        '2024-02-05'::date AS d, ARRAY['a', 'b,c', NULL]::text[] AS ta, ARRAY[1, 2]::int[] AS ia,
        ARRAY[3, 4]::bigint[] AS i8a, ARRAY['2024-01-10 02:03:04'::timestamp] AS tsa,
        ARRAY['2024-02-05'::date] AS da, '{"a": [1, "b"], "c": null}'::json AS js,
        '{"k": 1}'::jsonb AS jsb, '[]'::json AS empty, 'draft'::"NominationStatus" AS en,
        ARRAY[]::text[] AS none, (SELECT v FROM cache_version WHERE id = 1) AS cache_ver`;
    const { direct, prisma } = await both<Record<string, unknown>>(q);
    expect(direct).toEqual(prisma);
    // Not only equal to each other: the types the callers rely on.
    expect(direct[0]).toMatchObject({
      i4: 1,
      i8: 9007199254740993n,
      ts: new Date('2024-01-10T02:03:04.567Z'),
      tstz: new Date('2024-01-09T18:03:04.567Z'),
      d: new Date('2024-02-05T00:00:00Z'),
      ta: ['a', 'b,c', null],
      i8a: [3n, 4n],
      js: { a: [1, 'b'], c: null },
      en: 'draft',
    });
    expect(String(direct[0]!['num'])).toBe('12.34');
  });

  it('send every parameter type as $queryRaw sends it', async () => {
    const at = new Date('2024-01-10T02:03:04.567Z');
    const q = Prisma.sql`SELECT ${at}::timestamp(3) AS ts, ${at}::timestamptz AS tstz, ${at}::date AS d,
        ${123456789012345678n}::bigint AS big, ${[1, 2, 3]}::int[] AS ints, ${['x', null]}::text[] AS texts,
        ${null}::text AS nothing, ${true}::boolean AS yes, ${2.5}::float8 AS f, ${'它'}::text AS zh,
        ${{ a: 1 }}::jsonb AS obj, ${new Prisma.Decimal('1.25')}::numeric AS dec,
        ${[at]}::timestamp(3)[] AS tsa, ${Prisma.sql`${5}::int + 1`} AS fragment`;
    const { direct, prisma } = await both<Record<string, unknown>>(q);
    expect(direct).toEqual(prisma);
    expect(direct[0]).toMatchObject({
      ts: at,
      tstz: at,
      big: 123456789012345678n,
      ints: [1, 2, 3],
      texts: ['x', null],
      obj: { a: 1 },
      tsa: [at],
      fragment: 6,
    });
  });

  it('is counted in the update’s query scope, and writes as $queryRaw writes', async () => {
    const scope: QueryScope = { statements: [] };
    const at = new Date('2024-03-01T08:00:00.123Z');
    const rows = await withQueryScope(
      scope,
      () =>
        sqlRows<{ id: number; last_seen_at: Date; telegram_id: bigint }>(db)`
        INSERT INTO person (telegram_id, display_name, last_seen_at, created_at)
        VALUES (${424242n}, ${'直连'}, ${at}, ${at}) RETURNING id, last_seen_at, telegram_id`,
    );
    expect(scope.statements).toHaveLength(1);
    expect(scope.statements[0]).toMatch(/INSERT INTO person/);
    expect(rows[0]).toMatchObject({ last_seen_at: at, telegram_id: 424242n });
    const back = await db.person.findUniqueOrThrow({ where: { id: rows[0]!.id } });
    expect(back.lastSeenAt).toEqual(at);
    expect(back.telegramId).toBe(424242n);
  });

  it('a transaction client goes through $queryRaw (its statements stay on its connection)', async () => {
    const seen = await db.$transaction(async (tx) => {
      await tx.$executeRaw`SET LOCAL application_name = 'direct-sql-tx'`;
      return sqlRows<{ name: string }>(tx)`SELECT current_setting('application_name') AS name`;
    });
    expect(seen[0]!.name).toBe('direct-sql-tx');
  });

  it('an idle connection the server ends is dropped quietly, and the next statement works', async () => {
    // A client whose first statement is a direct one (Prisma has not connected: its adapter adds its own
    // listener only then). Without the pool's listener the server's report is an uncaught exception,
    // which fails this run.
    const fresh = createPrisma(url);
    try {
      const [me] = await sqlRows<{ pid: number }>(fresh)`SELECT pg_backend_pid() AS pid`;
      await db.$queryRaw`SELECT pg_terminate_backend(${me!.pid}::int)`;
      await new Promise((r) => setTimeout(r, 200)); // the report reaches the idle client
      const [again] = await sqlRows<{ pid: number }>(fresh)`SELECT pg_backend_pid() AS pid`;
      expect(again!.pid).not.toBe(me!.pid);
    } finally {
      await fresh.$disconnect();
    }
  });

  it('every session runs in UTC on a server set to Asia/Shanghai: column defaults are UTC, as Prisma writes', async () => {
    const name = url.split('/').pop()!.split('?')[0]!;
    await db.$executeRawUnsafe(`ALTER DATABASE "${name}" SET timezone = 'Asia/Shanghai'`);
    // Also when the URL carries options of its own (pg lets them replace the pool's).
    const withOwn = `${url}${url.includes('?') ? '&' : '?'}options=${encodeURIComponent('-c search_path=public')}`;
    try {
      for (const u of [url, withOwn]) {
        const fresh = createPrisma(u);
        try {
          // Both paths: a direct statement and one through Prisma's adapter.
          const [direct] = await sqlRows<{ tz: string; at: Date; path: string }>(fresh)`
            SELECT current_setting('TimeZone') AS tz, LOCALTIMESTAMP::timestamp(3) AS at,
              current_setting('search_path') AS path`;
          const [viaPrisma] = await fresh.$queryRaw<{ tz: string; at: Date; path: string }[]>`
            SELECT current_setting('TimeZone') AS tz, LOCALTIMESTAMP::timestamp(3) AS at,
              current_setting('search_path') AS path`;
          for (const r of [direct!, viaPrisma!]) {
            expect(r.tz).toBe('UTC');
            expect(Math.abs(r.at.getTime() - Date.now())).toBeLessThan(60_000);
            if (u === withOwn) expect(r.path).toBe('public');
          }
        } finally {
          await fresh.$disconnect();
        }
      }
    } finally {
      await db.$executeRawUnsafe(`ALTER DATABASE "${name}" RESET timezone`);
    }
  });

  it('$disconnect closes the connections of a client that sent direct statements only', async () => {
    const fresh = createPrisma(url);
    const [me] = await sqlRows<{ pid: number }>(fresh)`SELECT pg_backend_pid() AS pid`;
    await fresh.$disconnect();
    let open = 1;
    for (let i = 0; i < 40 && open > 0; i++) {
      const [row] = await db.$queryRaw<{ n: number }[]>`
        SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = ${me!.pid}::int`;
      open = row!.n;
      if (open > 0) await new Promise((r) => setTimeout(r, 50));
    }
    expect(open).toBe(0);
  });

  it('a constraint violation rejects without the row’s values, and a disconnected client still works', async () => {
    const err = await sqlRows(db)`
      INSERT INTO person (telegram_id, display_name) VALUES (${515151n}, NULL)`.catch((e: unknown) => e);
    expect(err).toMatchObject({ code: '23502' });
    expect(JSON.stringify(err)).not.toContain('515151');
    const later = createPrisma(url);
    await later.$queryRaw`SELECT 1 AS one`;
    await later.$disconnect();
    // Prisma connects again after $disconnect (a pool of its own); the direct path follows it there.
    const [again] = await sqlRows<{ one: number }>(later)`SELECT 1 AS one`;
    expect(again!.one).toBe(1);
    await later.$disconnect();
  });

  it('a failing statement rejects with the database’s error', async () => {
    await expect(sqlRows(db)`SELECT 1/0 AS boom`).rejects.toThrow(/division by zero/);
  });
});
