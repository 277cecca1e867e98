import ExcelJS from 'exceljs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallbackCodec } from '../../src/adapters/telegram/callback-data.ts';
import type { CommandSpec, DialogSpec } from '../../src/adapters/telegram/kit.ts';
import { seedContact } from '../support/fixtures.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { NOW, seedCountyCampaign } from '../support/report-fixtures.ts';

// Issue 15: the auditor (审计人员) reads and verifies, and can change nothing. The list of what to try is
// the bot's own feature registry (every command, button and dialog of `allFeatures`), so a command added
// later is tried too: all that are not declared `readOnly` must refuse an auditor, and after the whole
// walk no table but the audit trail has changed. Every auditor read is in the audit trail.
//
// Emulator limits are off here: the walk sends ~80 commands and presses ~60 buttons, one reply each;
// at 1 message/s per chat that is minutes of waiting that test pacing, not the refusals (pacing is
// covered by the ordering and dialog tests).

const ADMIN = 9801;
const AUDITOR = 9802;
const REVIEWER = 9803;
const CONTACT = 9804;
const READ_ONLY = /只能查阅和核验，不能修改任何数据/;
let h: Harness;
let seeded: Awaited<ReturnType<typeof seedCountyCampaign>>;
let sql: pg.Client;

/** A fingerprint of every table except the audit trail (and its chain head). */
async function fingerprint(): Promise<Record<string, string>> {
  const tables = await sql.query<{ t: string }>(
    `SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public'
       AND tablename NOT IN ('audit_log', 'audit_chain', '_prisma_migrations') ORDER BY 1`,
  );
  const out: Record<string, string> = {};
  for (const { t } of tables.rows) {
    const r = await sql.query<{ h: string | null; n: string }>(
      `SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS h, count(*)::text AS n FROM "${t}" x`,
    );
    out[t] = `${r.rows[0]!.n}:${r.rows[0]!.h}`;
  }
  return out;
}

/** The registry the running bot was built from. */
function registry() {
  const features = h.app.botApp!.features;
  return {
    commands: features.flatMap((f) => f.commands ?? []) as CommandSpec[],
    callbacks: features.flatMap((f) => f.callbacks ?? []),
    dialogs: features.flatMap((f) => f.dialogs ?? []) as DialogSpec[],
    deepLinks: features.flatMap((f) => f.deepLinks ?? []),
  };
}

beforeAll(async () => {
  h = await startHarness({
    admins: [ADMIN],
    now: () => NOW,
    emulator: await (await import('../support/conversation.ts')).startTestEmulator({
      limits: { perChatPerSecond: 0, globalPerSecond: 0 },
    }),
  });
  seeded = await seedCountyCampaign(h.app.db, 'audit-e2e', h.app.cipher);
  const reviewer = await h.app.db.person.create({
    data: { telegramId: BigInt(REVIEWER), displayName: '审核员' },
  });
  await h.app.db.roleGrant.create({ data: { personId: reviewer.id, role: 'reviewer', scope: '' } });
  await seedContact(h.app.db, CONTACT, '县供电局工会');
  sql = new pg.Client({ connectionString: h.db.url });
  await sql.connect();
});
afterAll(async () => {
  await sql?.end();
  await h?.stop();
  await h?.emu.close();
});

const user = (id: number) => h.emu.user(id, { firstName: '测试', languageCode: 'zh-hans' });

