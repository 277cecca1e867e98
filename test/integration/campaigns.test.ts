import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type Document, isMap, isSeq, parseDocument } from 'yaml';
import { demoCampaignText } from '../../src/cli/seed-demo.ts';
import {
  campaignState,
  getCampaign,
  listCampaigns,
  loadCampaign,
  sourceHashOf,
} from '../../src/usecases/campaigns.ts';
import { useTestDatabase } from '../support/test-db.ts';

const exampleText = readFileSync(
  new URL('../../campaigns/example-2024-spring.yaml', import.meta.url),
  'utf8',
);

/** Edits the example file through the YAML document model (comments are kept). */
function edit(text: string, change: (doc: Document) => void): string {
  const doc = parseDocument(text);
  change(doc);
  return doc.toString();
}

function removeCategories(text: string, ...codes: string[]): string {
  return edit(text, (doc) => {
    const cats = doc.get('categories');
    if (!isSeq(cats)) throw new Error('no categories');
    cats.items = cats.items.filter((item) => !(isMap(item) && codes.includes(String(item.get('code')))));
  });
}

const { db } = useTestDatabase();

async function counts() {
  return {
    campaigns: await db.campaign.count(),
    categories: await db.campaignCategory.count(),
    audit: await db.auditLog.count(),
  };
}

async function nominate(campaignId: number, categoryId: number, status: 'draft' | 'submitted' = 'submitted') {
  const federation = await db.federation.findFirstOrThrow();
  const union = await db.union.upsert({
    where: { federationId_name: { federationId: federation.id, name: '县人民医院工会' } },
    create: { federationId: federation.id, name: '县人民医院工会' },
    update: {},
  });
  const person = await db.person.upsert({
    where: { telegramId: 6001n },
    create: { telegramId: 6001n, displayName: '张联系' },
    update: {},
  });
  return db.nomination.create({
    data: {
      campaignId,
      categoryId,
      unionId: union.id,
      submittedById: person.id,
      status,
      ...(status === 'draft' ? {} : { benefitForm: 'in_kind' as const, amountFen: 10_000 }),
    },
  });
}

