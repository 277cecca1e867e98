import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import {
  buildCheckedFile,
  buildTemplate,
  EXAMPLE_ID_NUMBER,
  parseCsv,
  parseSheet,
} from '../../src/adapters/files/nomination-sheet.ts';
import {
  columnForHeader,
  columnsFor,
  requiredColumnsFor,
  vocabCode,
} from '../../src/domain/nomination/columns.ts';
import type { CategoryInfo } from '../../src/domain/nomination/form.ts';
import { HARDSHIP_CAUSES, WORK_STATUSES } from '../../src/domain/identity/hardship.ts';

const needy: CategoryInfo = {
  id: 1,
  code: 'needy_worker',
  kind: 'needy_worker',
  nameZh: '困难职工',
  nameEn: 'Needy workers',
  standardAmountFen: 80000,
  benefitForms: ['transfer'],
  requiredFields: ['name', 'id_number', 'phone', 'employer', 'work_status', 'hardship', 'description'],
  quotaPerUnion: 10,
  yearlyCapFen: 600000,
};
const gig: CategoryInfo = {
  ...needy,
  id: 2,
  code: 'gig_worker',
  kind: 'gig_worker',
  benefitForms: ['transfer', 'in_kind'],
  requiredFields: ['name', 'id_number', 'phone', 'employer'],
};
const campaign = { code: 'c1', titleZh: '测试活动', titleEn: 'Test campaign' };

async function xlsx(rows: unknown[][], setup?: (ws: ExcelJS.Worksheet) => void): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('Sheet1');
  for (const r of rows) ws.addRow(r);
  setup?.(ws);
  return Buffer.from(await wb.xlsx.writeBuffer());
}

describe('columns', () => {
  it('follows the form steps: hardship split in three, bank columns for transfers, benefit form only when several', () => {
    expect(columnsFor(needy)).toEqual([
      'name',
      'id_number',
      'phone',
      'employer',
      'work_status',
      'hardship_tier',
      'main_cause',
      'secondary_causes',
      'description',
      'bank_name',
      'bank_card',
    ]);
    expect(columnsFor(gig)).toEqual([
      'name',
      'id_number',
      'phone',
      'employer',
      'benefit_form',
      'bank_name',
      'bank_card',
    ]);
    expect(requiredColumnsFor(gig, 'in_kind')).toEqual([
      'name',
      'id_number',
      'phone',
      'employer',
      'benefit_form',
    ]);
  });

  it('recognises headers in Chinese or English, with spaces, full-width characters and hints', () => {
    expect(columnForHeader('身份证号码')).toBe('id_number');
    expect(columnForHeader(' 身 份 证 号 ')).toBe('id_number');
    expect(columnForHeader('身份证号码（18位）')).toBe('id_number');
    expect(columnForHeader('Resident ID Number')).toBe('id_number');
    expect(columnForHeader('ＰＨＯＮＥ')).toBe('phone');
    expect(columnForHeader('手机号码*')).toBe('phone');
    expect(columnForHeader('序号')).toBeUndefined();
  });

  it('maps vocabulary cells given as code, Chinese or English name', () => {
    expect(vocabCode(WORK_STATUSES, '下（待）岗')).toBe('off_post');
    expect(vocabCode(WORK_STATUSES, 'retired')).toBe('retired');
    expect(vocabCode(WORK_STATUSES, ' in work ')).toBe('employed');
    expect(vocabCode(HARDSHIP_CAUSES, '患重特大疾病')).toBe('serious_illness');
    expect(vocabCode(HARDSHIP_CAUSES, '生病')).toBeUndefined();
  });
});

