import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createWorkingCalendar } from '../../src/domain/calendar/index.ts';
import {
  type Campaign,
  diffCampaigns,
  formatYuan,
  parseCampaignFile,
  provincialEntryDeadline,
  yuanToFen,
} from '../../src/domain/campaign/index.ts';

const exampleText = readFileSync(
  new URL('../../campaigns/example-2024-spring.yaml', import.meta.url),
  'utf8',
);

function parseOk(text: string): Campaign {
  const r = parseCampaignFile(text);
  if (!r.ok) throw new Error(JSON.stringify(r.problems, null, 2));
  return r.campaign;
}

const MINIMAL = `
code: test-2026
title: { zh: 测试活动, en: Test campaign }
organiser: 测试县总工会
budget: { total: 1000 }
categories:
  - code: needy_worker
    name: { zh: 困难职工, en: Needy workers }
    kind: needy_worker
    standard_amount: 800
    benefit_forms: [transfer]
timeline:
  nomination_opens: 2026-01-05 09:00
  nomination_closes: 2026-01-16 18:00
  review_deadline: 2026-01-23 18:00
  target_payment_date: 2026-02-02
`;

describe('parseCampaignFile: the shipped example', () => {
  it('parses, converts yuan to fen and Shanghai times to instants', () => {
    const r = parseCampaignFile(exampleText);
    expect(r.ok, JSON.stringify(!r.ok && r.problems)).toBe(true);
    if (!r.ok) return;
    expect(r.warnings).toEqual([]);
    const c = r.campaign;
    expect(c.code).toBe('fumin-2024-spring');
    expect(c.title.zh).toBe('富民县总工会2024年元旦春节送温暖活动（示例）');
    expect(c.budget).toEqual({ totalFen: 15_000_000, allocatedToUnionsFen: 5_000_000 });
    expect(c.categories.map((k) => k.kind)).toEqual([
      'department',
      'needy_worker',
      'needy_model_worker',
      'gig_worker',
      'frontline_worker',
    ]);
    expect(c.timeline.nominationOpens.toISOString()).toBe('2024-01-02T01:00:00.000Z');
    expect(c.timeline.targetPaymentDate).toBe('2024-02-05');
    expect(c.timeline.provincialEntryWorkingDays).toBe(30);
    expect(c.settings.reminders.beforeClose.map((r) => r.unit)).toEqual(['working_day', 'day', 'hour']);
    expect(c.settings.fourEyes).toEqual({ aboveAmountFen: 100_000, flagged: true });
  });

  it('amounts fit the report: 8 + 58 + 4 + 86 + 434 recipients within 149,900 yuan', () => {
    const c = parseOk(exampleText);
    const heads: Record<string, number> = {
      department: 8,
      needy_worker: 58,
      needy_model_worker: 4,
      gig_worker: 86,
      frontline_worker: 434,
    };
    const total = c.categories.reduce((sum, k) => sum + k.standardAmountFen * (heads[k.code] ?? 0), 0);
    expect(total).toBeLessThanOrEqual(14_990_000);
    expect(total).toBeGreaterThan(14_000_000);
  });

  it('gives defaults per kind, adding bank fields for transfers', () => {
    const c = parseOk(exampleText);
    const byCode = new Map(c.categories.map((k) => [k.code, k]));
    expect(byCode.get('needy_worker')?.requiredFields).toContain('bank_card');
    expect(byCode.get('needy_worker')?.requiredFields).toContain('hardship');
    expect(byCode.get('needy_model_worker')?.requiredFields).toContain('model_worker_level');
    expect(byCode.get('frontline_worker')?.requiredFields).not.toContain('bank_card');
    expect(byCode.get('department')?.requiredFields).toEqual(['employer', 'name', 'phone', 'description']);
  });

  it('30 working days after the example payment date', () => {
    const c = parseOk(exampleText);
    // 2024-02-05 → Feb 6-9 (4), Sun 18 Feb make-up day (5), 19 Feb - 22 Mar (30); 10-17 Feb holiday.
    expect(provincialEntryDeadline(c, c.timeline.targetPaymentDate)).toBe('2024-03-22');
    expect(provincialEntryDeadline(c, '2024-01-25')).toBe('2024-03-12');
  });
});