describe('auditor', () => {
  it('is granted by an admin; the role excludes the roles it audits', async () => {
    const a = user(ADMIN);
    const au = user(AUDITOR);
    await au.send('/start');
    await au.expectReply(/您好/);
    await a.send(`/grant ${AUDITOR} 审计人员`);
    await a.expectReply(/审计人员/);
    await a.send(`/grant ${REVIEWER} auditor`);
    await a.expectReply(/审计人员与被审计岗位不能由同一人兼任/);
    await a.send(`/grant ${AUDITOR} reviewer`);
    await a.expectReply(/审计人员与被审计岗位不能由同一人兼任/);
    await au.send('/whoami');
    await au.expectReply(/审计人员/);
  });

  it('reads the figures, the masked ledger, the audit trail and verifies it; each read is audited', async () => {
    const au = user(AUDITOR);
    const me = await h.app.db.person.findUniqueOrThrow({ where: { telegramId: BigInt(AUDITOR) } });

    await au.send('/report audit-e2e');
    await au.expectReply(/截至 2026年4月2日/);
    const docx = await au.expectDocument(/\.docx/);
    expect(docx.document?.file_name).toContain('audit-e2e');

    await au.send('/export audit-e2e status=paid');
    const ledger = await au.expectDocument(/台账-audit-e2e/);
    expect(ledger.caption).toContain('已脱敏');
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load((await au.download(ledger)) as unknown as ArrayBuffer);
    const ws = wb.worksheets[0]!;
    expect(ws.rowCount).toBe(2 + 112);
    let masked = 0;
    ws.eachRow((r) =>
      r.eachCell((cell) => {
        const v = String(cell.value ?? '');
        expect(v).not.toMatch(/(?<!\d)\d{17}[\dX](?!\d)/); // no full ID number
        if (/\*{4}/.test(v)) masked++;
      }),
    );
    expect(masked).toBeGreaterThan(0);

    await au.send('/audit audit-e2e 2020-01-01 2030-12-31');
    const trail = await au.expectDocument(/审计日志-audit-e2e/);
    const tw = new ExcelJS.Workbook();
    await tw.xlsx.load((await au.download(trail)) as unknown as ArrayBuffer);
    const sheet = tw.worksheets[0]!;
    expect(String(sheet.getRow(2).getCell(1).value)).toMatch(/审计日志链头：#\d+ [0-9a-f]{64}/);
    expect((sheet.getRow(3).values as string[]).slice(1)).toEqual([
      '链序号',
      '时间',
      '操作人',
      '操作',
      '对象',
      '对象编号',
      '变更前',
      '变更后',
      '行哈希',
    ]);
    const actions = new Set<string>();
    sheet.eachRow((r, i) => {
      if (i > 3) actions.add(String(r.getCell(4).value));
    });
    expect(actions).toContain('report.view');
    expect(actions).toContain('ledger.export_masked');
    expect(actions).toContain('role.grant');

    await au.send('/audit audit-e2e 2030-13-01');
    await au.expectReply(/用法：\/audit/);

    await au.send('/audit_verify');
    await au.expectReply(/审计日志完整：已核验 \d+ 条记录/);

    const reads = await h.app.db.auditLog.findMany({ where: { actorId: me.id }, orderBy: { seq: 'asc' } });
    expect(reads.map((r) => r.action)).toEqual([
      'report.view',
      'ledger.export_masked',
      'audit.export',
      'audit.verify',
    ]);
  });

  it('every command, button, dialog and file that is not read-only refuses an auditor; nothing changes', async () => {
    const reg = registry();
    const before = await fingerprint();
    const au = user(AUDITOR);
    const changing = reg.commands.filter((c) => !c.readOnly);
    expect(changing.length).toBeGreaterThan(20);
    for (const c of changing) {
      await au.send(`/${c.name} audit-e2e 1`);
      await au.expectReply(READ_ONLY);
    }

    // Buttons: signed for the auditor (as on an old message from before the role changed), one per
    // registered action, with plausible arguments (ids of real records).
    const n = seeded.paid[0]!;
    const codec = new CallbackCodec(h.app.cipher);
    const buttons = reg.callbacks.map((cb) => ({
      cb,
      data: codec.encode(AUDITOR, cb.action, n, 1),
    }));
    for (const b of buttons) {
      // One message per button: a read-only button (dlg_cancel) edits its message.
      const planted = await h.app.botApp!.bot.telegram.sendMessage(AUDITOR, '旧消息', {
        reply_markup: { inline_keyboard: [[{ text: b.cb.action, callback_data: b.data }]] },
      });
      await au.press({ messageId: planted.message_id, data: b.data });
      const answer = await au.expectAnswer();
      if (!b.cb.readOnly) expect(answer.text, b.cb.action).toMatch(READ_ONLY);
    }

    // Dialogs: all are entered through commands, buttons or deep links above; each also checks on every
    // answer. Deep links that change records refuse at /start.
    expect(reg.dialogs.filter((d) => d.readOnly)).toEqual([]);
    for (const l of reg.deepLinks.filter((x) => !x.readOnly)) {
      await au.send(`/start ${l.prefix}abc`);
      await au.expectReply(READ_ONLY);
    }

    // Files: a spreadsheet, a campaign file.
    await au.upload({ fileName: '申报表.xlsx', bytes: Buffer.from('PK') });
    await au.expectReply(READ_ONLY);
    await au.upload({ fileName: 'campaign.yaml', bytes: 'code: x\n' });
    await au.expectReply(READ_ONLY);

    // Read-only commands: allowed, and still nothing but the audit trail changes.
    for (const c of reg.commands.filter(
      (x) => x.readOnly && !['report', 'export', 'audit'].includes(x.name),
    )) {
      await au.send(`/${c.name}`);
      await au.expectReply();
    }
    expect(await fingerprint()).toEqual(before);
    // The menu shows an auditor only what it may use.
    const menu = (await h.emu.client.request<{ command: string }[]>('GET', `/chats/${AUDITOR}/commands`)).map(
      (c) => c.command,
    );
    expect(menu.sort()).toEqual(
      reg.commands
        .filter((c) => c.readOnly && (c.access === 'anyone' || c.access.includes('auditor')))
        .map((c) => c.name)
        .sort(),
    );
  });
});