describe('template', () => {
  it('round trip: headers recognised, example never imported, dropdowns and text formats present', async () => {
    for (const locale of ['zh-CN', 'en'] as const) {
      const buf = await buildTemplate({ campaign, category: needy, locale });
      expect([...buf.subarray(0, 2)]).toEqual([0x50, 0x4b]);
      // Unfilled template: every column is recognised, but there are no rows.
      const parsed = await parseSheet(buf, 'template.xlsx', { required: columnsFor(needy) });
      expect(parsed).toEqual({ ok: false, error: { code: 'empty', params: {} } });

      const wb = new ExcelJS.Workbook();
      await wb.xlsx.load(buf as unknown as ArrayBuffer);
      const data = wb.worksheets[0]!;
      expect(data.getRow(1).getCell(2).value).toBe(locale === 'en' ? 'Resident ID number' : '身份证号码');
      expect(data.getColumn(2).numFmt).toBe('@');
      const help = wb.worksheets.find((w) => w.name === (locale === 'en' ? 'Instructions' : '填写说明'))!;
      let example = false;
      help.eachRow((row) => {
        row.eachCell((c) => {
          if (c.value === EXAMPLE_ID_NUMBER) example = true;
        });
      });
      expect(example).toBe(true);
      const dv = (data as unknown as { dataValidations: { model: Record<string, { type: string }> } })
        .dataValidations.model;
      // (exceljs expands the written range E2:E20001 into one entry per cell when it loads a file)
      for (const col of ['E', 'F', 'G', 'H']) {
        expect(dv[`${col}2`]?.type).toBe('list');
        expect(dv[`${col}20001`]?.type).toBe('list');
      }
      expect(dv['I2']).toBeUndefined();

      // Fill one row in the template and parse it back.
      data.getRow(2).values = [
        '李四',
        '440524188001010014',
        '13912345678',
        '县医院',
        locale === 'en' ? 'Retired' : '退休',
        '深度困难',
        'serious_illness',
        '子女上学、下岗失业',
        '长期患病',
        '中国银行',
        '6217001234567890123',
      ];
      const filled = Buffer.from(await wb.xlsx.writeBuffer());
      const back = await parseSheet(filled, 'filled.xlsx', { required: columnsFor(needy) });
      expect(back.ok).toBe(true);
      if (!back.ok) return;
      expect(back.columns).toEqual(columnsFor(needy));
      expect(back.rows).toHaveLength(1);
      expect(back.rows[0]).toMatchObject({
        line: 2,
        values: { name: '李四', id_number: '440524188001010014', secondary_causes: '子女上学、下岗失业' },
        issues: [],
      });
    }
  });
});

