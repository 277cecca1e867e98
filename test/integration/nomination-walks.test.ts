import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { FieldCipher } from '../../src/adapters/crypto/field-cipher.ts';
import { DomainError } from '../../src/domain/errors.ts';
import type { TextStep } from '../../src/domain/nomination/answers.ts';
import { previousStep, type Step } from '../../src/domain/nomination/form.ts';
import { payableGaps } from '../../src/domain/nomination/intake.ts';
import {
  type AnswerOutcome,
  answerText,
  CODED_STEPS,
  chooseCategory,
  chooseOption,
  confirmAnswer,
  type DialogPosition,
  toggleSecondaryCause,
} from '../../src/usecases/nominations/answer-nomination.ts';
import { findDraft, startDraft } from '../../src/usecases/nominations/drafts.ts';
import { dialogDraft } from '../../src/usecases/nominations/queries.ts';
import type { NominationDeps } from '../../src/usecases/nominations/shared.ts';
import { submitNomination } from '../../src/usecases/nominations/submit-nomination.ts';
import { useTestDatabase } from '../support/test-db.ts';
import { makeCard, makeId, seedCampaign, seedContact } from '../support/fixtures.ts';

// A property of the dialog's use cases: random walks (answers right and wrong, back, edits from the
// summary, a change of category or benefit form, leaving and resuming) that end in submit always
// leave a nomination with everything its benefit form needs. Each walk is driven like the chat drives
// the use cases: the position is what the last use case returned. Seeded, so a failure can be replayed.

const { db } = useTestDatabase();
let deps: NominationDeps;
let campaignId: number;
let unionId: number;
let categories: { id: number; code: string }[];

beforeAll(async () => {
  deps = { db, cipher: new FieldCipher([{ version: 1, key: randomBytes(32) }]), now: () => new Date() };
  const c = await seedCampaign(db, {
    budgetYuan: 1_000_000,
    categories: [
      { code: 'dept', kind: 'department', nameZh: '部门', amountYuan: 2000, forms: ['unit_condolence'] },
      { code: 'needy', kind: 'needy_worker', nameZh: '困难职工', amountYuan: 800 },
      {
        code: 'model',
        kind: 'needy_model_worker',
        nameZh: '困难劳模',
        amountYuan: 1000,
        forms: ['transfer', 'in_kind'],
      },
      {
        code: 'gig',
        kind: 'gig_worker',
        nameZh: '新就业形态',
        amountYuan: 200,
        forms: ['transfer', 'in_kind'],
      },
      { code: 'front', kind: 'frontline_worker', nameZh: '一线职工', amountYuan: 150, forms: ['in_kind'] },
    ],
  });
  campaignId = c.id;
  categories = c.categories.map((k) => ({ id: k.id, code: k.code }));
  const s = await seedContact(db, 64_001, '随机走查工会', '走查联系人');
  unionId = s.union.id;
});

