import { randomBytes } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { CHART_HEIGHT, CHART_WIDTH, pngSize, renderChartPng } from '../../src/adapters/files/chart.ts';
import { buildReportDocx, categoryLine } from '../../src/adapters/files/report-docx.ts';
import { FieldCipher } from '../../src/adapters/crypto/field-cipher.ts';
import { type CampaignFigures, campaignFigures, formatRate } from '../../src/usecases/report/figures.ts';
import { useTestDatabase } from '../support/test-db.ts';
import { EXPECTED, NOW, seedCountyCampaign, sh } from '../support/report-fixtures.ts';

const cipher = new FieldCipher([{ version: 1, key: randomBytes(32) }]);

// campaignFigures against a seeded copy of the county report's campaign (real PostgreSQL), and the two
// files built from it: the .docx draft (read back from its zip) and the chart PNG (size from its header).

const { db } = useTestDatabase();
let f: CampaignFigures;
let seeded: Awaited<ReturnType<typeof seedCountyCampaign>>;

beforeAll(async () => {
  seeded = await seedCountyCampaign(db, 'fumin-2026', cipher);
  f = await campaignFigures(db, seeded.campaign.id, NOW);
});

/** One entry of a zip archive (the .docx container), inflated; enough for the files docx writes. */
function unzipEntry(zip: Buffer, name: string): string {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const count = zip.readUInt16LE(eocd + 10);
  let p = zip.readUInt32LE(eocd + 16);
  for (let i = 0; i < count; i++) {
    const method = zip.readUInt16LE(p + 10);
    const size = zip.readUInt32LE(p + 20);
    const nameLen = zip.readUInt16LE(p + 28);
    const extraLen = zip.readUInt16LE(p + 30);
    const commentLen = zip.readUInt16LE(p + 32);
    const local = zip.readUInt32LE(p + 42);
    if (zip.toString('utf8', p + 46, p + 46 + nameLen) === name) {
      const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
      const data = zip.subarray(start, start + size);
      return (method === 8 ? inflateRawSync(data) : data).toString('utf8');
    }
    p += 46 + nameLen + extraLen + commentLen;
  }
  throw new Error(`${name} not in the archive`);
}

describe('campaignFigures (county report campaign)', () => {
  it('recipients and amounts per category match the report: 8 / 58 / 4 / 86 / 434', () => {
    const byCode = Object.fromEntries(f.categories.map((c) => [c.code, c]));
    for (const [code, n] of Object.entries(EXPECTED.recipients)) {
      expect(byCode[code]?.recipients, code).toBe(n);
      expect(byCode[code]?.amountFen, code).toBe(
        EXPECTED.amountYuan[code as keyof typeof EXPECTED.amountYuan] * 100,
      );
    }
    expect(f.categories.map((c) => c.code)).toEqual([
      'department',
      'needy_worker',
      'needy_model_worker',
      'gig_worker',
      'frontline_worker',
    ]);
    expect(f.totals.recipients).toBe(EXPECTED.recipientsTotal);
    expect(f.totals.approved).toBe(EXPECTED.approved);
    expect(f.totals.nominated).toBe(EXPECTED.nominated);
    expect(f.totals).toMatchObject({ inReview: 2, returned: 1, rejected: 3, withdrawn: 1, unpaid: 3 });
    expect(f.categories.find((c) => c.code === 'gig_worker')).toMatchObject({ paid: 50, handedOver: 36 });
  });

  it('budget: 99,900 direct + 50,000 to grassroots unions of 150,000', () => {
    expect(f.budget).toMatchObject({
      totalFen: 15_000_000,
      allocatedToUnionsFen: EXPECTED.unionsFen,
      directBudgetFen: 10_000_000,
      directSpentFen: EXPECTED.directFen,
      spentFen: EXPECTED.spentFen,
      balanceFen: EXPECTED.balanceFen,
    });
    expect(f.budget.execution.rate).toBeCloseTo(14_990_000 / 15_000_000, 10);
    expect(formatRate(f.budget.execution)).toBe('99.9%');
    const forms = Object.fromEntries(f.forms.map((x) => [x.form, x]));
    expect(forms['transfer']).toEqual({
      form: 'transfer',
      recipients: 112,
      amountFen: 58 * 80_000 + 4 * 100_000 + 50 * 20_000,
    });
    expect(forms['in_kind']).toEqual({
      form: 'in_kind',
      recipients: 36 + 434,
      amountFen: 36 * 20_000 + 434 * 5_000,
    });
    expect(forms['unit_condolence']).toEqual({
      form: 'unit_condolence',
      recipients: 8,
      amountFen: 8 * 132_500,
    });
  });

  it('disbursement, reach and follow-up confirmation rates', () => {
    expect(f.disbursement).toMatchObject({ num: 590, den: 593 });
    expect(formatRate(f.disbursement)).toBe('99.5%');
    expect(f.reach).toMatchObject(EXPECTED.reach);
    expect(f.reach.noticeStatus).toEqual(EXPECTED.noticeStatus);
    expect(f.followUp).toMatchObject(EXPECTED.followUp);
  });

  it('timeliness: submission, review SLA, provincial entry within 30 working days over the Spring Festival', () => {
    expect(f.timeliness.submission).toMatchObject(EXPECTED.submission);
    expect(f.timeliness.review).toMatchObject({ ...EXPECTED.review, slaHours: 48 });
    expect(f.timeliness.entry).toMatchObject({ ...EXPECTED.entry, workingDays: 30, noPaymentDate: 0 });
    expect(f.timeliness.entry.onTimeRate).toMatchObject({ num: 538, den: 580 });
    // The same records a day before the 2026-03-30 deadline: the 40 are still due, not overdue.
    return campaignFigures(db, seeded.campaign.id, sh('2026-03-30 23:00')).then((g) => {
      expect(g.timeliness.entry).toMatchObject({ due: 50, overdue: 0, nextDeadline: '2026-03-30' });
    });
  });

  it('data accuracy: returns and rejections by reason, duplicates blocked, ID errors caught, flags', () => {
    expect(f.accuracy).toEqual({
      returnDecisions: EXPECTED.returned.decisions,
      returnedNominations: EXPECTED.returned.nominations,
      returnedByReason: EXPECTED.returned.byReason,
      rejectDecisions: EXPECTED.rejected.decisions,
      rejectedNominations: EXPECTED.rejected.nominations,
      rejectedByReason: EXPECTED.rejected.byReason,
      duplicatesBlocked: EXPECTED.duplicatesBlocked,
      idErrorsCaught: EXPECTED.idErrorsCaught,
      flags: EXPECTED.flags,
    });
  });

  it('is plain data (survives a JSON round trip unchanged)', () => {
    expect(JSON.parse(JSON.stringify(f))).toEqual(f);
  });

  it('an empty campaign gives zeros and no rates', async () => {
    const other = await seedCountyCampaign(db, 'empty-one', cipher).then(async (s) => {
      await db.campaign.update({ where: { id: s.campaign.id }, data: { code: 'empty-one-x' } });
      return db.campaign.create({
        data: {
          ...(await db.campaign.findUniqueOrThrow({
            where: { id: s.campaign.id },
            omit: { id: true, createdAt: true, updatedAt: true },
          })),
          code: 'really-empty',
          settings: {},
        },
      });
    });
    const g = await campaignFigures(db, other.id, NOW);
    expect(g.totals.recipients).toBe(0);
    expect(g.disbursement.rate).toBeNull();
    expect(formatRate(g.reach)).toBe('—');
    expect(g.accuracy.duplicatesBlocked).toBe(0);
    expect(g.timeliness.review.slaHours).toBe(48);
  });
});

