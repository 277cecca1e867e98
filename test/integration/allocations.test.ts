import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { FieldCipher } from '../../src/adapters/crypto/field-cipher.ts';
import {
  allocationReconciliation,
  recordAllocationReturn,
  reportAllocationUse,
} from '../../src/usecases/allocations.ts';
import { loadCampaign } from '../../src/usecases/campaigns.ts';
import { campaignFigures } from '../../src/usecases/report/figures.ts';
import { useTestDatabase } from '../support/test-db.ts';
import { makeId, seedContact } from '../support/fixtures.ts';

// Issue 15, item 3: money allocated to grassroots unions is accounted for down to each recipient. The
// campaign file allocates per union; a union's report is checked like a nomination (ID number) and
// against the federation's own recipients with the admission rule (nobody paid twice through two
// routes); staff record returns; the figures add up: direct + allocated − returned = spent.

const { db } = useTestDatabase();
const cipher = new FieldCipher([{ version: 1, key: randomBytes(32) }]);
const NOW = new Date('2027-01-20T04:00:00Z');

const FILE = (allocations: string) => `
code: alloc-2027
title: { zh: 2027年春节送温暖, en: Spring Festival 2027 }
organiser: 测试县总工会
budget:
  total: 100000
  allocated_to_unions: 30000
${allocations}
categories:
  - code: needy_worker
    name: { zh: 困难职工, en: Needy workers }
    kind: needy_worker
    standard_amount: 1000
    benefit_forms: [transfer]
timeline:
  nomination_opens: 2027-01-04 09:00
  nomination_closes: 2027-01-15 18:00
  review_deadline: 2027-01-18 18:00
  target_payment_date: 2027-01-25
`;

let campaignId: number;
let unionA: number;
let unionB: number;
let person: number;
const paidByFederation = makeId('19660606', 11);

beforeAll(async () => {
  const a = await seedContact(db, 990_001, '城关镇总工会', '陈联系人');
  const b = await seedContact(db, 990_002, '县教育工会', '周联系人');
  unionA = a.union.id;
  unionB = b.union.id;
  person = a.person.id;
});

