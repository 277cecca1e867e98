import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { FieldCipher } from '../../src/adapters/crypto/field-cipher.ts';
import { DomainError } from '../../src/domain/errors.ts';
import {
  checkRecipientLink,
  createRecipientLink,
  MAX_ATTEMPTS,
  type RecipientDeps,
  unbindRecipient,
  verifyRecipientLink,
} from '../../src/usecases/recipients/links.ts';
import { useTestDatabase } from '../support/test-db.ts';
import { makeId, seedCampaign, seedContact } from '../support/fixtures.ts';

// Findings 2 and 5 (issue 12), written as the attacks: the nominating contact (or a staff member) takes
// over a recipient's binding with a fresh link and the last 6 characters they typed in themselves; nine
// guesses sent at once try to beat the five-try lock.

const { db } = useTestDatabase();
let deps: RecipientDeps;
const cipher = new FieldCipher([{ version: 1, key: randomBytes(32) }]);
let contactId: number;
let otherContactId: number;
let staffId: number;
let seed: (n: number) => Promise<{ id: number; last6: string }>;
let tg = 700_000;

const person = async (name: string) =>
  db.person.create({ data: { telegramId: BigInt(++tg), displayName: name } });
const tokenOf = (payload: string) => payload.slice('rcp_'.length);
async function linkIdOf(payload: string, personId: number) {
  const c = await checkRecipientLink(deps, tokenOf(payload), personId);
  if (!c.ok) throw new Error(c.reason);
  return c.linkId;
}
const guess = async (payload: string, personId: number, idLast6: string) =>
  verifyRecipientLink(deps, { linkId: await linkIdOf(payload, personId), personId, idLast6 });

beforeAll(async () => {
  deps = { db, cipher, now: () => new Date() };
  const campaign = await seedCampaign(db, {
    code: 'bind',
    categories: [{ code: 'needy', kind: 'needy_worker', nameZh: '困难职工', amountYuan: 1000 }],
  });
  const c = await seedContact(db, 880_001, '绑定测试工会');
  contactId = c.person.id;
  otherContactId = (await seedContact(db, 880_002, '绑定测试工会', '另一联系人')).person.id;
  staffId = (await person('财务')).id;
  seed = async (n: number) => {
    const id = makeId('19700101', n);
    const row = await db.nomination.create({
      data: {
        campaignId: campaign.id,
        categoryId: campaign.categories[0]!.id,
        unionId: c.union.id,
        submittedById: contactId,
        status: 'approved',
        benefitForm: 'in_kind',
        amountFen: campaign.categories[0]!.standardAmountFen,
        fullName: `受助人${n}`,
        idNumberEnc: cipher.encrypt(id),
        idNumberHash: cipher.hash('id', id),
      },
    });
    return { id: row.id, last6: id.slice(-6) };
  };
});