describe('report files', () => {
  it('the .docx opens and carries every section and the figures', async () => {
    const docx = await buildReportDocx(f);
    expect(docx.subarray(0, 2).toString('latin1')).toBe('PK');
    const xml = unzipEntry(docx, 'word/document.xml');
    for (const h of [
      '一、基本情况',
      '二、绩效评价工作开展情况',
      '三、综合评价情况及评价结论',
      '四、绩效评价指标分析',
      '五、主要经验及做法',
      '六、存在的问题及原因分析',
      '七、有关建议',
    ])
      expect(xml, h).toContain(h);
    expect(categoryLine(f)).toBe(
      '8个节日期间坚守公共服务保障的部门、58名困难职工、4名困难劳模、86名新就业形态劳动者和434名春节期间应急值守的公共服务行业一线职工',
    );
    expect(xml).toContain(categoryLine(f));
    expect(xml).toContain('项目资金150000元');
    expect(xml).toContain(
      '直接慰问资金99900元，拨付基层工会慰问资金50000元，合计支出149900元，预算执行率99.9%',
    );
    expect(xml).toContain('资金发放率99.5%（已发放590人/审核通过593人）');
    expect(xml).toContain(
      '应录入590人，已录入540人（按期538人、逾期2人），尚在期限内待录入10人，已逾期未录入40人',
    );
    expect(xml).toContain('拦截重复申报4次，发现身份证号码错误6次');
    expect(xml).toContain('重复申报2次、不符合慰问条件1次');
    expect(xml.match(/【待填写：/g)?.length ?? 0).toBeGreaterThanOrEqual(12);
    expect(f.auditHead).toMatch(/^#[1-9]\d* [0-9a-f]{64}$/);
    expect(xml).toContain(`导出时审计日志链头：${f.auditHead}`);
  });

  it('the chart PNG has the expected size (default and custom) and is embedded in the .docx', async () => {
    const png = await renderChartPng(f, { locale: 'zh-CN' });
    expect(pngSize(png)).toEqual({ width: CHART_WIDTH, height: CHART_HEIGHT });
    const small = await renderChartPng(f, { locale: 'en', width: 800, height: 450 });
    expect(pngSize(small)).toEqual({ width: 800, height: 450 });
    const docx = await buildReportDocx(f, { chartPng: png });
    expect(unzipEntry(docx, 'word/document.xml')).toContain('<w:drawing>');
  });
});
