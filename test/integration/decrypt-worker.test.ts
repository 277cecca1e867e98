import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FieldCipher } from '../../src/adapters/crypto/field-cipher.ts';
import { cursorSource } from '../../src/adapters/db/cursor.ts';
import { openExportCursors } from '../support/db.ts';
import { useTestDatabase } from '../support/test-db.ts';

// The decryption worker (exports): rows read from PostgreSQL behind a cursor on its own thread, the
// sealed columns decrypted there with the same openStored as FieldCipher.decrypt, batch by batch; a
// bad tag or an unknown key version stops the read with the reason; stopping early leaves no cursor.

const k1 = { version: 1, key: randomBytes(32) };
const k2 = { version: 2, key: randomBytes(32) };
const cipher = new FieldCipher([k2, k1]);

const { db } = useTestDatabase();

/** `values` as rows [i, value, value] read through the worker, the second column decrypted. */
async function read(values: (string | null)[], batchSize = 2): Promise<unknown[][]> {
  const rows: unknown[][] = [];
  for await (const batch of cipher.decryptedRows({
    connectionString: cursorSource(db),
    sql: 'SELECT i::int, v, v FROM unnest($1::text[]) WITH ORDINALITY AS t(v, i) ORDER BY i',
    params: [values],
    batchSize,
    sealed: [1],
  })) {
    expect(batch.length).toBeLessThanOrEqual(batchSize);
    rows.push(...batch);
  }
  return rows;
}

const openCursors = () => openExportCursors(db);

describe('decryption worker', () => {
  it('gives what decrypt gives, in order, batch by batch, other columns untouched', async () => {
    const plain = ['11010519491231002X', '13812345678', '王小明 ', '6222020200112233445'];
    const stored = [...plain.map((v) => cipher.encrypt(v)), new FieldCipher([k1]).encrypt('旧密钥')];
    const rows = await read([...stored, null, '']);
    expect(rows.map((r) => r[1])).toEqual([...plain, '旧密钥', '', '']);
    expect(rows.map((r) => r[1])).toEqual([...stored.map((s) => cipher.decrypt(s)), '', '']);
    expect(rows.map((r) => r[0])).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(rows[0]![2]).toBe(stored[0]);
  });

  it('refuses a tampered value and an unknown key version, and leaves no cursor open', async () => {
    const good = cipher.encrypt('13812345678');
    const raw = Buffer.from(good.slice(2), 'base64');
    raw[raw.length - 1]! ^= 1;
    await expect(read([good, good, `2:${raw.toString('base64')}`])).rejects.toThrow();
    const unknown = new FieldCipher([{ version: 3, key: randomBytes(32) }]).encrypt('x');
    await expect(read([good, unknown])).rejects.toThrow(/no data key with version 3/);
    expect(await openCursors()).toBe(0);
  });

  it('a consumer that stops early stops the worker and its cursor', async () => {
    const stored = Array.from({ length: 50 }, (_, i) =>
      cipher.encrypt(`1381234${String(i).padStart(4, '0')}`),
    );
    let seen = 0;
    for await (const batch of cipher.decryptedRows({
      connectionString: cursorSource(db),
      sql: 'SELECT v FROM unnest($1::text[]) AS t(v)',
      params: [stored],
      batchSize: 5,
      sealed: [0],
    })) {
      seen += batch.length;
      break;
    }
    expect(seen).toBe(5);
    expect(await openCursors()).toBe(0);
  });
});