describe('a binding cannot be taken over', () => {
  it('the nominating contact, another contact of the union and the issuing staff cannot bind a record', async () => {
    const n = await seed(1);
    const link = await createRecipientLink(deps, { nominationId: n.id, actorId: staffId });
    for (const who of [contactId, otherContactId, staffId])
      expect(await guess(link.payload, who, n.last6)).toEqual({ ok: false, reason: 'handler' });
    const rec = await db.nomination.findUniqueOrThrow({ where: { id: n.id } });
    expect(rec.recipientId).toBeNull();
    // They did not use up the recipient's tries either.
    const recipient = await person('本人');
    expect(await guess(link.payload, recipient.id, n.last6)).toEqual({ ok: true, nominationId: n.id });
  });

  it('a bound record gets no new link, and an old link never rebinds it', async () => {
    const n = await seed(2);
    const first = await createRecipientLink(deps, { nominationId: n.id, actorId: contactId });
    const recipient = await person('本人');
    expect((await guess(first.payload, recipient.id, n.last6)).ok).toBe(true);
    // The attack: a new link for the bound record...
    await expect(createRecipientLink(deps, { nominationId: n.id, actorId: contactId })).rejects.toMatchObject(
      {
        code: 'recipient_link_bound',
      },
    );
    await expect(
      createRecipientLink(deps, { nominationId: n.id, actorId: staffId, mayUnlock: true }),
    ).rejects.toThrow(DomainError);
    // ...or the old link answered from another account.
    const thief = await person('冒用者');
    expect(await checkRecipientLink(deps, tokenOf(first.payload), thief.id)).toEqual({
      ok: false,
      reason: 'bound_other',
    });
    expect((await db.nomination.findUniqueOrThrow({ where: { id: n.id } })).recipientId).toBe(recipient.id);
  });

  it('staff unbind (audited, the previous recipient named for the notice); then a new link binds someone else', async () => {
    const n = await seed(3);
    const first = await createRecipientLink(deps, { nominationId: n.id, actorId: staffId });
    const old = await person('旧账号');
    expect((await guess(first.payload, old.id, n.last6)).ok).toBe(true);
    const r = await unbindRecipient(deps, { nominationId: n.id, actorId: staffId });
    expect(r.previous.personId).toBe(old.id);
    expect(r.previous.telegramId).toBe(old.telegramId);
    const row = await db.auditLog.findFirstOrThrow({
      where: { action: 'recipient.unbound', entityId: String(n.id) },
    });
    expect(row).toMatchObject({ actorId: staffId, before: { recipientId: old.id } });
    // The old link is spent, for everyone.
    expect(await checkRecipientLink(deps, tokenOf(first.payload), old.id)).toMatchObject({ ok: false });
    const second = await createRecipientLink(deps, { nominationId: n.id, actorId: staffId });
    const fresh = await person('新账号');
    expect((await guess(second.payload, fresh.id, n.last6)).ok).toBe(true);
    expect((await db.nomination.findUniqueOrThrow({ where: { id: n.id } })).recipientId).toBe(fresh.id);
  });

  it('tries are counted per record: a new link revokes the old one and does not bring new tries', async () => {
    const n = await seed(4);
    const attacker = await person('猜测者');
    const a = await createRecipientLink(deps, { nominationId: n.id, actorId: contactId });
    for (let i = 0; i < 3; i++)
      expect(await guess(a.payload, attacker.id, '000000')).toMatchObject({ reason: 'wrong' });
    const b = await createRecipientLink(deps, { nominationId: n.id, actorId: contactId });
    expect(await checkRecipientLink(deps, tokenOf(a.payload), attacker.id)).toEqual({
      ok: false,
      reason: 'expired',
    });
    expect(await guess(b.payload, attacker.id, '000000')).toEqual({
      ok: false,
      reason: 'wrong',
      attemptsLeft: 1,
    });
    expect(await guess(b.payload, attacker.id, '000000')).toEqual({ ok: false, reason: 'locked' });
    expect(await db.followUp.count({ where: { nominationId: n.id, kind: 'link_locked' } })).toBe(1);
    // A contact cannot reset the count with yet another link; finance can (after calling the person).
    await expect(createRecipientLink(deps, { nominationId: n.id, actorId: contactId })).rejects.toMatchObject(
      {
        code: 'recipient_link_locked',
      },
    );
    const c = await createRecipientLink(deps, { nominationId: n.id, actorId: staffId, mayUnlock: true });
    expect(
      await db.auditLog.count({ where: { action: 'recipient_link.unlocked', entityId: String(n.id) } }),
    ).toBe(1);
    const recipient = await person('本人');
    expect((await guess(c.payload, recipient.id, n.last6)).ok).toBe(true);
  });
});

describe('the five-try lock holds against guesses sent at once', () => {
  it('nine simultaneous wrong guesses: five are compared, the record locks', async () => {
    const n = await seed(5);
    const link = await createRecipientLink(deps, { nominationId: n.id, actorId: staffId });
    const attacker = await person('并发猜测者');
    const linkId = await linkIdOf(link.payload, attacker.id);
    const guesses = Array.from({ length: 9 }, (_, i) => `${100000 + i}`);
    const results = await Promise.all(
      guesses.map((g) => verifyRecipientLink(deps, { linkId, personId: attacker.id, idLast6: g })),
    );
    const wrong = results.filter((r) => !r.ok && r.reason === 'wrong').length;
    const locked = results.filter((r) => !r.ok && r.reason === 'locked').length;
    expect(wrong).toBe(MAX_ATTEMPTS - 1);
    expect(locked).toBe(9 - wrong);
    const row = await db.recipientLink.findUniqueOrThrow({ where: { id: linkId } });
    expect(row.failedAttempts).toBe(MAX_ATTEMPTS);
    expect(row.lockedAt).not.toBeNull();
    // The right answer after the lock is refused too.
    expect(await verifyRecipientLink(deps, { linkId, personId: attacker.id, idLast6: n.last6 })).toEqual({
      ok: false,
      reason: 'locked',
    });
  });

  it('nine at once with the right answer among them never compares more than five', async () => {
    const n = await seed(6);
    const link = await createRecipientLink(deps, { nominationId: n.id, actorId: staffId });
    const attacker = await person('并发猜测者2');
    const linkId = await linkIdOf(link.payload, attacker.id);
    const guesses = [...Array.from({ length: 8 }, (_, i) => `${200000 + i}`), n.last6];
    const results = await Promise.all(
      guesses.map((g) => verifyRecipientLink(deps, { linkId, personId: attacker.id, idLast6: g })),
    );
    const compared = results.filter((r) => r.ok || r.reason === 'wrong').length;
    const lockedNow = (await db.recipientLink.findUniqueOrThrow({ where: { id: linkId } })).lockedAt !== null;
    expect(compared + (lockedNow ? 1 : 0)).toBeLessThanOrEqual(MAX_ATTEMPTS);
  });
});
