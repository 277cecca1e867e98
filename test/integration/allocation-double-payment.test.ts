import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { FieldCipher } from '../../src/adapters/crypto/field-cipher.ts';
import { shanghaiDateOf } from '../../src/domain/calendar/date.ts';
import { DomainError } from '../../src/domain/errors.ts';
import type { TextStep } from '../../src/domain/nomination/answers.ts';
import { reportAllocationUse } from '../../src/usecases/allocations.ts';
import {
  type AnswerOutcome,
  answerText,
  CODED_STEPS,
  chooseCategory,
  chooseOption,
  confirmAnswer,
  type DialogPosition,
} from '../../src/usecases/nominations/answer-nomination.ts';
import { startDraft } from '../../src/usecases/nominations/drafts.ts';
import type { NominationDeps } from '../../src/usecases/nominations/shared.ts';
import { submitNomination } from '../../src/usecases/nominations/submit-nomination.ts';
import { validateImport } from '../../src/usecases/nominations/validate-import.ts';
import { automaticChecks, loadForChecks } from '../../src/usecases/review/checks.ts';
import { useTestDatabase } from '../support/test-db.ts';
import { makeId, seedCampaign, seedContact } from '../support/fixtures.ts';

// Issue 15, item 3, the reverse direction of the double-payment check: a person a grassroots union
// already reported paying from its allocation must not be nominated by the federation's route in the
// same campaign (dialog, spreadsheet, submit, review card), and the union-paid amounts count towards
// the yearly cap. One rule (admission.ts) on facts loaded once (admission-facts.ts), on a real database.

const { db } = useTestDatabase();
let deps: NominationDeps;
const cipher = new FieldCipher([{ version: 1, key: randomBytes(32) }]);
let campaignId: number;
let frontId: number;
let cappedId: number;
let allocUnion: { id: number; contact: number };
let otherUnion: { id: number; contact: number };
let seq = 0;
const today = () => shanghaiDateOf(new Date());

beforeAll(async () => {
  deps = { db, cipher, now: () => new Date() };
  const c = await seedCampaign(db, {
    budgetYuan: 100_000,
    categories: [
      { code: 'front', kind: 'frontline_worker', nameZh: '一线职工', amountYuan: 150, forms: ['in_kind'] },
      {
        code: 'capped',
        kind: 'needy_worker',
        nameZh: '困难职工',
        amountYuan: 800,
        forms: ['in_kind'],
        yearlyCapYuan: 1000,
      },
    ],
  });
  campaignId = c.id;
  frontId = c.categories.find((k) => k.code === 'front')!.id;
  cappedId = c.categories.find((k) => k.code === 'capped')!.id;
  const a = await seedContact(db, 77_001, '城关镇总工会', '陈联系人');
  const b = await seedContact(db, 77_002, '县教育工会', '周联系人');
  allocUnion = { id: a.union.id, contact: a.person.id };
  otherUnion = { id: b.union.id, contact: b.person.id };
  // The campaign file's `budget.allocations` line for 城关镇总工会 (campaign files have their own tests).
  await db.unionAllocation.create({ data: { campaignId, unionId: allocUnion.id, amountFen: 1_000_000n } });
});

/** A union reports (the real use case) paying these people from its allocation. */
async function unionReports(unionId: number, actorId: number, people: { id: string; amountFen: number }[]) {
  return reportAllocationUse(db, cipher, {
    campaignId,
    unionId,
    actorId,
    rows: people.map((p, i) => ({
      line: i + 2,
      fullName: `受助人${'甲乙丙丁戊'[i % 5]}`,
      idNumber: p.id,
      amountFen: p.amountFen,
      goods: '米、油',
      paidOn: today(),
    })),
    evidenceFileId: 'signed-list-photo',
    now: new Date(),
  });
}

/**
 * Drives the dialog like the chat does, answering each step it asks, from the category to the summary.
 * Returns the outcome that stopped it when a step was refused.
 */
