import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FieldCipher } from '../../src/adapters/crypto/field-cipher.ts';
import { reviewFlags } from '../../src/domain/nomination/admission.ts';
import { loadContact, loadPersonFacts } from '../../src/usecases/nominations/admission-facts.ts';
import { storedFields } from '../../src/usecases/nominations/stored-fields.ts';
import { makeCard, makeId, seedCampaign, seedContact } from '../support/fixtures.ts';
import { useTestDatabase } from '../support/test-db.ts';

// Issue 15, item 4: conflict of interest beyond self-nomination. A nominee who gives the bank card of
// another nominee of the campaign, or the phone of a staff member (contact, reviewer, finance officer),
// is flagged for review. Compared by keyed hashes (blind index) of the encrypted values, as the
// duplicate and shared-phone checks do; the rule is admission.ts reviewFlags.

const cipher = new FieldCipher([{ version: 1, key: randomBytes(32) }]);

const { db } = useTestDatabase();

describe('conflict-of-interest flags', () => {
  it('a shared bank card and a staff member’s phone are flagged; unrelated nominees are not', async () => {
    const campaign = await seedCampaign(db, {
      code: 'coi',
      categories: [{ code: 'needy', kind: 'needy_worker', nameZh: '困难职工', amountYuan: 800 }],
    });
    const c = await seedContact(db, 880_001, '县电力工会', '王联系人');
    const finance = await db.person.create({
      data: { telegramId: 880_002n, displayName: '李会计', phoneHash: cipher.hash('phone', '13900002222') },
    });
    await db.roleGrant.create({ data: { personId: finance.id, role: 'finance', scope: '' } });
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