describe('parseCampaignFile: defaults and warnings', () => {
  it('fills settings defaults', () => {
    const c = parseOk(MINIMAL);
    expect(c.budget.allocatedToUnionsFen).toBe(0);
    expect(c.timeline.provincialEntryWorkingDays).toBe(30);
    expect(c.settings).toEqual({
      reviewSlaHours: 48,
      fourEyes: { aboveAmountFen: null, flagged: true },
      reminders: {
        beforeClose: [
          { spec: '3wd', amount: 3, unit: 'working_day' },
          { spec: '1d', amount: 1, unit: 'day' },
          { spec: '2h', amount: 2, unit: 'hour' },
        ],
      },
      quietHours: { start: '22:00', end: '08:00' },
      draftTtlHours: 72,
    });
    expect(c.categories[0]?.quotaPerUnion).toBeNull();
  });

  it('settings.reminders: the allocation report deadline and reminder days (issue 15)', () => {
    const c = parseOk(
      `${MINIMAL}settings:\n  reminders:\n    allocation_report_working_days: 15\n    allocation_days_left: [3, 0]\n    urgent: [allocation_report_due]\n`,
    );
    expect(c.settings.reminders).toMatchObject({
      allocationReportWorkingDays: 15,
      allocationDaysLeft: [3, 0],
      urgent: ['allocation_report_due'],
    });
    expect(
      parseCampaignFile(`${MINIMAL}settings:\n  reminders:\n    allocation_report_working_days: 0\n`).ok,
    ).toBe(false);
  });

  it('settings.auditor_full_values: auditors see full values only when the file says so; a boolean', () => {
    expect(parseOk(MINIMAL).settings.auditorFullValues).toBeUndefined();
    expect(parseOk(`${MINIMAL}settings:\n  auditor_full_values: true\n`).settings.auditorFullValues).toBe(
      true,
    );
    const bad = parseCampaignFile(`${MINIMAL}settings:\n  auditor_full_values: 是\n`);
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.problems.map((p) => p.path)).toContain('settings.auditor_full_values');
  });

  it('accepts amounts as strings with thousands separators and 2 decimals', () => {
    expect(yuanToFen('1,000.50')).toEqual({ ok: true, fen: 100_050 });
    expect(yuanToFen(99.99)).toEqual({ ok: true, fen: 9_999 });
    expect(yuanToFen(0.1 + 0.2)).toEqual({ ok: true, fen: 30 });
    expect(yuanToFen('1.234')).toEqual({ ok: false, code: 'campaign.amount_precision' });
    expect(formatYuan(9_950)).toBe('99.50');
  });

  it('warns (without failing) about a payment date on a holiday and about fallback calendar years', () => {
    const text = MINIMAL.replace('2026-02-02', '2026-02-16')
      .replace('2026-01-05', '2026-12-20')
      .replace('2026-01-16', '2026-12-28')
      .replace('2026-01-23', '2027-01-05')
      .replace('2026-02-16', '2027-02-13');
    const r = parseCampaignFile(text);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.warnings.map((w) => w.code)).toEqual([
      'campaign.calendar_fallback',
      'campaign.payment_not_working_day',
    ]);
    expect(r.warnings[0]?.params).toEqual({ year: 2027 });

    const holiday = parseCampaignFile(MINIMAL.replace('2026-02-02', '2026-02-16'));
    expect(holiday.ok && holiday.warnings).toEqual([
      expect.objectContaining({
        path: 'timeline.target_payment_date',
        code: 'campaign.payment_not_working_day',
        params: { date: '2026-02-16', next: '2026-02-24' },
      }),
    ]);
    // With an override calendar declaring 2027, no fallback warning.
    const cal = createWorkingCalendar({ completeYears: [2027], holidays: {}, workdays: {} });
    const r2 = parseCampaignFile(text, { calendar: cal });
    expect(r2.ok && r2.warnings.map((w) => w.code)).toEqual(['campaign.payment_not_working_day']);
  });
});