describe('allocations to grassroots unions', () => {
  it('the campaign file allocates per union; unknown unions and over-allocation are refused', async () => {
    const tooMuch = await loadCampaign(db, {
      text: FILE(
        `  allocations:\n    - { union: 城关镇总工会, amount: 20000 }\n    - { union: 县教育工会, amount: 15000 }`,
      ),
      actorId: null,
      sourceName: 'alloc.yaml',
      now: NOW,
    });
    expect(tooMuch.ok).toBe(false);
    if (!tooMuch.ok) expect(tooMuch.problems.map((p) => p.code)).toContain('campaign.allocations_sum');
    const unknown = await loadCampaign(db, {
      text: FILE(`  allocations:\n    - { union: 不存在的工会, amount: 1000 }`),
      actorId: null,
      sourceName: 'alloc.yaml',
      now: NOW,
    });
    expect(unknown.ok).toBe(false);
    if (!unknown.ok)
      expect(unknown.problems.map((p) => p.code)).toEqual(['campaign.allocation_union_unknown']);

    const r = await loadCampaign(db, {
      text: FILE(
        `  allocations:\n    - { union: 城关镇总工会, amount: 20000 }\n    - { union: 县教育工会, amount: 10000 }`,
      ),
      actorId: null,
      sourceName: 'alloc.yaml',
      now: NOW,
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    campaignId = r.campaign.id;
    expect(r.campaign.budget.allocations).toEqual([
      { union: '城关镇总工会', amountFen: 2_000_000 },
      { union: '县教育工会', amountFen: 1_000_000 },
    ]);
  });

  it('a report naming someone the federation already pays is caught; a clean one is stored', async () => {
    // The federation's own recipient: nominated, approved and paid directly.
    const cat = await db.campaignCategory.findFirstOrThrow({ where: { campaignId } });
    const n = await db.nomination.create({
      data: {
        campaignId,
        categoryId: cat.id,
        unionId: unionB,
        submittedById: person,
        status: 'paid',
        fullName: '刘大爷',
        idNumberEnc: cipher.encrypt(paidByFederation),
        idNumberHash: cipher.hash('id', paidByFederation),
        dedupKey: `${campaignId}:${cipher.hash('id', paidByFederation)}`,
        benefitForm: 'transfer',
        bankName: '农业银行',
        bankCardEnc: cipher.encrypt('6228480012345678907'),
        amountFen: 100_000,
      },
    });
    const rows = [
      {
        line: 2,
        fullName: '孙阿姨',
        idNumber: makeId('19580303', 21),
        amountFen: 500_000,
        goods: '米、油',
        paidOn: '2027-01-19',
      },
      { line: 3, fullName: '刘大爷', idNumber: paidByFederation, amountFen: 500_000, paidOn: '2027-01-19' },
      {
        line: 4,
        fullName: '钱师傅',
        idNumber: '110105196001011234',
        amountFen: 500_000,
        paidOn: '2027-01-19',
      },
    ];
    const caught = await reportAllocationUse(db, cipher, {
      campaignId,
      unionId: unionA,
      actorId: person,
      rows,
      evidenceFileId: 'photo-1',
      now: NOW,
    });
    expect(caught).toEqual({
      ok: false,
      problems: [
        { line: 3, code: 'paid_by_federation', params: { nominationId: n.id, status: 'paid' } },
        { line: 4, code: 'id', params: { code: 'id.check_digit' } },
      ],
    });
    expect(await db.allocationRecipient.count()).toBe(0);

    const ok = await reportAllocationUse(db, cipher, {
      campaignId,
      unionId: unionA,
      actorId: person,
      rows: [
        rows[0]!,
        { ...rows[0]!, line: 3, fullName: '吴奶奶', idNumber: makeId('19500505', 31), amountFen: 1_200_000 },
      ],
      evidenceFileId: 'photo-1',
      now: NOW,
    });
    expect(ok).toEqual({ ok: true, recipients: 2, reportedFen: 1_700_000, allocatedFen: 2_000_000 });
    const stored = await db.allocationRecipient.findMany();
    expect(stored.map((s) => s.idNumberEnc)).not.toContain(makeId('19580303', 21)); // encrypted

    // The other union cannot report the same person again.
    const twice = await reportAllocationUse(db, cipher, {
      campaignId,
      unionId: unionB,
      actorId: person,
      rows: [{ ...rows[0]!, line: 2 }],
      evidenceFileId: null,
      now: NOW,
    });
    expect(twice).toMatchObject({ ok: false, problems: [{ line: 2, code: 'paid_by_other_union' }] });
    expect(await db.auditLog.count({ where: { action: 'allocation.report' } })).toBe(1);
  });

  it('staff reconcile allocated vs reported vs returned; the figures add up', async () => {
    expect(
      await recordAllocationReturn(db, {
        campaignId,
        unionId: unionA,
        returnedFen: 300_000,
        actorId: person,
      }),
    ).toBe(true);
    const lines = await allocationReconciliation(db, campaignId);
    expect(lines).toEqual([
      expect.objectContaining({
        unionName: '城关镇总工会',
        allocatedFen: 2_000_000,
        reportedFen: 1_700_000,
        returnedFen: 300_000,
        unaccountedFen: 0,
        recipients: 2,
        reported: true,
        evidence: true,
      }),
      expect.objectContaining({
        unionName: '县教育工会',
        allocatedFen: 1_000_000,
        reportedFen: 0,
        returnedFen: 0,
        unaccountedFen: 1_000_000,
        reported: false,
      }),
    ]);
    const f = await campaignFigures(db, campaignId, NOW);
    const b = f.budget;
    expect(b.directSpentFen).toBe(100_000);
    expect(b.allocatedToUnionsFen).toBe(3_000_000);
    expect(b.unions).toMatchObject({
      allocatedFen: 3_000_000,
      reportedFen: 1_700_000,
      returnedFen: 300_000,
      recipients: 2,
      notReported: 1,
    });
    // Federation direct + union allocations (less what came back) = spent.
    expect(b.spentFen).toBe(b.directSpentFen + b.unions.allocatedFen - b.unions.returnedFen);
    expect(b.spentFen).toBe(2_800_000);
    expect(b.balanceFen).toBe(b.totalFen - b.spentFen);
  });
});