/** mulberry32: a small seeded generator. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WRONG: Record<string, string[]> = {
  name: ['123', '😀'],
  id_number: ['110105199002300015', '12345'],
  phone: ['139123', 'abc'],
  employer: [''.padEnd(200, '单')],
  description: [''.padEnd(600, '难')],
  bank_name: [''.padEnd(80, '行')],
  bank_card: ['12ab', '1'],
};

async function walk(seed: number, walkNo: number): Promise<void> {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  const idNo = makeId('19800101', walkNo);
  const right: Record<string, () => string> = {
    name: () => pick(['王小红', '阿依古丽·买买提', '李四']),
    id_number: () => idNo,
    phone: () => `1380000${String(walkNo).padStart(4, '0')}`,
    employer: () => '县人民医院',
    description: () => '家庭困难，需要帮扶。',
    bank_name: () => '中国农业银行富民县支行',
    bank_card: () => (r() < 0.2 ? '6228480012345678901' : makeCard()), // sometimes a Luhn warning
  };
  // A contact per walk: each walk types ID numbers, and look-ups are limited per contact and hour.
  const { person } = await seedContact(db, 64_100 + walkNo, '随机走查工会', `走查联系人${walkNo}`);
  const personId = person.id;
  const { id: nominationId } = await startDraft(deps, { personId, unionId, campaignId });
  const ids = { personId, nominationId };
  let position = 'category' as DialogPosition;
  const follow = (o: AnswerOutcome) => {
    if (o.kind === 'gone') throw new Error(`walk ${seed}: the draft vanished`);
    if (o.kind === 'next') position = o.next;
  };

  for (let move = 0; move < 200; move++) {
    const view = (await dialogDraft(deps, ids))!;
    const roll = r();
    if (position === 'summary') {
      if (roll < 0.15) {
        // Edit a field from the summary (including the category or the benefit form).
        position = pick(view.steps.filter((s) => s !== 'secondary_causes' && s !== 'main_cause'));
        continue;
      }
      break;
    }
    if (roll < 0.07) {
      // Leave and resume: the position comes back from the stored draft.
      const d = await findDraft(deps, personId);
      expect(d?.id).toBe(nominationId);
      position = view.category
        ? (view.steps.find((s) => !view.answered.includes(s)) ?? 'summary')
        : 'category';
      continue;
    }
    if (roll < 0.14 && position !== 'category') {
      const current: DialogPosition =
        position === 'id_confirm' ? 'id_number' : position === 'card_confirm' ? 'bank_card' : position;
      position =
        previousStep(view.steps, view.steps.includes(current as Step) ? (current as Step) : 'summary') ??
        position;
      continue;
    }
    switch (position) {
      case 'category':
        follow(await chooseCategory(deps, { ...ids, categoryId: pick(categories).id }));
        break;
      case 'id_confirm':
        follow(await confirmAnswer(deps, { ...ids, step: 'id_number' }));
        break;
      case 'card_confirm':
        follow(await confirmAnswer(deps, { ...ids, step: 'bank_card' }));
        break;
      case 'benefit_form':
        follow(
          await chooseOption(deps, { ...ids, step: 'benefit_form', code: pick(view.category!.benefitForms) }),
        );
        break;
      case 'secondary_causes':
        if (r() < 0.5)
          await toggleSecondaryCause(deps, {
            ...ids,
            code: pick(['child_education', 'laid_off_unemployed']),
          });
        follow(await confirmAnswer(deps, { ...ids, step: 'secondary_causes' }));
        break;
      case 'work_status':
      case 'model_worker_level':
      case 'hardship_tier':
      case 'main_cause':
        follow(await chooseOption(deps, { ...ids, step: position, code: pick(CODED_STEPS[position].codes) }));
        break;
      default: {
        const step = position as TextStep;
        const text = r() < 0.2 ? pick(WRONG[step] ?? ['']) : right[step]!();
        if (text === '') break;
        follow(await answerText(deps, { ...ids, step, text }));
      }
    }
  }

  try {
    await submitNomination(deps, ids);
  } catch (err) {
    // Only a walk that never reached the summary may be refused, and only as incomplete.
    expect(err).toBeInstanceOf(DomainError);
    expect((err as DomainError).code).toBe('nomination_incomplete');
    expect(position).not.toBe('summary');
    await db.nomination.delete({ where: { id: nominationId } });
    return;
  }
  const n = await db.nomination.findUniqueOrThrow({
    where: { id: nominationId },
    include: { category: true },
  });
  expect(n.status).toBe('submitted');
  expect(payableGaps({ ...n, hasBankCard: n.bankCardEnc !== null })).toEqual([]);
  expect(n.category!.benefitForms).toContain(n.benefitForm);
  expect(n.amountFen).toBe(n.category!.standardAmountFen);
  // Nothing stored that the form does not ask for (e.g. bank details for goods).
  if (n.benefitForm !== 'transfer') expect([n.bankName, n.bankCardEnc]).toEqual([null, null]);
  // A person is nominated once per campaign: free the place for the next walk.
  await db.nomination.update({ where: { id: nominationId }, data: { status: 'withdrawn', dedupKey: null } });
}

describe('random walks through the nomination dialog', () => {
  it('every walk that ends in submit leaves a nomination its benefit form can be paid with', async () => {
    const base = Number(process.env['WALK_SEED'] ?? 20261201);
    let submitted = 0;
    for (let i = 0; i < 40; i++) {
      await walk(base + i, i + 1);
      if ((await db.nomination.count({ where: { status: 'withdrawn' } })) > submitted) submitted++;
    }
    // The walks are long enough that most reach the summary: the property is exercised, not skipped.
    expect(submitted).toBeGreaterThan(20);
  }, 300_000);
});
