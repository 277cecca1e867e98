import { describe, expect, it } from 'vitest';
import { XlsxFile } from '../../src/adapters/files/xlsx-rows.ts';
import { parseSheet } from '../../src/adapters/files/nomination-sheet.ts';
import { buildZip } from '../fixtures/hostile/generate.ts';

// The nomination sheet's XML reader on hand-written parts: what Excel, WPS and LibreOffice write that
// exceljs' writer (the round-trip tests in nomination-sheet.test.ts) does not — phonetic runs, inline
// strings, formula results, error cells, date styles, numeric entities, a hidden first sheet, cells
// without a reference.

const workbook = (sheets: string) =>
  `<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><workbookPr/><sheets>${sheets}</sheets></workbook>`;
const rels = (targets: string[]) =>
  `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">${targets
    .map((t, i) => `<Relationship Id="rId${i + 1}" Type="x" Target="${t}"/>`)
    .join('')}</Relationships>`;
const sheet = (rows: string) =>
  `<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>${rows}</sheetData></worksheet>`;

async function file(parts: Record<string, string>) {
  return buildZip(Object.entries(parts).map(([name, text]) => ({ name, data: Buffer.from(text, 'utf8') })));
}

const styles = `<styleSheet><numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy&quot;年&quot;m&quot;月&quot;d&quot;日&quot;"/></numFmts>
<cellXfs count="4"><xf numFmtId="0"/><xf numFmtId="49"/><xf numFmtId="14"/><xf numFmtId="164"/></cellXfs></styleSheet>`;

describe('xlsx-rows', () => {
  it('reads shared, rich, phonetic, inline, formula, error, boolean, number and date cells', async () => {
    const bytes = await file({
      'xl/workbook.xml': workbook(
        '<sheet name="隐藏" sheetId="1" state="hidden" r:id="rId1"/><sheet name="申报名单" sheetId="2" r:id="rId2"/>',
      ),
      'xl/_rels/workbook.xml.rels': rels(['worksheets/sheet1.xml', '/xl/worksheets/sheet2.xml']),
      'xl/sharedStrings.xml': `<sst><si><t>姓名</t></si><si><r><t>张</t></r><r><rPr><b/></rPr><t xml:space="preserve">三 </t></r><rPh sb="0" eb="1"><t>ジャン</t></rPh></si><si><t>A&amp;B &lt;1&gt; &#x4E2D;&#25991;</t></si><si/></sst>`,
      'xl/styles.xml': styles,
      'xl/worksheets/sheet1.xml': sheet(
        '<row r="1"><c r="A1" t="inlineStr"><is><t>不应读取</t></is></c></row>',
      ),
      'xl/worksheets/sheet2.xml': sheet(
        [
          '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="C1" t="s"><v>2</v></c></row>',
          '<row r="3" spans="1:8"><c r="A3" t="s"><v>1</v></c><c r="B3" t="inlineStr"><is><r><t>内</t></r><r><t>联</t></r></is></c>',
          '<c r="C3" t="str"><f>CONCAT("a","b")</f><v>ab</v></c><c r="D3"><f>1+1</f><v>2</v></c><c r="E3" t="e"><v>#N/A</v></c>',
          '<c r="F3" t="b"><v>1</v></c><c r="G3" s="1"><v>110105194912310021</v></c><c r="H3" s="2"><v>45292</v></c>',
          '<c r="I3" s="3"><v>45293.5</v></c><c r="J3" s="1"/><c r="K3" t="s"><v>3</v></c></row>',
          '<row><c t="n"><v>7</v></c><c><v>8</v></c></row>',
          '<row r="9"/>',
        ].join(''),
      ),
    });
    const x = new XlsxFile(bytes);
    const sheets = x.sheets();
    expect(sheets.map((s) => [s.name, s.state, s.part])).toEqual([
      ['隐藏', 'hidden', 'xl/worksheets/sheet1.xml'],
      ['申报名单', 'visible', 'xl/worksheets/sheet2.xml'],
    ]);
    const rows = [...x.rows(sheets[1]!.part!)];
    // A row without cells (<row r="9"/>) yields nothing: blank rows are skipped anyway.
    expect(rows.map((r) => r.line)).toEqual([1, 3, 4]);
    expect(rows[0]!.cells).toEqual(['姓名', null, 'A&B <1> 中文']);
    expect(rows[1]!.cells).toEqual([
      '张三 ', // rich text joined, the phonetic run left out
      '内联',
      'ab',
      2,
      '#N/A',
      true,
      110105194912310020, // a number cell: the precision check of nomination-sheet.ts refuses it
      new Date('2024-01-01T00:00:00Z'),
      new Date('2024-01-02T12:00:00Z'),
      null,
      '',
    ]);
    expect(rows[2]!.cells).toEqual([7, 8]);
  });

  it('parseSheet: the first visible data sheet, header found, digits kept as text, number ID refused', async () => {
    const bytes = await file({
      'xl/workbook.xml': workbook(
        '<sheet name="填写说明" sheetId="1" r:id="rId1"/><sheet name="名单" sheetId="2" r:id="rId2"/>',
      ),
      'xl/_rels/workbook.xml.rels': rels(['worksheets/sheet1.xml', 'worksheets/sheet2.xml']),
      'xl/worksheets/sheet1.xml': sheet(
        '<row r="1"><c r="A1" t="inlineStr"><is><t>姓名</t></is></c><c r="B1" t="inlineStr"><is><t>身份证号码</t></is></c></row><row r="2"><c r="A2" t="inlineStr"><is><t>例子</t></is></c><c r="B2" t="inlineStr"><is><t>11010519491231002X</t></is></c></row>',
      ),
      'xl/worksheets/sheet2.xml': sheet(
        '<row r="1"><c r="A1" t="inlineStr"><is><t>2026年申报</t></is></c></row>' +
          '<row r="2"><c r="A2" t="inlineStr"><is><t>姓名</t></is></c><c r="B2" t="inlineStr"><is><t>身份证号码（18位）</t></is></c></row>' +
          '<row r="3"><c r="A3" t="inlineStr"><is><t>王芳</t></is></c><c r="B3" t="inlineStr"><is><t>11010519491231002X</t></is></c></row>' +
          '<row r="4"><c r="A4" t="inlineStr"><is><t>李强</t></is></c><c r="B4"><v>110105194912310020</v></c></row>',
      ),
    });
    const r = await parseSheet(bytes, 'list.xlsx');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.headerLine).toBe(2);
    expect(r.columns).toEqual(['name', 'id_number']);
    expect(r.rows).toEqual([
      { line: 3, values: { name: '王芳', id_number: '11010519491231002X' }, issues: [] },
      {
        line: 4,
        values: { name: '李强' },
        issues: [{ column: 'id_number', code: 'number_precision', params: { value: '110105194912310020' } }],
      },
    ]);
  });

  it('a zip that is not a workbook is "corrupt"; a workbook without a data sheet is "empty"', async () => {
    const notBook = await file({ 'word/document.xml': '<w:document/>' });
    expect(await parseSheet(notBook, 'a.xlsx')).toEqual({
      ok: false,
      error: { code: 'corrupt', params: {} },
    });
    const helpOnly = await file({
      'xl/workbook.xml': workbook('<sheet name="Instructions" sheetId="1" r:id="rId1"/>'),
      'xl/_rels/workbook.xml.rels': rels(['worksheets/sheet1.xml']),
      'xl/worksheets/sheet1.xml': sheet(''),
    });
    expect(await parseSheet(helpOnly, 'a.xlsx')).toEqual({ ok: false, error: { code: 'empty', params: {} } });
  });
});
