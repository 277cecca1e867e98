import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FieldCipher } from '../../src/adapters/crypto/field-cipher.ts';
import type { Db } from '../../src/adapters/db/client.ts';
import {
  createRecipientLink,
  MAX_ATTEMPTS,
  verifyRecipientLink,
} from '../../src/usecases/recipients/links.ts';
import { createPrisma, createTestDatabase, type TestDatabase } from '../support/db.ts';
import { makeId, seedCampaign, seedContact } from '../support/fixtures.ts';

// The recipient's last-6 check counts a try atomically BEFORE comparing: answers sent at the same moment
// (several chats, several bot processes) never get more than MAX_ATTEMPTS evaluations.

let tdb: TestDatabase;
let db: ReturnType<typeof createPrisma>;
const cipher = new FieldCipher([{ version: 1, key: randomBytes(32) }]);
beforeAll(async () => {
  tdb = await createTestDatabase();
  db = createPrisma(tdb.url);
});
afterAll(async () => {
  await db?.$disconnect();
  await tdb?.drop();
});

async function linkFor(seq: number) {
  const c = await seedCampaign(db, {
    code: `race-${seq}-${Date.now().toString(36)}`,
    categories: [{ code: 'n', kind: 'needy_worker', nameZh: '困难职工', amountYuan: 800 }],
  });
  const { union, person } = await seedContact(db, 930_000 + seq, `竞态测试工会${seq}`);
  const n = await db.nomination.create({
    data: {
      campaignId: c.id,
      categoryId: c.categories[0]!.id,
      unionId: union.id,
      submittedById: person.id,
      status: 'approved',
      fullName: '王五',
      idNumberEnc: cipher.encrypt(makeId('19700101', seq)),
      idNumberHash: `race-${seq}-${randomBytes(4).toString('hex')}`,
      amountFen: 80_000,
    },
  });
  const deps = { db: db as unknown as Db, cipher, now: () => new Date() };
  const link = await createRecipientLink(deps, { nominationId: n.id, actorId: person.id });
  const people = await Promise.all(
    Array.from({ length: 9 }, (_, i) =>
      db.person.create({ data: { telegramId: BigInt(931_000 + seq * 100 + i), displayName: `p${i}` } }),
    ),
  );
  return { deps, link, people, id: makeId('19700101', seq) };
}

describe('recipient last-6 check under concurrent answers', () => {
  it('nine wrong answers at once evaluate at most five, then the link is locked', async () => {
    const { deps, link, people } = await linkFor(1);
    const results = await Promise.all(
      people.map((p) => verifyRecipientLink(deps, { token: link.token, personId: p.id, idLast6: '000000' })),
    );
    const wrong = results.filter((r) => !r.ok && r.reason === 'wrong').length;
    const locked = results.filter((r) => !r.ok && r.reason === 'locked').length;
    expect(wrong).toBe(MAX_ATTEMPTS - 1); // the fifth evaluated answer locks the link
    expect(locked).toBe(9 - wrong);
    const row = await db.recipientLink.findFirstOrThrow({
      where: { nominationId: { gt: 0 } },
      orderBy: { id: 'desc' },
    });
    expect(row.failedAttempts).toBe(MAX_ATTEMPTS);
    expect(row.lockedAt).not.toBeNull();
    expect(await db.followUp.count({ where: { kind: 'link_locked' } })).toBe(1);
  });

  it('eight wrong and one right answer at once: at most five evaluated, a right answer is no failed try', async () => {
    const { deps, link, people, id } = await linkFor(2);
    const results = await Promise.all(
      people.map((p, i) =>
        verifyRecipientLink(deps, {
          token: link.token,
          personId: p.id,
          idLast6: i === 4 ? id.slice(-6) : '000000',
        }),
      ),
    );
    const evaluated = results.filter((r) => r.ok || r.reason === 'wrong').length;
    const row = await db.recipientLink.findFirstOrThrow({ orderBy: { id: 'desc' } });
    expect(evaluated).toBeLessThanOrEqual(MAX_ATTEMPTS);
    expect(row.failedAttempts).toBeLessThanOrEqual(MAX_ATTEMPTS);
    if (results[4]!.ok) expect(row.boundPersonId).toBe(people[4]!.id);
  });
});
