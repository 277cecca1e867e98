import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FieldCipher } from '../../src/adapters/crypto/field-cipher.ts';
import { reviewFlags } from '../../src/domain/nomination/admission.ts';
import {
  loadCandidateFactsAndRoom,
  loadContact,
  loadPersonFacts,
  loadRoom,
} from '../../src/usecases/nominations/admission-facts.ts';
import { toCategoryInfo } from '../../src/usecases/nominations/shared.ts';
import { storedFields } from '../../src/usecases/nominations/stored-fields.ts';
import { makeCard, makeId, seedCampaign, seedContact } from '../support/fixtures.ts';
import { useTestDatabase } from '../support/test-db.ts';

// Issue 15, item 4: conflict of interest beyond self-nomination. A nominee who gives the bank card of
// another nominee of the campaign, or the phone of a staff member (contact, reviewer, finance officer),
// is flagged for review. Compared by keyed hashes (blind index) of the encrypted values, as the
// duplicate and shared-phone checks do; the rule is admission.ts reviewFlags.

const cipher = new FieldCipher([{ version: 1, key: randomBytes(32) }]);

const { db } = useTestDatabase();

/** A staff member (role granted, no scope) whose phone is on record. */
async function staffWithPhone(telegramId: number, name: string, phone: string, role: 'finance' | 'reviewer') {
  const p = await db.person.create({
    data: { telegramId: BigInt(telegramId), displayName: name, phoneHash: cipher.hash('phone', phone) },
  });
  await db.roleGrant.create({ data: { personId: p.id, role, scope: '' } });
  return p;
}

