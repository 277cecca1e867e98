import { taskJobId } from '../../src/usecases/review/tasks.ts';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSheet } from '../../src/adapters/files/nomination-sheet.ts';
import { startHarness, type Harness } from '../support/harness.ts';

// Spreadsheet upload through the real bot and the emulator: /template, a mixed file, submit, cancel,
// and the refusals (wrong type, empty sheet, missing columns, oversized file, not a contact).

const CONTACT = 8101;
const STRANGER = 8102;
let h: Harness;
let unionId = 0;
let frontlineId = 0;

beforeAll(async () => {
  h = await startHarness();
  const db = h.app.db;
  const fed = await db.federation.create({ data: { name: '富民县总工会' } });
  const day = 24 * 3600_000;
  const campaign = await db.campaign.create({
    data: {
      code: 'e2e-upload',
      federationId: fed.id,
      titleZh: '上传测试活动',
      titleEn: 'Upload test campaign',
      organiser: '富民县总工会',
      status: 'open',
      budgetTotalFen: 10_000_000n,
      nominationOpensAt: new Date(Date.now() - day),
      nominationClosesAt: new Date(Date.now() + 10 * day),
      reviewDeadline: new Date(Date.now() + 20 * day),
      targetPaymentDate: new Date(Date.now() + 25 * day),
    },
  });
  const frontline = await db.campaignCategory.create({
    data: {
      campaignId: campaign.id,
      code: 'frontline_worker',
      nameZh: '节日值守一线职工',
      nameEn: 'Frontline workers',
      kind: 'frontline_worker',
      standardAmountFen: 15000,
      benefitForms: ['in_kind'],
      requiredFields: ['name', 'id_number', 'phone', 'employer'],
      sortOrder: 1,
    },
  });
  await db.campaignCategory.create({
    data: {
      campaignId: campaign.id,
      code: 'gig_worker',
      nameZh: '新就业形态劳动者',
      nameEn: 'Gig workers',
      kind: 'gig_worker',
      standardAmountFen: 20000,
      benefitForms: ['transfer', 'in_kind'],
      requiredFields: ['name', 'id_number', 'phone', 'employer'],
      sortOrder: 2,
    },
  });
  frontlineId = frontline.id;
  const union = await db.union.create({ data: { federationId: fed.id, name: '县自来水公司工会' } });
  const other = await db.union.create({ data: { federationId: fed.id, name: '县供电局工会' } });
  unionId = union.id;
  const person = await db.person.create({ data: { telegramId: BigInt(CONTACT), displayName: '张联系' } });
  await db.roleGrant.create({
    data: { personId: person.id, role: 'contact', scope: `union:${union.id}`, unionId: union.id },
  });
  // Another union already nominated 440524188001010014.
  const cipher = h.app.cipher;
  await db.nomination.create({
    data: {
      campaignId: campaign.id,
      categoryId: frontline.id,
      unionId: other.id,
      submittedById: person.id,
      status: 'submitted',
      fullName: '赵已报',
      idNumberHash: cipher.hash('id', '440524188001010014'),
      idNumberEnc: cipher.encrypt('440524188001010014'),
      amountFen: 15000,
      benefitForm: 'in_kind',
      dedupKey: `${campaign.id}:${cipher.hash('id', '440524188001010014')}`,
    },
  });
});

afterAll(async () => {
  await h?.stop();
});

function validId(first17: string): string {
  const W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...first17].reduce((a, d, i) => a + Number(d) * W[i]!, 0);
  return first17 + '10X98765432'[sum % 11]!;
}

const contact = () => h.emu.user(CONTACT, { firstName: '张联系', languageCode: 'zh-hans' });

async function filledTemplate(template: Buffer, rows: string[][]): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(template as unknown as ArrayBuffer);
  const ws = wb.worksheets[0]!;
  rows.forEach((r, i) => {
    ws.getRow(i + 2).values = r;
  });
  return Buffer.from(await wb.xlsx.writeBuffer());
}

let template: Buffer;