describe('parseCampaignFile: problems', () => {
  const BAD = `code: Fumin 2024
title:
  zh: 测试
organiser: 富民县总工会
budget:
  total: 100
  allocated_to_unions: 200
categories:
  - code: needy_worker
    name: { zh: 困难职工, en: Needy }
    kind: needy
    standard_amount: 100.123
    benefit_forms: [transfer, transfer]
    required_fields: [name, phone]
  - code: needy_worker
    name: { zh: 困难职工, en: Needy }
    kind: needy_worker
    standard_ammount: 800
    benefit_forms: []
    yearly_cap: 500
  - code: frontline
    name: { zh: 一线职工, en: Frontline }
    kind: frontline_worker
    standard_amount: 800
    benefit_forms: [in_kind]
    yearly_cap: 500
timeline:
  nomination_opens: 2024-01-20 09:00
  nomination_closes: 2024-01-19 18:00
  review_deadline: 2024-01-26
  target_payment_date: 2024-02-30
settings:
  reminders:
    before_close: [3wd, 1x]
  quiet_hours: { start: "25:00" }
  review_sla_hours: "48"
`;

  it('lists every problem with its path, code and line', () => {
    const r = parseCampaignFile(BAD);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const got = r.problems.map((p) => `${p.path} ${p.code}`);
    expect(got).toEqual([
      'code campaign.slug_format',
      'title.en campaign.required',
      'budget.allocated_to_unions campaign.budget_allocation',
      'categories[0].kind campaign.enum',
      'categories[0].standard_amount campaign.amount_precision',
      'categories[0].benefit_forms[1] campaign.duplicate_value',
      'categories[0].required_fields campaign.transfer_needs_bank_card',
      'categories[1].standard_amount campaign.required',
      'categories[1].code campaign.duplicate_code',
      'categories[1].standard_ammount campaign.unknown_key',
      'categories[1].benefit_forms campaign.too_small',
      'categories[2].standard_amount campaign.amount_above_cap',
      'timeline.nomination_closes campaign.timeline_order',
      'timeline.review_deadline campaign.datetime_format',
      'timeline.target_payment_date campaign.date_format',
      'settings.reminders.before_close[1] campaign.reminder_format',
      'settings.quiet_hours.start campaign.time_format',
      'settings.review_sla_hours campaign.type',
    ]);
    const at = (path: string) => r.problems.find((p) => p.path === path);
    expect(at('code')).toMatchObject({ line: 1, col: 7 });
    expect(at('categories[0].standard_amount')).toMatchObject({ line: 12 });
    expect(at('categories[1].standard_ammount')).toMatchObject({
      line: 18,
      col: 5,
      params: { key: 'standard_ammount' },
    });
    expect(at('categories[1].code')?.params).toEqual({ code: 'needy_worker', first: 'categories[0]' });
    expect(at('categories[2].standard_amount')?.params).toEqual({ amount: '800.00', cap: '500.00' });
    expect(at('budget.allocated_to_unions')?.params).toEqual({ allocated: '200.00', total: '100.00' });
    expect(at('timeline.nomination_closes')?.params).toEqual({
      field: 'nomination_closes',
      after: 'nomination_opens',
    });
    expect(at('settings.review_sla_hours')?.params).toMatchObject({ expected: 'number', got: 'string' });
    for (const p of r.problems) {
      expect(p.message.length).toBeGreaterThan(0);
      expect(p.line).toBeGreaterThan(0);
    }
  });

  it('reports YAML syntax errors with line and column', () => {
    const r = parseCampaignFile('code: x\ncategories: [a, b\ntitle: y\n');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems.length).toBeGreaterThan(0);
    expect(r.problems[0]).toMatchObject({ path: '', code: 'campaign.yaml_syntax', line: 3 });
    expect(r.problems[0]?.col).toBeGreaterThan(0);

    const dup = parseCampaignFile('code: a\ncode: b\n');
    expect(dup.ok === false && dup.problems[0]).toMatchObject({
      code: 'campaign.yaml_syntax',
      params: { yaml_code: 'DUPLICATE_KEY' },
      line: 2,
    });
  });

  it('refuses a file that is not a mapping', () => {
    expect(parseCampaignFile('- a\n- b\n')).toMatchObject({
      ok: false,
      problems: [{ code: 'campaign.type' }],
    });
    expect(parseCampaignFile('')).toMatchObject({ ok: false, problems: [{ code: 'campaign.type' }] });
  });

  it('checks that review_deadline is not after the target payment date', () => {
    const r = parseCampaignFile(MINIMAL.replace('2026-02-02', '2026-01-22'));
    expect(r.ok === false && r.problems.map((p) => `${p.path} ${p.code}`)).toEqual([
      'timeline.target_payment_date campaign.timeline_order',
    ]);
  });
});

