import { describe, expect, it } from 'vitest';
import { lockAdmission } from '../../src/usecases/nominations/admission-facts.ts';
import { useTestDatabase } from '../support/test-db.ts';

// lockAdmission takes the campaign's lock and, for one person, the person's, in one statement: both
// must be held by the transaction until it ends, and nobody else may take either meanwhile.

const { db } = useTestDatabase();

/** Whether another session could take each lock now (in a transaction of its own, released at its end). */
const free = (campaignId: number, idHash: string) =>
  db.$transaction(
    (tx) =>
      tx.$queryRaw<{ campaign: boolean; person: boolean }[]>`
      SELECT pg_try_advisory_xact_lock(7263101, ${campaignId}::int) AS campaign,
        pg_try_advisory_xact_lock(7263102, hashtext(${idHash})) AS person`,
  );

describe('the admission lock', () => {
  it('holds the campaign and the person until the transaction ends', async () => {
    let during: { campaign: boolean; person: boolean } | undefined;
    let own = 0;
    await db.$transaction(async (tx) => {
      await lockAdmission(tx, { campaignId: 42, idHash: 'abc' });
      const locks = await tx.$queryRaw<{ n: number }[]>`
        SELECT count(*)::int AS n FROM pg_locks
        WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted`;
      own = locks[0]?.n ?? 0;
      // Another session cannot take either lock meanwhile.
      [during] = await free(42, 'abc');
    });
    expect(own).toBe(2);
    expect(during).toEqual({ campaign: false, person: false });
    const [after] = await free(42, 'abc');
    expect(after).toEqual({ campaign: true, person: true });
  });
});