describe('parseSheet', () => {
  it('a number cell with 16+ digits in the ID / card column is a precision error; short numbers are kept', async () => {
    const buf = await xlsx([
      ['姓名', '身份证号码', '手机号码'],
      ['张三', 110105194912310020, 13812345678],
      ['李四', '11010519491231002X', '13812345678'],
    ]);
    const r = await parseSheet(buf, 'a.xlsx');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.rows[0]!.issues).toEqual([
      { column: 'id_number', code: 'number_precision', params: { value: '110105194912310020' } },
    ]);
    expect(r.rows[0]!.values.phone).toBe('13812345678');
    expect(r.rows[1]!.issues).toEqual([]);
  });

  it('reads rich text, formula results, and finds the header under a title row', async () => {
    const buf = await xlsx([
      ['XX工会送温暖名单'],
      [],
      ['序号', '姓名', '身份证号码'],
      [
        1,
        { richText: [{ text: '王' }, { text: '五' }] },
        { formula: '"11010519491231002X"', result: '11010519491231002X' },
      ],
      [],
      [2, '赵六', '440524188001010014'],
    ]);
    const r = await parseSheet(buf, 'b.xlsx');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.headerLine).toBe(3);
    expect(r.rows.map((x) => [x.line, x.values.name, x.values.id_number])).toEqual([
      [4, '王五', '11010519491231002X'],
      [6, '赵六', '440524188001010014'],
    ]);
  });

  it('csv: BOM, quoted fields with commas, quotes and line breaks, CRLF', async () => {
    const text =
      '\uFEFF姓名,身份证号码,情况说明\r\n' +
      '张三,11010519491231002X,"患病，住院, 收入""低"""\r\n' +
      '"李四","440524188001010014","第一行\n第二行"\r\n' +
      ',,\r\n' +
      '王五,1.10105E+17,无\r\n';
    const r = await parseSheet(Buffer.from(text, 'utf8'), 'list.CSV');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.columns).toEqual(['name', 'id_number', 'description']);
    expect(r.rows.map((x) => x.values.description)).toEqual(['患病，住院, 收入"低"', '第一行\n第二行', '无']);
    expect(r.rows.map((x) => x.line)).toEqual([2, 3, 5]);
    expect(r.rows[2]!.issues[0]).toMatchObject({ column: 'id_number', code: 'number_precision' });
    expect([...parseCsv('a;b\n1;2')]).toEqual([
      { line: 1, cells: ['a', 'b'] },
      { line: 2, cells: ['1', '2'] },
    ]);
  });

  it('refuses wrong types by extension and by magic bytes', async () => {
    const zip = await xlsx([['姓名'], ['张三']]);
    expect(await parseSheet(Buffer.from('姓名\n张三'), 'list.xlsx')).toEqual({
      ok: false,
      error: { code: 'wrong_type', params: { ext: 'xlsx' } },
    });
    expect(await parseSheet(Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0, 0]), 'old.xlsx')).toMatchObject({
      error: { code: 'wrong_type' },
    });
    expect(await parseSheet(zip, 'list.csv')).toMatchObject({
      error: { code: 'wrong_type', params: { ext: 'csv' } },
    });
    expect(await parseSheet(zip, 'photo.jpg')).toMatchObject({
      error: { code: 'wrong_type', params: { ext: 'jpg' } },
    });
    expect(await parseSheet(zip, 'old.xls')).toMatchObject({
      error: { code: 'wrong_type', params: { ext: 'xls' } },
    });
    expect(await parseSheet(Buffer.from([0x50, 0x4b, 0x03, 0x04, 1, 2, 3]), 'broken.xlsx')).toMatchObject({
      error: { code: 'corrupt' },
    });
    expect(await parseSheet(Buffer.from([0xd5, 0xc5, 0xc8, 0xfd, 0x2c, 0x31]), 'gbk.csv')).toMatchObject({
      error: { code: 'not_utf8' },
    });
  });

  it('empty sheet, missing columns, duplicate columns, too many rows', async () => {
    expect(await parseSheet(await xlsx([]), 'e.xlsx')).toMatchObject({ error: { code: 'empty' } });
    expect(await parseSheet(Buffer.from('姓名,身份证号码\n'), 'e.csv')).toMatchObject({
      error: { code: 'empty' },
    });
    expect(
      await parseSheet(Buffer.from('姓名,电话\n张三,138'), 'm.csv', {
        required: ['name', 'id_number', 'employer'],
      }),
    ).toEqual({
      ok: false,
      error: { code: 'missing_columns', params: { missing: ['id_number', 'employer'] } },
    });
    expect(await parseSheet(Buffer.from('foo,bar\n1,2'), 'm.csv')).toMatchObject({
      error: { code: 'missing_columns' },
    });
    expect(await parseSheet(Buffer.from('姓名,Full name\n张三,张三'), 'd.csv')).toMatchObject({
      error: { code: 'duplicate_column', params: { column: 'name' } },
    });
    const many = `姓名\n${Array.from({ length: 30 }, () => '张三').join('\n')}`;
    expect(await parseSheet(Buffer.from(many), 'big.csv', { maxRows: 20 })).toMatchObject({
      error: { code: 'too_many_rows', params: { max: 20 } },
    });
  });
});

describe('large files with Chinese text', () => {
  it('keeps every character intact (exceljs streaming reader split UTF-8 at chunk boundaries)', async () => {
    const rows: unknown[][] = [['姓名', '工作单位', '情况说明']];
    for (let i = 0; i < 3000; i++) rows.push(['张三', `县第${i}中学`, '子女上学、下岗失业，患重特大疾病']);
    const r = await parseSheet(await xlsx(rows), 'big.xlsx');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.rows).toHaveLength(3000);
    expect(
      r.rows.every(
        (x, i) => x.values.employer === `县第${i}中学` && !x.values.description?.includes('\uFFFD'),
      ),
    ).toBe(true);
  });
});

describe('checked file', () => {
  it('writes rows back at their line numbers with the problem column first; re-parsing ignores that column', async () => {
    const buf = await buildCheckedFile({
      locale: 'zh-CN',
      columns: ['name', 'id_number'],
      headerLine: 1,
      rows: [
        { line: 2, values: { name: '张三', id_number: '11010519491231002X' }, problems: '', warnings: '' },
        { line: 4, values: { name: '李四', id_number: '123' }, problems: '身份证号码位数不对', warnings: '' },
      ],
    });
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(buf as unknown as ArrayBuffer);
    const ws = wb.worksheets[0]!;
    expect(ws.getRow(1).getCell(1).value).toBe('问题说明');
    expect(ws.getRow(4).getCell(1).value).toBe('身份证号码位数不对');
    expect(ws.getRow(4).getCell(2).value).toBe('李四');
    const again = await parseSheet(buf, 'checked.xlsx', { required: ['name', 'id_number'] });
    expect(again.ok && again.rows.map((r) => r.line)).toEqual([2, 4]);
  });
});