describe('spreadsheet upload', () => {
  it('/template: choose the category, get the .xlsx with headers in the user language', async () => {
    const u = contact();
    await u.send('/template');
    await u.expectReply(/请选择申报类别/);
    await u.press(/节日值守一线职工/);
    const doc = await u.expectDocument(/\.xlsx/);
    expect(doc.document?.file_name).toBe('申报名单模板-frontline_worker.xlsx');
    template = await u.download(doc);
    const parsed = await parseSheet(template, 'x.xlsx', {
      required: ['name', 'id_number', 'phone', 'employer'],
    });
    expect(parsed).toMatchObject({ ok: false, error: { code: 'empty' } });
    await u.send('/start');
    await u.expectReply();
    await new Promise((r) => setTimeout(r, 200));
    const menu = (await u.commands()).map((c) => c.command);
    expect(menu).toContain('template');
  });

  it('mixed rows: summary, checked file with the problem column, submit the valid rows', async () => {
    const u = contact();
    const file = await filledTemplate(template, [
      ['王五', '11010519491231002X', '13912345678', '县自来水公司'],
      ['李四', '11010519491231002Y', '139123', '县自来水公司'],
      ['赵六', '440524188001010014', '13712345678', '县自来水公司'],
      ['钱七', validId('11010519800115001'), '13612345678', '县自来水公司'],
    ]);
    await u.upload({ fileName: '一线职工名单.xlsx', bytes: file });
    const checked = await u.expectDocument(/检查结果/);
    const summary = await u.expectReply(/检查完毕/);
    expect(summary.text).toMatch(/共 4 行，其中 2 行有效，2 行有问题/);
    expect(summary.text).toMatch(/第 3 行：身份证号码：/);
    expect(summary.text).toMatch(/第 4 行：此人已由其他基层工会申报，不能重复申报/);

    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load((await u.download(checked)) as unknown as ArrayBuffer);
    const ws = wb.worksheets[0]!;
    expect(ws.getRow(1).getCell(1).value).toBe('问题说明');
    expect(ws.getRow(2).getCell(1).value ?? '').toBe('');
    expect(String(ws.getRow(3).getCell(1).value)).toMatch(/身份证号码.*手机号码/s);
    expect(String(ws.getRow(4).getCell(1).value)).toMatch(/已由其他基层工会申报/);
    expect(String(ws.getRow(4).getCell(1).value)).not.toMatch(/县供电局工会/);
    expect(ws.getRow(5).getCell(2).value).toBe('钱七');

    expect(await h.app.db.nomination.count({ where: { source: 'upload', status: 'draft' } })).toBe(2);
    // What the checks caught counts for the evaluation's data-accuracy figures.
    const blocked = await h.app.db.auditLog.findMany({ where: { action: 'nomination.entry_blocked' } });
    expect(blocked.map((b) => (b.after as { reason: string; source: string }).reason).sort()).toEqual([
      'duplicate',
      'id_invalid',
    ]);
    expect(blocked.every((b) => (b.after as { source: string }).source === 'sheet')).toBe(true);
    await u.press('提交 2 条有效记录');
    await u.expectEdit(/已提交 2 条申报，合计 300\.00 元/);
    const done = await h.app.db.nomination.findMany({ where: { source: 'upload' } });
    expect(done.map((n) => [n.fullName, n.status, n.unionId, n.categoryId])).toEqual(
      expect.arrayContaining([
        ['王五', 'submitted', unionId, frontlineId],
        ['钱七', 'submitted', unionId, frontlineId],
      ]),
    );
    expect(done).toHaveLength(2);
    // Each submitted row gets its review task (revision 1), like a dialog submission.
    const review = h.app.queues.get('review');
    const tasks = async () => Promise.all(done.map((n) => review.getJob(taskJobId(n.id, 1))));
    for (let i = 0; i < 100 && (await tasks()).some((j) => !j); i++)
      await new Promise((r) => setTimeout(r, 50));
    expect((await tasks()).every(Boolean)).toBe(true);
  });

  it('cancel deletes the held rows', async () => {
    const u = contact();
    const csv = `\uFEFF姓名,身份证号码,手机号码,工作单位\r\n孙八,${validId('11010519800215001')},13512345678,"县水务局, 一所"\r\n`;
    await u.upload({ fileName: 'list.csv', bytes: Buffer.from(csv, 'utf8') });
    await u.expectReply(/共 1 行，其中 1 行有效/);
    expect(await h.app.db.nomination.count({ where: { source: 'upload', status: 'draft' } })).toBe(1);
    await u.press('取消');
    await u.expectEdit(/已取消/);
    expect(await h.app.db.nomination.count({ where: { source: 'upload', status: 'draft' } })).toBe(0);
  });

  it('a check the contact cannot be told about stores nothing (the bot is blocked when it says "checking")', async () => {
    const u = contact();
    const before = await h.app.db.nomination.count({ where: { source: 'upload' } });
    const forbidden = h.emu.emulator.stats().forbidden;
    const csv = `\uFEFF姓名,身份证号码,手机号码,工作单位\r\n周九,${validId('11010519800315001')},13412345678,县水务局\r\n`;
    await u.handle.block();
    try {
      await u.upload({ fileName: 'list.csv', bytes: Buffer.from(csv, 'utf8') });
      // Until the bot's "checking" message has been refused (403: blocked).
      for (let i = 0; i < 200 && h.emu.emulator.stats().forbidden === forbidden; i++)
        await new Promise((r) => setTimeout(r, 50));
      expect(h.emu.emulator.stats().forbidden).toBeGreaterThan(forbidden);
    } finally {
      await u.handle.unblock();
    }
    // The chat's next update is handled after the upload's is done; a check left running would store
    // its rows within moments, so the count is watched for a while.
    await u.send('/start');
    await u.expectReply(/您好/);
    for (let i = 0; i < 30; i++) {
      expect(await h.app.db.nomination.count({ where: { source: 'upload' } })).toBe(before);
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  it('wrong type, empty sheet, missing columns, oversized file: a clear message each, nothing stored', async () => {
    const u = contact();
    const before = await h.app.db.nomination.count();
    await u.upload({ fileName: 'scan.pdf', bytes: Buffer.from('%PDF-1.4') });
    await u.expectReply(/无法识别此类文件（\.pdf）/);
    await u.upload({ fileName: 'fake.xlsx', bytes: Buffer.from('姓名,身份证号码\n张三,1') });
    await u.expectReply(/无法识别此类文件（\.xlsx）/);
    await u.upload({ fileName: 'empty.xlsx', bytes: template });
    await u.expectReply(/没有需要申报的数据/);
    await u.upload({ fileName: 'cols.csv', bytes: Buffer.from('姓名,手机号码\n张三,13812345678\n') });
    await u.expectReply(/缺少以下栏目：“身份证号码”、“工作单位”/);
    await u.upload({ fileName: 'big.csv', bytes: Buffer.alloc(5 * 1024 * 1024 + 10, 0x41) });
    await u.expectReply(/文件过大（5\.0 MB），上限为 5\.0 MB/);
    expect(await h.app.db.nomination.count()).toBe(before);
  });

  it('someone who is not a contact cannot upload', async () => {
    const s = h.emu.user(STRANGER, { firstName: '路人', languageCode: 'zh-hans' });
    await s.upload({ fileName: 'list.xlsx', bytes: template });
    await s.expectReply(/只有基层工会联系人可以上传/);
    await s.send('/template');
    await s.expectReply(/没有办理此项业务的权限/);
  });
});