async function fillDraft(
  personId: number,
  unionId: number,
  categoryId: number,
  idNo: string,
): Promise<{ nominationId: number; refused?: AnswerOutcome }> {
  const { id: nominationId } = await startDraft(deps, { personId, unionId, campaignId });
  const ids = { personId, nominationId };
  const text: Record<string, string> = {
    name: '王小红',
    id_number: idNo,
    phone: `1380000${String(++seq).padStart(4, '0')}`,
    employer: '县人民医院',
    description: '家庭困难，需要帮扶。',
  };
  let position: DialogPosition = 'category';
  for (let move = 0; move < 40 && position !== 'summary'; move++) {
    let o: AnswerOutcome;
    switch (position) {
      case 'category':
        o = await chooseCategory(deps, { ...ids, categoryId });
        break;
      case 'id_confirm':
        o = await confirmAnswer(deps, { ...ids, step: 'id_number' });
        break;
      case 'secondary_causes':
        o = await confirmAnswer(deps, { ...ids, step: 'secondary_causes' });
        break;
      case 'benefit_form':
        o = await chooseOption(deps, { ...ids, step: 'benefit_form', code: 'in_kind' });
        break;
      case 'work_status':
      case 'model_worker_level':
      case 'hardship_tier':
      case 'main_cause':
        o = await chooseOption(deps, { ...ids, step: position, code: CODED_STEPS[position].codes[0]! });
        break;
      default:
        o = await answerText(deps, { ...ids, step: position as TextStep, text: text[position]! });
    }
    if (o.kind !== 'next') return { nominationId, refused: o };
    position = o.next;
  }
  expect(position).toBe('summary');
  return { nominationId };
}

async function refusedCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(DomainError);
    return (err as DomainError).code;
  }
  throw new Error('not refused');
}

