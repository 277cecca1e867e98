import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { audit } from '../../src/usecases/audit.ts';
import { readChainHead, verifyAuditChain } from '../../src/usecases/audit-chain.ts';
import { formatChainHead } from '../../src/domain/audit/chain.ts';
import { createPrisma, createTestDatabase, type TestDatabase } from '../support/db.ts';

// Issue 15: the audit trail is a hash chain. Someone with database rights (a superuser here) switches
// the append-only trigger off, rewrites history and switches it back on; the verifier names the row.

let tdb: TestDatabase;
let db: ReturnType<typeof createPrisma>;
let sql: pg.Client;

beforeEach(async () => {
  tdb = await createTestDatabase();
  db = createPrisma(tdb.url);
  sql = new pg.Client({ connectionString: tdb.url });
  await sql.connect();
});
afterEach(async () => {
  await sql?.end();
  await db?.$disconnect();
  await tdb?.drop();
});

/** Ten audit rows through the app's own paths (create in a transaction, and createMany). */
async function writeHistory(): Promise<bigint[]> {
  for (let i = 1; i <= 6; i++)
    await db.$transaction((tx) =>
      audit(tx, {
        actorId: null,
        action: 'review.approve',
        entity: 'nomination',
        entityId: i,
        before: { status: 'submitted', note: '核实 "引号" \\ 反斜杠 😀' },
        after: { status: 'approved', amountFen: 50_000 * i, nested: { z: 1, a: [1, 2.5, null] } },
      }),
    );
  await db.auditLog.createMany({
    data: [1, 2, 3, 4].map((i) => ({ action: 'payment.paid', entity: 'nomination', entityId: String(i) })),
  });
  const rows = await db.auditLog.findMany({ orderBy: { seq: 'asc' }, select: { id: true } });
  return rows.map((r) => r.id);
}

/** What a superuser can do: lift the append-only trigger, change history, put it back. */
async function asSuperuser(
  statement: string,
  params: unknown[] = [],
  trigger = 'audit_log_no_update_delete',
) {
  await sql.query(`ALTER TABLE audit_log DISABLE TRIGGER ${trigger}`);
  try {
    await sql.query(statement, params);
  } finally {
    await sql.query(`ALTER TABLE audit_log ENABLE TRIGGER ${trigger}`);
  }
}

