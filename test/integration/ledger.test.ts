import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import ExcelJS from 'exceljs';
import { beforeAll, describe, expect, it } from 'vitest';
import { FieldCipher } from '../../src/adapters/crypto/field-cipher.ts';
import {
  ENTERED_HEADER,
  parseEntryList,
  writeEntryListXlsx,
  writeLedgerXlsx,
} from '../../src/adapters/files/ledger-xlsx.ts';
import { exportEntryList, markEntered } from '../../src/usecases/report/entry.ts';
import { campaignFigures } from '../../src/usecases/report/figures.ts';
import {
  exportLedger,
  ledgerAccess,
  ledgerPages,
  parseLedgerFilters,
} from '../../src/usecases/report/ledger.ts';
import { useTestDatabase } from '../support/test-db.ts';
import { makeCard, makeId } from '../support/fixtures.ts';
import { NOW, seedCountyCampaign } from '../support/report-fixtures.ts';

// Ledger export (masking by role, audit rows, paging, filters) and the provincial entry list round trip
// (list → "是" in the last column → sent back → marked entered), on real PostgreSQL.

const { db } = useTestDatabase();
const cipher = new FieldCipher([{ version: 1, key: randomBytes(32) }]);
let seeded: Awaited<ReturnType<typeof seedCountyCampaign>>;
const ID = makeId('19800101', 11);
const PHONE = '13812345678';
const CARD = makeCard();