describe('conflict-of-interest flags', () => {
  it('a shared bank card and a staff member’s phone are flagged; unrelated nominees are not', async () => {
    const campaign = await seedCampaign(db, {
      code: 'coi',
      categories: [{ code: 'needy', kind: 'needy_worker', nameZh: '困难职工', amountYuan: 800 }],
    });
    const c = await seedContact(db, 880_001, '县电力工会', '王联系人');
    const finance = await staffWithPhone(880_002, '李会计', '13900002222', 'finance');
    const card = makeCard('622848001234567890');
    const stored = storedFields(cipher, {
      fullName: '张三',
      idNumber: makeId('19700101', 1),
      phone: '13800001111',
      bankCard: card,
      bankName: '中国农业银行',
      benefitForm: 'transfer',
    });
    expect(stored.bankCardHash).toBe(cipher.hash('card', card));
    await db.nomination.create({
      data: {
        campaignId: campaign.id,
        categoryId: campaign.categories[0]!.id,
        unionId: c.union.id,
        submittedById: c.person.id,
        status: 'submitted',
        amountFen: 80_000,
        ...stored,
      },
    });

    const candidates = [
      // Another person, same card as 张三.
      {
        idHash: cipher.hash('id', makeId('19750505', 2)),
        phoneHash: cipher.hash('phone', '13700003333'),
        cardHash: cipher.hash('card', card),
      },
      // The finance officer's phone.
      {
        idHash: cipher.hash('id', makeId('19800808', 3)),
        phoneHash: cipher.hash('phone', '13900002222'),
        cardHash: null,
      },
      // Nothing shared.
      {
        idHash: cipher.hash('id', makeId('19850909', 4)),
        phoneHash: cipher.hash('phone', '13600004444'),
        cardHash: cipher.hash('card', makeCard('622202001234567890')),
      },
    ];
    const facts = await loadPersonFacts(db, {
      campaignId: campaign.id,
      targetPaymentDate: campaign.targetPaymentDate,
      candidates,
    });
    const contact = await loadContact(db, c.person.id);
    const flags = candidates.map((cand, i) =>
      reviewFlags({ fullName: `候选人${i}`, ...cand, answerFlags: [] }, facts[i]!, contact),
    );
    expect(flags).toEqual([['shared_card'], ['staff_phone'], []]);

    // Once the officer's role is revoked, the phone is no longer a staff member's.
    await db.roleGrant.updateMany({ where: { personId: finance.id }, data: { revokedAt: new Date() } });
    const [again] = await loadPersonFacts(db, {
      campaignId: campaign.id,
      targetPaymentDate: campaign.targetPaymentDate,
      candidates: [candidates[1]!],
    });
    expect(again!.staffPhone).toBe(false);
  });

  it('the review card reads the same facts and room in one statement as loadPersonFacts and loadRoom', async () => {
    const campaign = await seedCampaign(db, {
      code: 'coi-card',
      budgetYuan: 10_000,
      categories: [{ code: 'needy', kind: 'needy_worker', nameZh: '困难职工', amountYuan: 800, quota: 3 }],
    });
    const earlier = await seedCampaign(db, {
      code: 'coi-earlier',
      categories: [{ code: 'needy', kind: 'needy_worker', nameZh: '困难职工', amountYuan: 500 }],
    });
    const c = await seedContact(db, 880_011, '县水务工会', '赵联系人');
    await staffWithPhone(880_012, '钱审核', '13900005555', 'reviewer');
    const card = makeCard('622848009876543210');
    const nominate = async (
      campaignId: number,
      categoryId: number,
      p: { id: string; phone: string; card?: string },
      amountFen: number,
    ) =>
      db.nomination.create({
        data: {
          campaignId,
          categoryId,
          unionId: c.union.id,
          submittedById: c.person.id,
          status: 'submitted',
          amountFen,
          ...storedFields(cipher, {
            fullName: '某人',
            idNumber: p.id,
            phone: p.phone,
            ...(p.card
              ? { bankCard: p.card, bankName: '中国农业银行', benefitForm: 'transfer' as const }
              : { benefitForm: 'in_kind' as const }),
          }),
        },
      });
    const cat = campaign.categories[0]!;
    const here = await nominate(
      campaign.id,
      cat.id,
      { id: makeId('19700202', 5), phone: '13800006666', card },
      80_000,
    );
    await nominate(campaign.id, cat.id, { id: makeId('19710303', 6), phone: '13800007777' }, 60_000);
    await nominate(
      earlier.id,
      earlier.categories[0]!.id,
      { id: makeId('19700202', 5), phone: '13800006666' },
      50_000,
    );
    const key = (id: string | null, phone: string | null, cardNo?: string) => ({
      idHash: id && cipher.hash('id', id),
      phoneHash: phone && cipher.hash('phone', phone),
      cardHash: cardNo ? cipher.hash('card', cardNo) : null,
    });
    const cases = [
      // The nomination itself, its own row excluded (a card): an earlier campaign, its own card and phone.
      { candidate: key(makeId('19700202', 5), '13800006666', card), excludeIds: [here.id] },
      // The same person again, nothing excluded: blocked by the live nomination here.
      { candidate: key(makeId('19700202', 5), '13800009999'), excludeIds: [] },
      // Someone else with the card of the first and the phone of a reviewer.
      { candidate: key(makeId('19720404', 7), '13900005555', card), excludeIds: [] },
      // Nothing known: no hashes at all.
      { candidate: key(null, null), excludeIds: [] },
    ];
    const info = toCategoryInfo(cat);
    for (const k of cases) {
      const [person] = await loadPersonFacts(db, {
        campaignId: campaign.id,
        targetPaymentDate: campaign.targetPaymentDate,
        candidates: [k.candidate],
        excludeIds: k.excludeIds,
      });
      const room = await loadRoom(db, {
        unionId: c.union.id,
        campaignId: campaign.id,
        budgetFen: campaign.budgetTotalFen,
        cat: info,
        excludeIds: k.excludeIds,
      });
      const one = await loadCandidateFactsAndRoom(db, {
        campaignId: campaign.id,
        targetPaymentDate: campaign.targetPaymentDate,
        candidate: k.candidate,
        excludeIds: k.excludeIds,
        room: { unionId: c.union.id, budgetFen: campaign.budgetTotalFen, cat: info },
      });
      expect(one).toEqual({ person, room });
    }
    // The facts differ from case to case (the comparison above is not between empty answers).
    const [first, second, third] = await Promise.all(
      cases.slice(0, 3).map((k) =>
        loadCandidateFactsAndRoom(db, {
          campaignId: campaign.id,
          targetPaymentDate: campaign.targetPaymentDate,
          candidate: k.candidate,
          excludeIds: k.excludeIds,
          room: { unionId: c.union.id, budgetFen: campaign.budgetTotalFen, cat: info },
        }),
      ),
    );
    expect(first!.person).toMatchObject({ earlier: 1, yearlyFen: 50_000, sharedCard: false });
    expect(first!.person.blocking).toBeUndefined();
    expect(first!.room).toMatchObject({ quotaUsed: 1, quotaLeft: 2, budgetLeftFen: 1_000_000n - 60_000n });
    expect(second!.person.blocking?.nominationId).toBe(here.id);
    expect(second!.room).toMatchObject({ quotaUsed: 2, budgetLeftFen: 1_000_000n - 140_000n });
    expect(third!.person).toMatchObject({ sharedCard: true, staffPhone: true, earlier: 0 });
    // Without a category there is no room to read.
    const none = await loadCandidateFactsAndRoom(db, {
      campaignId: campaign.id,
      targetPaymentDate: campaign.targetPaymentDate,
      candidate: cases[0]!.candidate,
      excludeIds: cases[0]!.excludeIds,
      room: null,
    });
    expect(none.room).toBeNull();
  });

  it('the rule keeps answer flags it does not decide and recomputes its own', () => {
    const contact = { displayName: '王联系人', phoneHash: 'p1' };
    const person = { earlier: 0, yearlyFen: 0, sharedPhone: false, sharedCard: false, staffPhone: true };
    expect(
      reviewFlags(
        { fullName: '赵六', idHash: 'i', phoneHash: 'p1', answerFlags: ['luhn_warning', 'shared_card'] },
        person,
        contact,
      ),
    ).toEqual(['luhn_warning', 'self_phone']); // the contact's own phone: self_phone, not staff_phone
  });
});