describe('audit chain', () => {
  it('chains every row written by the app and verifies intact, through the CLI too', async () => {
    const ids = await writeHistory();
    const rows = await db.auditLog.findMany({ orderBy: { seq: 'asc' } });
    expect(rows.map((r) => r.seq)).toEqual(ids.map((_, i) => BigInt(i + 1)));
    expect(rows[0]!.prevHash).toBe('0'.repeat(64));
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.prevHash).toBe(rows[i - 1]!.hash);
    const v = await verifyAuditChain(db, { pageSize: 3 });
    expect(v).toMatchObject({ ok: true, rows: 10, problem: null });
    expect(v.head).toEqual(await readChainHead(db));
    expect(v.head.hash).toBe(rows[9]!.hash);

    const run = promisify(execFile);
    const out = await run('npx', ['tsx', 'src/cli/audit-verify.ts', formatChainHead(v.head)], {
      env: { ...process.env, DATABASE_URL: tdb.url },
    });
    expect(out.stdout).toMatch(/audit trail intact: 10 row\(s\) checked/);
  });

  it('an updated row is named', async () => {
    const ids = await writeHistory();
    await asSuperuser(`UPDATE audit_log SET after = '{"status":"rejected"}' WHERE id = $1`, [ids[3]]);
    const v = await verifyAuditChain(db);
    expect(v.ok).toBe(false);
    expect(v.problem).toEqual({ kind: 'changed', rowId: ids[3], seq: 4n });
    // The CLI says so and exits 1.
    const run = promisify(execFile);
    const err = await run('npx', ['tsx', 'src/cli/audit-verify.ts'], {
      env: { ...process.env, DATABASE_URL: tdb.url },
    }).catch((e: { code: number; stdout: string }) => e);
    expect((err as { code: number }).code).toBe(1);
    expect((err as { stdout: string }).stdout).toContain(
      `audit row ${ids[3]} (chain position 4) was changed`,
    );
  });

  it('a row changed and re-hashed by hand breaks the link to the next row, which names both', async () => {
    const ids = await writeHistory();
    await asSuperuser(
      `UPDATE audit_log SET actor_id = NULL, action = 'review.reject',
         hash = audit_log_hash(id, seq, at, NULL, 'review.reject', entity, entity_id, before, after, request_id, prev_hash)
       WHERE id = $1`,
      [ids[2]],
    );
    const v = await verifyAuditChain(db);
    expect(v.problem).toEqual({ kind: 'inserted', rowId: ids[3], seq: 4n, previousRowId: ids[2] });
  });

  it('a deleted row is named by its position and neighbours; so is a deleted last row', async () => {
    const ids = await writeHistory();
    await asSuperuser('DELETE FROM audit_log WHERE id = $1', [ids[4]]);
    expect((await verifyAuditChain(db)).problem).toEqual({
      kind: 'deleted',
      seq: 5n,
      afterRowId: ids[3],
      beforeRowId: ids[5],
    });
    await asSuperuser('DELETE FROM audit_log WHERE id >= $1', [ids[4]]);
    expect((await verifyAuditChain(db)).problem).toEqual({
      kind: 'deleted',
      seq: 5n,
      afterRowId: ids[3],
      beforeRowId: null,
    });
  });

  it('a forged row inserted with every trigger off is named, with or without a made-up position', async () => {
    const ids = await writeHistory();
    const forged = await sql.query<{ id: string }>("SELECT nextval('audit_log_id_seq') AS id");
    await asSuperuser(
      `INSERT INTO audit_log (id, at, action, entity, entity_id) VALUES ($1, now() - interval '3 days', 'review.approve', 'nomination', '99')`,
      [forged.rows[0]!.id],
      'ALL',
    );
    expect((await verifyAuditChain(db)).problem).toEqual({
      kind: 'inserted',
      rowId: BigInt(forged.rows[0]!.id),
      seq: null,
      previousRowId: ids[9],
    });
    await asSuperuser('DELETE FROM audit_log WHERE seq IS NULL');

    // A careful forger computes a valid hash and the next position, but cannot move the head without
    // the trigger: the row lies past it.
    await asSuperuser(
      `INSERT INTO audit_log (id, seq, at, action, entity, entity_id, prev_hash, hash)
       SELECT 5000, h.seq + 1, now(), 'payment.paid', 'nomination', '99', h.hash,
              audit_log_hash(5000, h.seq + 1, now()::timestamp(3), NULL, 'payment.paid', 'nomination', '99', NULL, NULL, NULL, h.hash)
       FROM audit_chain h`,
      [],
      'ALL',
    );
    expect((await verifyAuditChain(db)).problem).toEqual({
      kind: 'inserted',
      rowId: 5000n,
      seq: 11n,
      previousRowId: ids[9],
    });
  });

  it('a head printed earlier is checked against the chain', async () => {
    await writeHistory();
    const head = await readChainHead(db);
    expect((await verifyAuditChain(db, { held: head })).ok).toBe(true);
    expect(
      (await verifyAuditChain(db, { held: { seq: head.seq, hash: 'f'.repeat(64) } })).problem,
    ).toMatchObject({ kind: 'head_mismatch', seq: head.seq });
    expect((await verifyAuditChain(db, { held: { seq: 99n, hash: head.hash } })).problem).toMatchObject({
      kind: 'head_mismatch',
      seq: 99n,
      rowId: null,
    });
  });

  it('many concurrent writers keep one valid chain', async () => {
    const WRITERS = 40;
    const PER = 5;
    const bigDb = createPrisma(tdb.url);
    try {
      await Promise.all(
        Array.from({ length: WRITERS }, (_, w) =>
          (async () => {
            for (let k = 0; k < PER; k++)
              await bigDb.$transaction(async (tx) => {
                await audit(tx, {
                  actorId: null,
                  action: 'test.write',
                  entity: 'writer',
                  entityId: w,
                  after: { k },
                });
                if (k % 2 === 0)
                  await tx.auditLog.createMany({
                    data: [{ action: 'test.batch', entity: 'writer', entityId: String(w) }],
                  });
              });
          })(),
        ),
      );
    } finally {
      await bigDb.$disconnect();
    }
    const total = WRITERS * (PER + Math.ceil(PER / 2));
    const v = await verifyAuditChain(db);
    expect(v).toMatchObject({ ok: true, rows: total });
    expect(v.head.seq).toBe(BigInt(total));
  });

  it('one statement of many rows, a second in the same transaction and a rolled-back savepoint keep one chain', async () => {
    // The head moves once per statement (migration audit_chain_statement_head): the rows of one INSERT
    // hand it on to each other, the statement writes it back, a savepoint's rollback takes both back.
    await sql.query('BEGIN');
    await sql.query(
      `INSERT INTO audit_log (action, entity, entity_id, after)
       SELECT 'nomination.submit', 'nomination', g::text, jsonb_build_object('batch', 'b1', 'n', g)
       FROM generate_series(1, 500) g`,
    );
    expect((await sql.query('SELECT seq FROM audit_chain')).rows[0].seq).toBe('500');
    await sql.query('SAVEPOINT s');
    await sql.query(
      `INSERT INTO audit_log (action, entity, entity_id) SELECT 'gone', 'x', g::text FROM generate_series(1, 3) g`,
    );
    await sql.query('ROLLBACK TO SAVEPOINT s');
    await sql.query(`INSERT INTO audit_log (action, entity, entity_id) VALUES ('after', 'x', '1')`);
    await sql.query('COMMIT');
    await db.$transaction((tx) => audit(tx, { actorId: null, action: 'next', entity: 'x', entityId: 2 }));
    const v = await verifyAuditChain(db);
    expect(v).toMatchObject({ ok: true, rows: 502 });
    expect(v.head.seq).toBe(502n);
    expect(await readChainHead(db)).toEqual(v.head);
  });
});