beforeAll(async () => {
  seeded = await seedCountyCampaign(db, 'fumin-2026', cipher);
  // Sensitive fields on the paid needy workers.
  for (const id of [...seeded.paid.slice(0, 58), seeded.paid[62]!]) {
    await db.nomination.update({
      where: { id },
      data: {
        idNumberEnc: cipher.encrypt(ID),
        idNumberHash: cipher.hash('id', ID),
        phoneEnc: cipher.encrypt(PHONE),
        bankCardEnc: cipher.encrypt(CARD),
        bankCardLast4: CARD.slice(-4),
        bankName: '农业银行',
        sex: 'male',
        birthDate: new Date('1980-01-01T00:00:00Z'),
        hardshipTier: 'deep',
        mainCause: 'serious_illness',
        secondaryCauses: ['child_education'],
      },
    });
  }
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

async function readSheet(buf: Buffer, index = 0) {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(buf as unknown as ArrayBuffer);
  return wb.worksheets[index]!;
}

describe('ledger', () => {
  it('access by role: admin and finance full, reviewer masked, contact none', () => {
    expect(ledgerAccess(new Set(['admin']))).toBe('full');
    expect(ledgerAccess(new Set(['finance']))).toBe('full');
    expect(ledgerAccess(new Set(['reviewer']))).toBe('masked');
    expect(ledgerAccess(new Set(['reviewer', 'finance']))).toBe('full');
    expect(ledgerAccess(new Set(['contact']))).toBeNull();
    expect(ledgerAccess(new Set(['recipient']))).toBeNull();
    // Auditors: masked unless the campaign file allows full values (settings.auditor_full_values).
    expect(ledgerAccess(new Set(['auditor']))).toBe('masked');
    expect(ledgerAccess(new Set(['auditor']), { auditorFullValues: false })).toBe('masked');
    expect(ledgerAccess(new Set(['auditor']), { auditorFullValues: true })).toBe('full');
    expect(ledgerAccess(new Set(['reviewer']), { auditorFullValues: true })).toBe('masked');
  });

  it('masks ID number, phone and bank card for reviewers; full values for admin / finance', async () => {
    const first = async (access: 'full' | 'masked') => {
      for await (const page of ledgerPages(db, cipher, {
        campaignId: seeded.campaign.id,
        access,
        filters: { statuses: ['paid'] },
      }))
        return page.find((r) => r.id === seeded.paid[0]);
    };
    const full = await first('full');
    const masked = await first('masked');
    expect(full).toMatchObject({
      idNumber: ID,
      phone: PHONE,
      bankCard: CARD,
      deliveredFen: 80_000,
      entryDeadline: '2026-03-30',
    });
    expect(masked).toMatchObject({
      idNumber: `${ID.slice(0, 6)}********${ID.slice(14)}`,
      phone: '138****5678',
      bankCard: `**** ${CARD.slice(-4)}`,
    });
    expect(JSON.stringify(masked)).not.toContain(ID);
    expect(JSON.stringify(masked)).not.toContain(CARD);
  });

  it('a handed-over row carries its delivery day and entry deadline like a paid one', async () => {
    const id = seeded.delivered[0]!; // a department's condolence, handed over on 10 Feb
    let row: { deliveredOn: string | null; entryDeadline: string | null } | undefined;
    for await (const page of ledgerPages(db, cipher, { campaignId: seeded.campaign.id, access: 'masked' }))
      row ??= page.find((r) => r.id === id);
    // 30 working days after 10 Feb 2026 over the Spring Festival, as for a payment made that day.
    expect(row).toMatchObject({ deliveredOn: '2026-02-10', entryDeadline: '2026-03-30' });
  });

  it('pages with a keyset and applies filters', async () => {
    const ids: number[] = [];
    let pages = 0;
    for await (const page of ledgerPages(db, cipher, {
      campaignId: seeded.campaign.id,
      access: 'masked',
      pageSize: 64,
    })) {
      pages++;
      ids.push(...page.map((r) => r.id));
    }
    expect(ids.length).toBe(600); // drafts left out
    expect(pages).toBe(Math.ceil(600 / 64));
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    const parsed = await parseLedgerFilters(db, seeded.campaign.id, [
      'category=gig_worker',
      'status=paid,已交付',
    ]);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    let n = 0;
    for await (const page of ledgerPages(db, cipher, {
      campaignId: seeded.campaign.id,
      access: 'masked',
      filters: parsed.filters,
    }))
      n += page.length;
    expect(n).toBe(86);
    expect(await parseLedgerFilters(db, seeded.campaign.id, ['status=nope'])).toEqual({
      ok: false,
      problem: { code: 'status_unknown', value: 'nope' },
    });
    expect(await parseLedgerFilters(db, seeded.campaign.id, ['union=不存在的工会'])).toMatchObject({
      ok: false,
      problem: { code: 'union_unknown' },
    });
  });

  it('a full export writes the .xlsx and one audit row (no values in it); a masked one is audited too', async () => {
    const figures = await campaignFigures(db, seeded.campaign.id, NOW);
    const buf = await toBuffer((out) =>
      exportLedger(db, cipher, {
        campaignId: seeded.campaign.id,
        access: 'full',
        actorId: seeded.person.id,
        filters: { statuses: ['paid'] },
        sink: (pages) => writeLedgerXlsx(out, pages, { locale: 'zh-CN', title: '台账', figures }),
      }),
    );
    const ws = await readSheet(buf);
    expect(ws.rowCount).toBe(2 + 112);
    const header = (ws.getRow(2).values as string[]).slice(1);
    const row = ws.getRow(3).values as unknown[];
    expect(row[header.indexOf('身份证号码') + 1]).toBe(ID);
    expect(row[header.indexOf('状态') + 1]).toBeTypeOf('string');
    const summary = await readSheet(buf, 1);
    expect(summary.getRow(5).values).toContain(8);
    // The audit chain's head at export, so a copy kept elsewhere proves what the trail said then.
    const lastLine = String((summary.getRow(summary.rowCount).values as unknown[])[1]);
    expect(figures.auditHead).toMatch(/^#[1-9]\d* [0-9a-f]{64}$/);
    expect(lastLine).toContain(figures.auditHead);
    const audits = await db.auditLog.findMany({ where: { action: 'ledger.export_full' } });
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({
      actorId: seeded.person.id,
      entity: 'campaign',
      entityId: String(seeded.campaign.id),
    });
    expect(audits[0]!.after).toMatchObject({ rows: 112, statuses: ['paid'] });
    expect(JSON.stringify(audits[0]!.after)).not.toContain(ID);

    await toBuffer((out) =>
      exportLedger(db, cipher, {
        campaignId: seeded.campaign.id,
        access: 'masked',
        actorId: seeded.person.id,
        sink: (pages) => writeLedgerXlsx(out, pages, { locale: 'en', title: 'Ledger' }),
      }),
    );
    expect(await db.auditLog.count({ where: { action: 'ledger.export_masked' } })).toBe(1);
  });
});

describe('provincial entry list', () => {
  it('lists paid records not yet entered; sent back with "是" they are marked entered and audited', async () => {
    const before = await campaignFigures(db, seeded.campaign.id, NOW);
    expect(before.timeliness.entry).toMatchObject({ due: 10, overdue: 40 });
    const buf = await toBuffer((out) =>
      exportEntryList(db, cipher, {
        campaignId: seeded.campaign.id,
        actorId: seeded.person.id,
        sink: (pages) => writeEntryListXlsx(out, pages, { locale: 'zh-CN', title: '录入清单' }),
      }),
    );
    expect(await db.auditLog.count({ where: { action: 'entry.list_export' } })).toBe(1);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(buf as unknown as ArrayBuffer);
    const ws = wb.worksheets[0]!;
    const header = (ws.getRow(2).values as string[]).slice(1);
    expect(header).toEqual([
      '编号',
      '姓名',
      '身份证号码',
      '性别',
      '出生日期',
      '手机号码',
      '工作单位',
      '慰问类别',
      '困难类别',
      '主要致困原因',
      '次要致困原因',
      '慰问金额（元）',
      '慰问形式',
      '发放日期',
      '开户银行',
      '银行卡号',
      '基层工会',
      '录入期限',
      ENTERED_HEADER.zh,
    ]);
    expect(ws.rowCount).toBe(2 + 50);
    const first = ws.getRow(3).values as unknown[];
    expect(first.slice(1, 17)).toEqual([
      seeded.paid[62],
      expect.any(String),
      ID,
      '男',
      '1980-01-01',
      PHONE,
      undefined,
      '新就业形态劳动者',
      '深度困难',
      '患重特大疾病',
      '子女上学',
      200,
      '实名制打款',
      '2026-02-10',
      '农业银行',
      CARD,
    ]);
    // Staff tick 30 rows ("是", a date, "√"), leave 20 blank.
    for (let r = 3; r < 33; r++)
      ws.getRow(r).getCell(header.length).value = r % 3 === 0 ? '是' : r % 3 === 1 ? '2026-04-01' : '√';
    const returned = Buffer.from(await wb.xlsx.writeBuffer());
    const parsed = await parseEntryList(returned);
    expect(parsed).toMatchObject({ ok: true, notMarked: 20, badIds: 0 });
    if (!parsed.ok) return;
    expect(parsed.entered).toHaveLength(30);
    const r = await markEntered(db, { actorId: seeded.person.id, nominationIds: parsed.entered, now: NOW });
    expect(r.marked).toHaveLength(30);
    expect(r.campaignIds).toEqual([seeded.campaign.id]);
    expect(await db.auditLog.count({ where: { action: 'nomination.entered_provincial' } })).toBe(30);
    // Again: nothing changes.
    const again = await markEntered(db, {
      actorId: seeded.person.id,
      nominationIds: parsed.entered,
      now: NOW,
    });
    expect(again).toMatchObject({ marked: [], alreadyEntered: parsed.entered.sort((a, b) => a - b) });
    const after = await campaignFigures(db, seeded.campaign.id, NOW);
    expect(after.timeliness.entry.entered).toBe(before.timeliness.entry.entered + 30);
    expect(after.timeliness.entry.due + after.timeliness.entry.overdue).toBe(20);
  });

  it('by command: unknown, not paid and already entered ids are reported, not marked', async () => {
    const notPaid = seeded.unpaid[0]!; // approved, not paid yet
    const r = await markEntered(db, {
      actorId: seeded.person.id,
      nominationIds: [notPaid, 99_999_999, seeded.paid[0]!],
      now: NOW,
    });
    expect(r).toMatchObject({
      marked: [],
      notPaid: [notPaid],
      unknown: [99_999_999],
      alreadyEntered: [seeded.paid[0]],
    });
  });

  it('a sheet that is not an entry list is not taken for one', async () => {
    const wb = new ExcelJS.Workbook();
    wb.addWorksheet('x').addRow(['姓名', '身份证号码']);
    expect(await parseEntryList(Buffer.from(await wb.xlsx.writeBuffer()))).toEqual({
      ok: false,
      code: 'not_entry_list',
    });
    expect(await parseEntryList(Buffer.from('not a zip'))).toEqual({ ok: false, code: 'unreadable' });
  });
});