describe('a person a union reported paying is not paid again by the federation', () => {
  it('the dialog submit is refused (another union: the fact only; the own union: the amount)', async () => {
    const early = makeId('19600101', 1);
    const own = makeId('19600101', 2);
    // Both drafts reach the summary before the union reports (the ID step found nothing then).
    const b = await fillDraft(otherUnion.contact, otherUnion.id, frontId, early);
    const a = await fillDraft(allocUnion.contact, allocUnion.id, frontId, own);
    expect([b.refused, a.refused]).toEqual([undefined, undefined]);
    expect(
      await unionReports(allocUnion.id, allocUnion.contact, [
        { id: early, amountFen: 50_000 },
        { id: own, amountFen: 30_000 },
      ]),
    ).toMatchObject({ ok: true, recipients: 2 });

    expect(
      await refusedCode(
        submitNomination(deps, { personId: otherUnion.contact, nominationId: b.nominationId }),
      ),
    ).toBe('nomination_paid_by_union_other');
    let params: unknown;
    try {
      await submitNomination(deps, { personId: allocUnion.contact, nominationId: a.nominationId });
    } catch (err) {
      expect((err as DomainError).code).toBe('nomination_paid_by_union');
      params = (err as DomainError).params;
    }
    expect(params).toEqual({ amount: '300.00' });
    const stored = await db.nomination.findMany({ where: { id: { in: [a.nominationId, b.nominationId] } } });
    expect(stored.map((n) => n.status)).toEqual(['draft', 'draft']);
  });

  it('the dialog refuses the ID number as soon as it is typed', async () => {
    const id = makeId('19610101', 3);
    await unionReports(allocUnion.id, allocUnion.contact, [
      { id: makeId('19600101', 1), amountFen: 50_000 },
      { id: makeId('19600101', 2), amountFen: 30_000 },
      { id, amountFen: 20_000 },
    ]);
    const r = await fillDraft(otherUnion.contact, otherUnion.id, frontId, id);
    expect(r.refused).toEqual({
      kind: 'invalid',
      notes: [
        { key: 'errors.nomination_paid_by_union_other', params: {} },
        { key: 'nominate.duplicate_hint', params: {} },
      ],
    });
  });

  it('the spreadsheet refuses the row, on the ID number column', async () => {
    const paid = makeId('19600101', 1);
    const fresh = makeId('19620202', 4);
    const v = await validateImport(deps, {
      personId: otherUnion.contact,
      unionId: otherUnion.id,
      campaignId,
      categoryId: frontId,
      rows: [
        {
          line: 2,
          values: { name: '王五', id_number: paid, phone: '13912345678', employer: '县自来水公司' },
        },
        {
          line: 3,
          values: { name: '李六', id_number: fresh, phone: '13912345679', employer: '县自来水公司' },
        },
      ],
    });
    const by = new Map(v.rows.map((r) => [r.line, r]));
    expect(by.get(2)!.issues).toEqual([{ code: 'paid_by_union_other', params: {}, column: 'id_number' }]);
    expect(by.get(3)!.ok).toBe(true);
    expect(v.valid).toBe(1);
  });

  it('the review card flags a nomination submitted before the union reported the same person', async () => {
    const id = makeId('19630303', 5);
    const d = await fillDraft(otherUnion.contact, otherUnion.id, frontId, id);
    await submitNomination(deps, { personId: otherUnion.contact, nominationId: d.nominationId });
    // The union's report is refused for this person (the existing direction still works) …
    const refused = await unionReports(allocUnion.id, allocUnion.contact, [{ id, amountFen: 10_000 }]);
    expect(refused).toEqual({
      ok: false,
      problems: [
        {
          line: 2,
          code: 'paid_by_federation',
          params: { nominationId: d.nominationId, status: 'submitted' },
        },
      ],
    });
    const n = (await loadForChecks(db, d.nominationId))!;
    const before = await automaticChecks({ db, cipher, now: () => new Date() }, n);
    expect(before.find((c) => c.code === 'paid_by_union')).toBeUndefined();
    // … and when a report got in anyway (recorded while the nomination was withdrawn, say), the card says so.
    await db.nomination.update({ where: { id: d.nominationId }, data: { status: 'withdrawn' } });
    const ok = await unionReports(allocUnion.id, allocUnion.contact, [{ id, amountFen: 10_000 }]);
    expect(ok).toMatchObject({ ok: true });
    await db.nomination.update({ where: { id: d.nominationId }, data: { status: 'submitted' } });
    const after = await automaticChecks({ db, cipher, now: () => new Date() }, n);
    expect(after.find((c) => c.code === 'paid_by_union')).toEqual({
      code: 'paid_by_union',
      level: 'fail',
      params: { union: '城关镇总工会', amount: '100.00' },
    });
  });

  it('a union-paid amount in an earlier campaign of the year counts towards the yearly cap', async () => {
    const id = makeId('19640404', 6);
    const earlier = await seedCampaign(db, { code: 'earlier-same-year', categories: [] });
    await db.unionAllocation.create({
      data: { campaignId: earlier.id, unionId: otherUnion.id, amountFen: 100_000n },
    });
    const r = await reportAllocationUse(db, cipher, {
      campaignId: earlier.id,
      unionId: otherUnion.id,
      actorId: otherUnion.contact,
      rows: [{ line: 2, fullName: '赵七', idNumber: id, amountFen: 30_000, paidOn: today() }],
      evidenceFileId: null,
      now: new Date(),
    });
    expect(r).toMatchObject({ ok: true });
    // 300 already + 800 > 1000 cap: refused when typed, with what was already granted.
    const d = await fillDraft(otherUnion.contact, otherUnion.id, cappedId, id);
    expect(d.refused).toMatchObject({ kind: 'invalid' });
    expect(d.refused?.kind === 'invalid' && d.refused.notes[0]).toEqual({
      key: 'errors.nomination_yearly_cap',
      params: { cap: '1000.00', already: '300.00' },
    });
    // Not a duplicate in this campaign: another campaign's allocation does not block the person here.
    const front = await fillDraft(otherUnion.contact, otherUnion.id, frontId, id);
    expect(front.refused).toBeUndefined();
  });
});