describe('loadCampaign', () => {
  it('loads the example: campaign and category rows with amounts in fen, audited', async () => {
    const r = await loadCampaign(db, { actorId: null, text: exampleText, sourceName: 'example.yaml' });
    expect(r.ok, JSON.stringify(!r.ok && r.problems)).toBe(true);
    if (!r.ok) return;
    expect(r.outcome).toBe('created');
    expect(r.changes).toEqual([]);

    const row = await db.campaign.findUniqueOrThrow({
      where: { code: 'fumin-2024-spring' },
      include: { categories: { orderBy: { sortOrder: 'asc' } } },
    });
    expect(row.budgetTotalFen).toBe(15_000_000n);
    expect(row.budgetUnionsFen).toBe(5_000_000n);
    expect(row.nominationOpensAt.toISOString()).toBe('2024-01-02T01:00:00.000Z');
    expect(row.nominationClosesAt.toISOString()).toBe('2024-01-19T10:00:00.000Z');
    expect(row.targetPaymentDate.toISOString()).toBe('2024-02-05T00:00:00.000Z');
    expect(row.entryWorkingDays).toBe(30);
    expect(row.sourceHash).toBe(sourceHashOf(exampleText));
    expect(row.status).toBe('closed'); // its nomination window is long over
    expect(row.settings).toMatchObject({ reviewSlaHours: 48, fourEyes: { aboveAmountFen: 100_000 } });
    expect(row.categories.map((k) => [k.code, k.standardAmountFen])).toEqual([
      ['department', 200_000],
      ['needy_worker', 80_000],
      ['needy_model_worker', 100_000],
      ['gig_worker', 20_000],
      ['frontline_worker', 15_000],
    ]);
    // The file's comment: 8 × 2,000 + 58 × 800 + 4 × 1,000 + 86 × 200 + 434 × 150 = 148,700 yuan.
    const heads = [8, 58, 4, 86, 434];
    const total = row.categories.reduce((sum, k, i) => sum + k.standardAmountFen * heads[i]!, 0);
    expect(total).toBe(14_870_000);
    const needy = row.categories.find((k) => k.code === 'needy_worker')!;
    expect(needy).toMatchObject({ quotaPerUnion: 10, yearlyCapFen: 600_000, benefitForms: ['transfer'] });
    expect(needy.requiredFields).toContain('bank_card');

    const audits = await db.auditLog.findMany({ where: { entity: 'campaign' } });
    expect(audits.map((a) => a.action)).toEqual(['campaign.load']);
    expect(audits[0]!.after).toMatchObject({ code: 'fumin-2024-spring', source: 'example.yaml' });

    const read = await getCampaign(db, 'fumin-2024-spring');
    expect(read?.id).toBe(row.id);
    expect(read?.categories[1]).toMatchObject({ code: 'needy_worker', standardAmountFen: 80_000 });
    expect(read?.timeline.targetPaymentDate).toBe('2024-02-05');
    expect((await getCampaign(db, row.id))?.code).toBe('fumin-2024-spring');
  });

  it('reloading the identical file changes nothing', async () => {
    const before = await counts();
    const r = await loadCampaign(db, { actorId: null, text: exampleText, sourceName: 'example.yaml' });
    expect(r.ok && r.outcome).toBe('unchanged');
    expect(r.ok && r.changes).toEqual([]);
    expect(await counts()).toEqual(before);

    // Only comments changed: still unchanged (the new text's hash is remembered, nothing audited).
    const commented = `# reviewed by the finance office\n${exampleText}`;
    const r2 = await loadCampaign(db, { actorId: null, text: commented, sourceName: 'example.yaml' });
    expect(r2.ok && r2.outcome).toBe('unchanged');
    expect(await counts()).toEqual(before);
    expect((await db.campaign.findFirstOrThrow()).sourceHash).toBe(sourceHashOf(commented));
  });

  it('a settings option the file view does not show is still stored and reported', async () => {
    const text = exampleText.replace(
      '    before_close: [3wd, 1d, 2h]',
      '    before_close: [3wd, 1d, 2h]\n    urgent: [close]',
    );
    const r = await loadCampaign(db, { actorId: null, text, sourceName: 'example.yaml' });
    expect(r.ok, JSON.stringify(!r.ok && r.problems)).toBe(true);
    if (!r.ok) return;
    expect(r.outcome).toBe('updated');
    expect(r.changes.map((c) => c.path)).toEqual(['settings']);
    expect(r.campaign.settings.reminders.urgent).toEqual(['close']);
    expect((await getCampaign(db, r.campaign.id))?.settings.reminders.urgent).toEqual(['close']);
    const back = await loadCampaign(db, { actorId: null, text: exampleText, sourceName: 'example.yaml' });
    expect(back.ok && back.outcome).toBe('updated');
  });

  it('a changed standard amount and an added category update the campaign and list the changes', async () => {
    const text = edit(exampleText, (doc) => {
      doc.setIn(['categories', 1, 'standard_amount'], 900);
      const cats = doc.get('categories');
      if (!isSeq(cats)) throw new Error('no categories');
      cats.add(
        doc.createNode({
          code: 'sanitation_worker',
          name: { zh: '环卫工人', en: 'Sanitation workers' },
          kind: 'frontline_worker',
          standard_amount: 300,
          benefit_forms: ['in_kind'],
        }),
      );
    });
    const r = await loadCampaign(db, { actorId: null, text, sourceName: 'example-v2.yaml' });
    expect(r.ok, JSON.stringify(!r.ok && r.problems)).toBe(true);
    if (!r.ok) return;
    expect(r.outcome).toBe('updated');
    expect(r.changes).toEqual([
      {
        path: 'categories[needy_worker].standard_amount',
        kind: 'changed',
        before: '800.00',
        after: '900.00',
      },
      {
        path: 'categories[sanitation_worker]',
        kind: 'added',
        before: null,
        after: '环卫工人 (sanitation_worker)',
      },
    ]);
    const cats = await db.campaignCategory.findMany({ orderBy: { sortOrder: 'asc' } });
    expect(cats.map((k) => k.code)).toEqual([
      'department',
      'needy_worker',
      'needy_model_worker',
      'gig_worker',
      'frontline_worker',
      'sanitation_worker',
    ]);
    expect(cats.find((k) => k.code === 'needy_worker')?.standardAmountFen).toBe(90_000);
    expect(cats.find((k) => k.code === 'sanitation_worker')?.standardAmountFen).toBe(30_000);
    const audit = await db.auditLog.findFirstOrThrow({
      where: { action: 'campaign.update' },
      orderBy: { id: 'desc' },
    });
    expect(JSON.stringify(audit.after)).toContain('categories[needy_worker].standard_amount');

    // And back: the original file again is an update (the added category has no nominations).
    const back = await loadCampaign(db, { actorId: null, text: exampleText, sourceName: 'example.yaml' });
    expect(back.ok && back.outcome).toBe('updated');
    expect(back.ok && back.changes.map((c) => `${c.kind} ${c.path}`)).toEqual([
      'changed categories[needy_worker].standard_amount',
      'removed categories[sanitation_worker]',
    ]);
    expect(await db.campaignCategory.count()).toBe(5);
  });

  it('an invalid file is refused with every problem and nothing is written', async () => {
    const before = await counts();
    const text = exampleText
      .replace('standard_amount: 800', 'standard_amount: -800')
      .replace('standard_amount: 200\n', 'standard_ammount: 200\n')
      .replace('nomination_closes: 2024-01-19 18:00', 'nomination_closes: 2023-12-19 18:00');
    const r = await loadCampaign(db, { actorId: null, text, sourceName: 'broken.yaml' });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const found = r.problems.map((p) => `${p.code} ${p.path}`);
    expect(found).toEqual(
      expect.arrayContaining([
        'campaign.amount_negative categories[1].standard_amount',
        'campaign.unknown_key categories[3].standard_ammount',
        'campaign.required categories[3].standard_amount',
        'campaign.timeline_order timeline.nomination_closes',
      ]),
    );
    for (const p of r.problems) expect(p.line).toBeGreaterThan(0);
    expect(await counts()).toEqual(before);

    const syntax = await loadCampaign(db, {
      actorId: null,
      text: 'code: [unclosed\n',
      sourceName: 'x.yaml',
    });
    expect(!syntax.ok && syntax.problems[0]?.code).toBe('campaign.yaml_syntax');
    expect(await counts()).toEqual(before);
  });

  it('a category that has nominations cannot be removed; an unused one can', async () => {
    const campaign = (await getCampaign(db, 'fumin-2024-spring'))!;
    const gig = campaign.categories.find((k) => k.code === 'gig_worker')!;
    await nominate(campaign.id, gig.id);
    const before = await counts();

    const r = await loadCampaign(db, {
      actorId: null,
      text: removeCategories(exampleText, 'gig_worker', 'frontline_worker'),
      sourceName: 'fewer.yaml',
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems).toEqual([
      expect.objectContaining({
        path: 'categories[gig_worker]',
        code: 'campaign.category_in_use',
        params: expect.objectContaining({ code: 'gig_worker', count: 1 }),
      }),
    ]);
    expect(await counts()).toEqual(before); // frontline_worker (unused) was not removed either

    const ok = await loadCampaign(db, {
      actorId: null,
      text: removeCategories(exampleText, 'frontline_worker'),
      sourceName: 'fewer.yaml',
    });
    expect(ok.ok && ok.outcome).toBe('updated');
    expect(ok.ok && ok.changes).toEqual([
      {
        path: 'categories[frontline_worker]',
        kind: 'removed',
        before: '春节期间应急值守的公共服务行业一线职工 (frontline_worker)',
        after: null,
      },
    ]);
    expect(
      (await db.campaignCategory.findMany({ where: { campaignId: campaign.id } })).map((k) => k.code),
    ).not.toContain('frontline_worker');
  });
});

describe('campaign state and listing', () => {
  it('the phase follows the timeline; the demo timeline is open now', async () => {
    const now = new Date('2026-03-10T04:00:00Z');
    const r = await loadCampaign(db, {
      actorId: null,
      text: demoCampaignText(exampleText, now),
      sourceName: 'demo.yaml',
      now,
    });
    expect(r.ok, JSON.stringify(!r.ok && r.problems)).toBe(true);
    if (!r.ok) return;
    expect(r.campaign.code).toBe('fumin-demo');
    expect(r.campaign.status).toBe('open');
    const c = r.campaign;
    expect(campaignState(c, now)).toBe('open');
    expect(campaignState(c, new Date(c.timeline.nominationOpens.getTime() - 1))).toBe('not_open_yet');
    expect(campaignState(c, c.timeline.nominationCloses)).toBe('reviewing');
    expect(campaignState(c, c.timeline.reviewDeadline)).toBe('payment');
    expect(campaignState({ ...c, status: 'archived' }, now)).toBe('archived');

    const department = c.categories.find((k) => k.code === 'department')!;
    await nominate(c.id, department.id, 'draft');
    await nominate(c.id, department.id, 'submitted');
    await nominate(c.id, department.id, 'submitted');

    const list = await listCampaigns(db, now);
    expect(list.map((x) => [x.code, x.state])).toEqual([
      ['fumin-demo', 'open'],
      ['fumin-2024-spring', 'payment'],
    ]);
    expect(list[0]).toMatchObject({ nominationsTotal: 3, nominations: { draft: 1, submitted: 2 } });
    expect(list[1]).toMatchObject({ nominationsTotal: 1, nominations: { submitted: 1 } });
  });
});
