import { describe, expect, it } from 'vitest';
import { admit, personRefusals } from '../../src/domain/nomination/admission.ts';
import type { CategoryInfo } from '../../src/domain/nomination/form.ts';

// The admission rule for a person a grassroots union reported paying from its allocation in the same
// campaign: refused like a duplicate (after it, before the yearly cap), whichever route asks.

const cat = {
  id: 1,
  code: 'needy',
  kind: 'needy_worker',
  standardAmountFen: 80_000,
  yearlyCapFen: 100_000,
  quotaPerUnion: null,
  benefitForms: ['in_kind'],
  requiredFields: [],
} as unknown as CategoryInfo;
const room = { quotaLeft: null, budgetLeftFen: 10_000_000n };
const contact = { displayName: '陈联系人', phoneHash: null };
const candidate = { fullName: '王小红', idHash: 'h1', phoneHash: null, answerFlags: [] };
const paidByUnion = { unionName: '城关镇总工会', unionId: 7, amountFen: 30_000 };

describe('paid by a union from its allocation', () => {
  it('is refused, naming the union and the amount', () => {
    expect(
      admit(cat, candidate, { earlier: 0, yearlyFen: 0, sharedPhone: false, paidByUnion }, room, contact),
    ).toEqual({
      ok: false,
      refusal: { reason: 'paid_by_union', params: { union: '城关镇总工会', unionId: 7, amountFen: 30_000 } },
    });
  });

  it('comes after a duplicate nomination and before the yearly cap', () => {
    const blocking = { nominationId: 3, status: 'submitted', unionName: '县教育工会', unionId: 8 };
    const reasons = personRefusals(cat, {
      blocking,
      paidByUnion,
      earlier: 0,
      yearlyFen: 30_000,
      sharedPhone: false,
    }).map((r) => r.reason);
    expect(reasons).toEqual(['duplicate', 'paid_by_union', 'yearly_cap']);
  });

  it('without a union report the person is admitted', () => {
    expect(admit(cat, candidate, { earlier: 0, yearlyFen: 0, sharedPhone: false }, room, contact)).toEqual({
      ok: true,
      flags: [],
    });
  });
});