describe('diffCampaigns', () => {
  it('lists what changed between two versions, categories by code', () => {
    const v1 = parseOk(exampleText);
    const v2text = exampleText
      .replace('standard_amount: 800', 'standard_amount: 900')
      .replace('nomination_closes: 2024-01-19 18:00', 'nomination_closes: 2024-01-22 18:00')
      .replace('before_close: [3wd, 1d, 2h]', 'before_close: [2wd, 2h]')
      .replace(/ {2}- code: needy_model_worker[\s\S]*?yearly_cap: 6000\n\n/, '')
      .replace('  total: 150000', '  total: 160000');
    const v2 = parseOk(
      v2text.replace(
        'timeline:',
        `  - code: retiree
    name: { zh: 困难退休职工, en: Needy retirees }
    kind: other
    standard_amount: 500
    benefit_forms: [in_kind]

timeline:`,
      ),
    );
    expect(diffCampaigns(v1, v1)).toEqual([]);
    expect(diffCampaigns(v1, v2)).toEqual([
      { path: 'budget.total', kind: 'changed', before: '150000.00', after: '160000.00' },
      {
        path: 'timeline.nomination_closes',
        kind: 'changed',
        before: '2024-01-19 18:00',
        after: '2024-01-22 18:00',
      },
      { path: 'settings.reminders.before_close', kind: 'changed', before: '3wd, 1d, 2h', after: '2wd, 2h' },
      {
        path: 'categories[needy_worker].standard_amount',
        kind: 'changed',
        before: '800.00',
        after: '900.00',
      },
      {
        path: 'categories[needy_model_worker]',
        kind: 'removed',
        before: '困难劳模 (needy_model_worker)',
        after: null,
      },
      { path: 'categories[retiree]', kind: 'added', before: null, after: '困难退休职工 (retiree)' },
    ]);
  });

  it('reports a reordering of categories', () => {
    const v1 = parseOk(MINIMAL);
    const v2 = parseOk(
      MINIMAL.replace(
        'categories:\n',
        `categories:
  - code: gig
    name: { zh: 快递员, en: Couriers }
    kind: gig_worker
    standard_amount: 200
    benefit_forms: [in_kind]
`,
      ),
    );
    expect(diffCampaigns(v1, v2)).toEqual([
      { path: 'categories[gig]', kind: 'added', before: null, after: '快递员 (gig)' },
    ]);
    const v3 = parseOk(
      MINIMAL.replace(
        'timeline:',
        `  - code: gig
    name: { zh: 快递员, en: Couriers }
    kind: gig_worker
    standard_amount: 200
    benefit_forms: [in_kind]
timeline:`,
      ),
    );
    // Same categories, different order.
    expect(diffCampaigns(v2, v3)).toEqual([
      { path: 'categories', kind: 'changed', before: 'gig, needy_worker', after: 'needy_worker, gig' },
    ]);
  });
});

describe('hostile campaign files (issue 12, finding 12)', () => {
  it('a YAML alias bomb is reported as a problem in the file, never thrown', () => {
    const bomb = [
      'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
      ...Array.from({ length: 8 }, (_, i) => {
        const prev = String.fromCharCode(97 + i);
        const name = String.fromCharCode(98 + i);
        return `${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`;
      }),
      'code: x',
    ].join('\n');
    let r: ReturnType<typeof parseCampaignFile> | undefined;
    expect(() => {
      r = parseCampaignFile(bomb);
    }).not.toThrow();
    expect(r).toMatchObject({ ok: false, problems: [{ code: 'campaign.yaml_aliases' }] });
  });
});

describe('budget.allocation_rule: a total split by a rule (issue 15)', () => {
  const withAllocations = (lines: string) =>
    MINIMAL.replace('budget: { total: 1000 }\n', `budget:\n  total: 100000\n${lines}`);

  it('equal: allocated_to_unions split to the fen, the shares add up', () => {
    const text = withAllocations(
      '  allocated_to_unions: 100\n  allocation_rule: equal\n  allocations:\n    - { union: 甲 }\n    - { union: 乙 }\n    - { union: 丙 }\n',
    );
    const c = parseOk(text);
    expect(c.budget.allocations).toEqual([
      { union: '甲', amountFen: 3334 },
      { union: '乙', amountFen: 3333 },
      { union: '丙', amountFen: 3333 },
    ]);
  });

  it('by_members: in proportion to the members given', () => {
    const c = parseOk(
      withAllocations(
        '  allocated_to_unions: 50000\n  allocation_rule: by_members\n  allocations:\n    - { union: 甲, members: 300 }\n    - { union: 乙, members: 200 }\n',
      ),
    );
    expect(c.budget.allocations).toEqual([
      { union: '甲', amountFen: 3_000_000 },
      { union: '乙', amountFen: 2_000_000 },
    ]);
  });

  it('a field the rule does not take, or lacks, is a problem with its path', () => {
    const r = parseCampaignFile(
      withAllocations(
        '  allocated_to_unions: 100\n  allocation_rule: by_members\n  allocations:\n    - { union: 甲, amount: 50 }\n',
      ),
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems.map((p) => `${p.path} ${p.code}`)).toContain(
      'budget.allocations[0].amount campaign.allocation_rule',
    );
    const fixed = parseCampaignFile(
      withAllocations('  allocated_to_unions: 100\n  allocations:\n    - { union: 甲 }\n'),
    );
    expect(fixed.ok).toBe(false);
  });
});
