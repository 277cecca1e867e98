import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pngSize } from '../../src/adapters/files/chart.ts';
import { seedContact } from '../support/fixtures.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { NOW, seedCountyCampaign } from '../support/report-fixtures.ts';

// /report, /export, /entry_list, /entry_status and a returned entry list, through the real bot and the
// emulator; a contact is refused.

const ADMIN = 9701;
const REVIEWER = 9702;
const CONTACT = 9703;
let h: Harness;
let seeded: Awaited<ReturnType<typeof seedCountyCampaign>>;

beforeAll(async () => {
  h = await startHarness({ admins: [ADMIN], now: () => NOW });
  seeded = await seedCountyCampaign(h.app.db, 'fumin-e2e', h.app.cipher);
  const reviewer = await h.app.db.person.create({
    data: { telegramId: BigInt(REVIEWER), displayName: '审核员' },
  });
  await h.app.db.roleGrant.create({ data: { personId: reviewer.id, role: 'reviewer', scope: 'global' } });
  await seedContact(h.app.db, CONTACT, '县供电局工会');
});
afterAll(async () => {
  await h?.stop();
});

const user = (id: number) => h.emu.user(id, { firstName: '测试', languageCode: 'zh-hans' });

async function sheetOf(bytes: Buffer) {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(bytes as unknown as ArrayBuffer);
  return wb;
}

describe('reports in the chat', () => {
  it('/report: summary message, chart photo and the .docx draft', async () => {
    const u = user(ADMIN);
    await u.send('/report fumin-e2e');
    const summary = await u.expectReply(/截至 2026年4月2日/);
    expect(summary.text).toContain('直接慰问 99900.00 元，拨付基层工会 50000.00 元，合计支出 149900.00 元');
    expect(summary.text).toContain('· 困难职工：58 人，46400.00 元');
    expect(summary.text).toContain('· 节日期间坚守公共服务保障的部门：8 个');
    expect(summary.text).toContain('资金发放率 99.5%（已发放 590 / 审核通过 593）');
    const photo = await u.expectReply((m) => Boolean(m.photo));
    expect(pngSize(await u.download(photo))).toEqual({ width: 1600, height: 900 });
    const doc = await u.expectDocument(/\.docx/);
    expect(doc.document?.file_name).toBe('绩效评价报告草稿-fumin-e2e-2026-04-02.docx');
    expect((await u.download(doc)).subarray(0, 2).toString('latin1')).toBe('PK');
    // Built by a staff job: the chat answered at once with one message, which ends as the result.
    let job = await h.app.db.staffJob.findFirstOrThrow({ where: { kind: 'report' } });
    for (let i = 0; i < 100 && job.status !== 'delivered'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      job = await h.app.db.staffJob.findFirstOrThrow({ where: { id: job.id } });
    }
    expect(job.status).toBe('delivered');
    expect(job.activeKey).toBeNull();
    const ack = (await u.messages()).find((m) => m.messageId === job.messageId)!;
    expect(ack.messageId).toBeLessThan(summary.messageId);
    expect(ack.text).toMatch(/报表已生成/);
  });

  it('/export: admin gets full values, a reviewer masked ones; both audited', async () => {
    const a = user(ADMIN);
    await a.send('/export fumin-e2e status=paid');
    const full = await a.expectDocument(/台账-fumin-e2e/);
    const ws = (await sheetOf(await a.download(full))).worksheets[0]!;
    expect(ws.rowCount).toBe(2 + 112);
    const r = user(REVIEWER);
    await r.send('/export fumin-e2e category=困难职工');
    const masked = await r.expectDocument(/台账-fumin-e2e/);
    expect(masked.caption).toContain('已脱敏');
    expect((await sheetOf(await r.download(masked))).worksheets[0]!.rowCount).toBe(
      2 + 58 + 2 + 1 + 3 + 1 + 1 + 2,
    );
    expect(await h.app.db.auditLog.count({ where: { action: 'ledger.export_full' } })).toBe(1);
    expect(await h.app.db.auditLog.count({ where: { action: 'ledger.export_masked' } })).toBe(1);
    await r.send('/export fumin-e2e status=whatever');
    await r.expectReply(/无法识别的状态“whatever”/);
  });

  it('a contact is refused /report, /export and /entry_list', async () => {
    const c = user(CONTACT);
    for (const cmd of ['/report fumin-e2e', '/export fumin-e2e', '/entry_list fumin-e2e']) {
      await c.send(cmd);
      await c.expectReply(/您没有办理此项业务的权限/);
    }
    const r = user(REVIEWER);
    await r.send('/entry_list fumin-e2e');
    await r.expectReply(/您没有办理此项业务的权限/);
  });

  it('/entry_list, the list sent back with “是”, /entry_status', async () => {
    const a = user(ADMIN);
    await a.send('/entry_status fumin-e2e');
    await a.expectReply(/待录入 10（最近期限 2026-05-07），已逾期未录入 40/);
    await a.send('/entry_list fumin-e2e');
    const list = await a.expectDocument(/省帮扶系统录入清单/);
    const wb = await sheetOf(await a.download(list));
    const ws = wb.worksheets[0]!;
    expect(ws.rowCount).toBe(2 + 50);
    const last = ws.getRow(2).cellCount;
    for (let r = 3; r < 8; r++) ws.getRow(r).getCell(last).value = '是';
    await a.upload({ fileName: '录入清单-已录入.xlsx', bytes: Buffer.from(await wb.xlsx.writeBuffer()) });
    await a.expectReply(/已标记 5 条记录为已录入省帮扶系统/);
    await a.send('/entry_status fumin-e2e');
    await a.expectReply(/已录入 545/);
    await a.send(`/entry_mark fumin-e2e ${seeded.paid[70]} 99999999`);
    const reply = await a.expectReply(/已标记 1 条/);
    expect(reply.text).toContain('1 个编号不存在：99999999');
    // "all" marks every delivered record still waiting; once none is left it says so.
    await a.send('/entry_mark fumin-e2e all');
    await a.expectReply(/已标记 \d+ 条/);
    await a.send('/entry_mark fumin-e2e all');
    await a.expectReply(/没有待录入省帮扶系统的记录/);
    await a.send('/entry_status fumin-e2e');
    await a.expectReply(/已录入 590/);
  });
});
