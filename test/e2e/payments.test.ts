import type { Person } from '../support/conversation.ts';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.ts';
import { makeCard, makeId, seedCampaign, seedContact } from '../support/fixtures.ts';

// Payments, recipient links and notices end to end: the real bot and worker against the emulator.

const ADMIN = 9601;
let h: Harness;
let campaign: Awaited<ReturnType<typeof seedCampaign>>;
let contact: Awaited<ReturnType<typeof seedContact>>;
let seq = 0;

beforeAll(async () => {
  h = await startHarness({ admins: [ADMIN] });
  const db = h.app.db;
  campaign = await seedCampaign(db, {
    code: 'pay-e2e',
    categories: [
      { code: 'needy', kind: 'needy_worker', nameZh: '困难职工', amountYuan: 1000, yearlyCapYuan: 6000 },
      { code: 'goods', kind: 'frontline_worker', nameZh: '一线职工', amountYuan: 300, forms: ['in_kind'] },
    ],
  });
  contact = await seedContact(db, 9602, '付款测试工会');
});
afterAll(async () => {
  await h?.stop();
});

async function approved(opts: { inKind?: boolean; recipientId?: number; status?: 'approved' | 'paid' } = {}) {
  seq++;
  const id = makeId('19800101', seq);
  const c = h.app.cipher;
  const cat = campaign.categories[opts.inKind ? 1 : 0]!;
  return h.app.db.nomination.create({
    data: {
      campaignId: campaign.id,
      categoryId: cat.id,
      unionId: contact.union.id,
      submittedById: contact.person.id,
      status: opts.status ?? 'approved',
      fullName: `受助人${seq}`,
      idNumberEnc: c.encrypt(id),
      idNumberHash: c.hash('id', id),
      phoneEnc: c.encrypt(`1380000${String(seq).padStart(4, '0')}`),
      benefitForm: opts.inKind ? 'in_kind' : 'transfer',
      ...(opts.inKind
        ? {}
        : { bankName: '农业银行', bankCardEnc: c.encrypt(makeCard()), bankCardLast4: makeCard().slice(-4) }),
      amountFen: cat.standardAmountFen,
      recipientId: opts.recipientId ?? null,
    },
  });
}

async function waitFor<T>(fn: () => Promise<T | undefined | null | false>, tries = 300): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const v = await fn();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('condition not reached');
}

/** The payment notice and the letter are separate notices: they may arrive in either order. */
async function noticeAndLetter(r: Person) {
  const wanted = [/慰问金 1000\.00 元已于 .* 打入您尾号/, /尊敬的受助人\d+同志/];
  for (let i = 0; i < 400; i++) {
    const texts = (await r.messages()).map((m) => m.text ?? '');
    if (wanted.every((re) => texts.some((t) => re.test(t)))) return;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error(`notice and letter not both received:\n${await r.dump()}`);
}

async function linkFor(nominationId: number) {
  const admin = h.emu.user(ADMIN, { firstName: 'Admin', languageCode: 'zh-hans' });
  await admin.send(`/recipient_link ${nominationId}`);
  const m = await admin.expectReply(/start=rcp_/);
  const qr = await admin.expectReply((msg) => (msg.photo?.length ?? 0) > 0);
  expect(qr.caption).toMatch(/二维码/);
  const png = await admin.download(qr);
  expect(png.subarray(1, 4).toString()).toBe('PNG');
  expect(png.readUInt32BE(16)).toBe(480);
  return /start=(rcp_[A-Za-z0-9_-]+)/.exec(m.text ?? '')![1]!;
}

async function xlsx(rows: (string | number)[][]): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('s');
  for (const r of rows) ws.addRow(r);
  return Buffer.from(await wb.xlsx.writeBuffer());
}

describe('recipient link, payment notice, letter, confirmation', () => {
  it('links, verifies, receives the notice and the letter, confirms; a second batch paid does nothing', async () => {
    // Other approved transfer nominations of the campaign join the same batch; that is fine here.
    const nom = await approved();
    const payload = await linkFor(nom.id);
    const r = h.emu.user(9610, { firstName: '受助人', languageCode: 'zh-hans' });
    await r.command('start', payload);
    await r.expectReply(/身份证号码的最后 6 位/);
    await r.send('000000');
    await r.expectReply(/还可以再试 4 次/);
    await r.send(makeId('19800101', seq).slice(-6));
    await r.expectReply(/核验成功/);
    expect(
      (await h.app.db.nomination.findUniqueOrThrow({ where: { id: nom.id } })).recipientId,
    ).not.toBeNull();

    const admin = h.emu.user(ADMIN, { firstName: 'Admin', languageCode: 'zh-hans' });
    await admin.send('/batch_new pay-e2e');
    const created = await admin.expectReply(/已生成打款批次/);
    const batch = await h.app.db.paymentBatch.findFirstOrThrow({ orderBy: { id: 'desc' } });
    expect(created.text).toContain(batch.code);
    await admin.press('导出银行打款清单');
    const doc = await admin.expectDocument(/银行清单/);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load((await admin.download(doc)) as unknown as ArrayBuffer);
    const cards = wb.worksheets[0]!.getColumn(3).values.map(String);
    expect(cards).toContain(makeCard()); // finance / admin: full card numbers

    await admin.send(`/batch_paid ${batch.id}`);
    await admin.expectReply(/已登记为打款成功/);
    await noticeAndLetter(r);
    await r.press('已收到');
    await r.expectReply(/感谢您的确认/);
    const receipts = await h.app.db.auditLog.count({
      where: { action: 'receipt.received', entityId: String(nom.id) },
    });
    expect(receipts).toBe(1);

    await admin.send(`/batch_paid ${batch.id}`);
    await admin.expectReply(/本次操作未作任何更改/);
    const notices = await h.app.db.notice.findMany({ where: { nominationId: nom.id } });
    expect(notices.map((n) => n.kind).sort()).toEqual(['payment', 'thank_you']);
    expect((await h.app.db.nomination.findUniqueOrThrow({ where: { id: nom.id } })).status).toBe('paid');
  });

  it('a recipient who binds after being paid gets the notice and letter in chat, once', async () => {
    const nom = await approved();
    const admin = h.emu.user(ADMIN, { firstName: 'Admin', languageCode: 'zh-hans' });
    await admin.send('/batch_new pay-e2e');
    await admin.expectReply(/已生成打款批次/);
    const batch = await h.app.db.paymentBatch.findFirstOrThrow({ orderBy: { id: 'desc' } });
    await admin.send(`/batch_paid ${batch.id}`);
    await admin.expectReply(/已登记为打款成功/);
    expect((await h.app.db.nomination.findUniqueOrThrow({ where: { id: nom.id } })).status).toBe('paid');

    const payload = await linkFor(nom.id);
    const r = h.emu.user(9615, { firstName: '后绑定', languageCode: 'zh-hans' });
    await r.command('start', payload);
    await r.expectReply(/最后 6 位/);
    await r.send(makeId('19800101', seq).slice(-6));
    await r.expectReply(/核验成功/);
    await noticeAndLetter(r);
    await r.command('start', payload); // opening the link again sends nothing twice
    await r.expectReply();
    const inChat = await h.app.db.notice.count({
      where: { nominationId: nom.id, uniqueKey: { endsWith: '-bound' } },
    });
    expect(inChat).toBe(2);
  });

  it('the contact who nominated cannot take over a binding; staff unbind and the old recipient is told', async () => {
    const nom = await approved();
    const payload = await linkFor(nom.id);
    // The nominating contact opens the link and types the last 6 they entered themselves.
    const c = h.emu.user(9602, { firstName: '联系人', languageCode: 'zh-hans' });
    await c.command('start', payload);
    await c.expectReply(/最后 6 位/);
    await c.send(makeId('19800101', seq).slice(-6));
    await c.expectReply(/不能将此记录绑定到自己的账号/);
    const r = h.emu.user(9616, { firstName: '本人', languageCode: 'zh-hans' });
    await r.command('start', payload);
    await r.expectReply(/最后 6 位/);
    await r.send(makeId('19800101', seq).slice(-6));
    await r.expectReply(/核验成功/);
    // A fresh link for the bound record is refused, for the contact and for staff.
    await c.send(`/recipient_link ${nom.id}`);
    await c.expectReply(/已绑定慰问对象，不能再生成链接/);
    const admin = h.emu.user(ADMIN, { firstName: 'Admin', languageCode: 'zh-hans' });
    await admin.send(`/recipient_unbind ${nom.id}`);
    await admin.expectReply(/已解除申报 \d+ 与原慰问对象账号的绑定/);
    await r.expectReply(/工作人员已解除本账号与慰问记录/);
    expect((await h.app.db.nomination.findUniqueOrThrow({ where: { id: nom.id } })).recipientId).toBeNull();
  });

  it('records an in-kind handover from a photo whose caption is the /handover command', async () => {
    const nom = await approved({ inKind: true });
    const admin = h.emu.user(ADMIN, { firstName: 'Admin', languageCode: 'zh-hans' });
    await admin.send('/start');
    await admin.expectReply(/您好/);
    await h.emu.client.injectRawUpdate({
      message: {
        message_id: 900_001,
        date: Math.floor(Date.now() / 1000),
        chat: { id: ADMIN, type: 'private' },
        from: { id: ADMIN, is_bot: false, first_name: 'Admin', language_code: 'zh-hans' },
        photo: [
          { file_id: 'small-photo', file_unique_id: 's1', width: 90, height: 90 },
          { file_id: 'large-photo', file_unique_id: 'l1', width: 1280, height: 960 },
        ],
        caption: `/handover ${nom.id} 2026-02-01 县总工会王某`,
      },
    });
    await admin.expectReply(new RegExp(`${nom.id}`));
    const ho = await h.app.db.handover.findUniqueOrThrow({ where: { nominationId: nom.id } });
    expect(ho.photoFileId).toBe('large-photo');
    expect(ho.handedOverBy).toBe('县总工会王某');
    expect((await h.app.db.nomination.findUniqueOrThrow({ where: { id: nom.id } })).status).toBe(
      'handed_over',
    );
  });

  it('locks the link after 5 wrong answers and tells staff', async () => {
    const nom = await approved();
    const payload = await linkFor(nom.id);
    const r = h.emu.user(9611, { firstName: '错', languageCode: 'zh-hans' });
    await r.command('start', payload);
    await r.expectReply(/最后 6 位/);
    for (let i = 4; i >= 1; i--) {
      await r.send('123456');
      await r.expectReply(new RegExp(`还可以再试 ${i} 次`));
    }
    await r.send('123456');
    await r.expectReply(/链接已锁定/);
    await r.command('start', payload);
    await r.expectReply(/链接已锁定/);
    const fu = await h.app.db.followUp.findMany({ where: { nominationId: nom.id } });
    expect(fu.map((f) => f.kind)).toEqual(['link_locked']);
    const admin = h.emu.user(ADMIN, { firstName: 'Admin', languageCode: 'zh-hans' });
    await admin.send('/followups');
    await admin.expectReply(/链接已锁定/);
  });

  it("a recipient cannot open another's record", async () => {
    const mine = await approved();
    const other = await approved();
    const payload = await linkFor(mine.id);
    const r = h.emu.user(9612, { firstName: '甲', languageCode: 'zh-hans' });
    await r.command('start', payload);
    await r.expectReply(/最后 6 位/);
    await r.send(makeId('19800101', seq - 1).slice(-6));
    await r.expectReply(/核验成功/);
    await r.send(`/record ${mine.id}`);
    await r.expectReply(new RegExp(`记录 ${mine.id}`));
    await r.send(`/record ${other.id}`);
    const reply = await r.expectReply();
    expect(reply.text).not.toContain(`记录 ${other.id}`);
    // The other recipient's link cannot be taken over either once bound.
    const otherPayload = await linkFor(other.id);
    const o = h.emu.user(9613, { firstName: '乙', languageCode: 'zh-hans' });
    await o.command('start', otherPayload);
    await o.expectReply(/最后 6 位/);
    await o.send(makeId('19800101', seq).slice(-6));
    await o.expectReply(/核验成功/);
    await r.command('start', otherPayload);
    await r.expectReply(/已被其他账号使用/);
  });
});

describe('delivery fallbacks and reconciliation', () => {
  it('SMS default (log): a blocked chat is not recorded as notified by SMS, and a follow-up opens', async () => {
    const u = h.emu.user(9620, { firstName: '封', languageCode: 'zh-hans' });
    await u.send('/start');
    await u.expectReply();
    const person = await h.app.db.person.findUniqueOrThrow({ where: { telegramId: 9620n } });
    const nom = await approved({ recipientId: person.id, status: 'paid' });
    await u.handle.block();
    const { enqueueNotice } = await import('../../src/usecases/notices.ts');
    const row = await enqueueNotice(h.app.db, h.app.queues, {
      uniqueKey: `payment-n${nom.id}`,
      kind: 'payment',
      personId: person.id,
      nominationId: nom.id,
      template: 'recipients.notice_paid',
      params: { amount: '1000.00', date: '2026-02-10', card: '1234', campaign: 'x', organiser: 'y' },
      smsFallback: true,
    });
    const done = await waitFor(async () => {
      const n = await h.app.db.notice.findUnique({ where: { id: row.id }, include: { deliveries: true } });
      return n?.deliveries.some((d) => d.channel === 'sms') ? n : undefined;
    });
    expect(done.status).toBe('unreachable');
    expect(done.channel).toBe('telegram');
    expect(done.deliveries.map((d) => `${d.channel}:${d.outcome}`)).toEqual([
      'telegram:unreachable',
      'sms:error',
    ]);
    const fu = await h.app.db.followUp.findMany({ where: { nominationId: nom.id } });
    expect(fu.map((f) => f.kind)).toEqual(['unreachable']);
  });

  it('SMS default (log): a recipient without a chat gets no "sent by SMS", and a follow-up opens', async () => {
    const person = await h.app.db.person.create({ data: { displayName: '无账号' } });
    const nom = await approved({ recipientId: person.id, status: 'paid' });
    const { enqueueNotice } = await import('../../src/usecases/notices.ts');
    const row = await enqueueNotice(h.app.db, h.app.queues, {
      uniqueKey: `payment-nochat-n${nom.id}`,
      kind: 'payment',
      personId: person.id,
      nominationId: nom.id,
      template: 'recipients.notice_paid',
      params: { amount: '1000.00', date: '2026-02-10', card: '1234', campaign: 'x', organiser: 'y' },
      smsFallback: true,
    });
    const done = await waitFor(async () => {
      const n = await h.app.db.notice.findUnique({ where: { id: row.id } });
      return n?.status === 'unreachable' ? n : undefined;
    });
    expect(done.channel).toBe('telegram');
    expect(await h.app.db.noticeAttempt.count({ where: { noticeId: row.id, outcome: 'sent' } })).toBe(0);
    expect(await h.app.db.followUp.count({ where: { nominationId: nom.id, kind: 'unreachable' } })).toBe(1);
  });

  it('a bank return file with mixed rows marks paid and failed; failed rows can join a later batch', async () => {
    const c = h.emu.user(9602, { firstName: '联系人', languageCode: 'zh-hans' });
    await c.send('/start');
    await c.expectReply();
    const a = await approved();
    const b = await approved();
    const admin = h.emu.user(ADMIN, { firstName: 'Admin', languageCode: 'zh-hans' });
    await admin.send('/batch_new pay-e2e');
    await admin.expectReply(/已生成打款批次/);
    const batch = await h.app.db.paymentBatch.findFirstOrThrow({
      orderBy: { id: 'desc' },
      include: { payments: true },
    });
    const pa = batch.payments.find((p) => p.nominationId === a.id)!;
    const rows: (string | number)[][] = [
      ['序号', '姓名', '银行卡号', '开户行', '金额（元）', '状态', '失败原因'],
    ];
    for (const p of batch.payments)
      rows.push(
        p.id === pa.id
          ? [p.id, '', '', '', '1000.00', '失败', '户名不符']
          : [p.id, '', '', '', '1000.00', '成功', ''],
      );
    await admin.send(`/batch_return ${batch.id}`);
    await admin.expectReply(/回单文件/);
    await admin.upload({ fileName: 'return.xlsx', bytes: await xlsx(rows) });
    await admin.expectReply(new RegExp(`成功 ${batch.payments.length - 1} 笔，失败 1 笔`));
    expect((await h.app.db.nomination.findUniqueOrThrow({ where: { id: a.id } })).status).toBe(
      'payment_failed',
    );
    expect((await h.app.db.nomination.findUniqueOrThrow({ where: { id: b.id } })).status).toBe('paid');
    await c.expectReply(/打款失败.*户名不符/);
    // The failed nomination goes into the next batch.
    await admin.send('/batch_new pay-e2e');
    await admin.expectReply(/已生成打款批次 .*共 1 人/);
  });

  it('in-kind handover by spreadsheet', async () => {
    const g1 = await approved({ inKind: true });
    const g2 = await approved({ inKind: true });
    const admin = h.emu.user(ADMIN, { firstName: 'Admin', languageCode: 'zh-hans' });
    await admin.send('/handover_sheet');
    await admin.expectReply(/实物发放清单/);
    const sheet = await xlsx([
      ['申报编号', '发放日期', '经手人', '备注'],
      [g1.id, '2026-02-08', '王干事', ''],
      [g2.id, '2026-02-09', '王干事', '米面油'],
      [999999, '2026-02-09', '王干事', ''],
      [g1.id, '2026/02/30', '', ''],
    ]);
    await admin.upload({ fileName: 'handover.xlsx', bytes: sheet });
    await admin.expectReply(/登记 2 条，问题 2 条/);
    const hs = await h.app.db.handover.findMany({ where: { nominationId: { in: [g1.id, g2.id] } } });
    expect(hs).toHaveLength(2);
    expect((await h.app.db.nomination.findUniqueOrThrow({ where: { id: g2.id } })).status).toBe(
      'handed_over',
    );
    const logs = await h.app.db.auditLog.count({
      where: { action: 'nomination.handed_over', entityId: { in: [String(g1.id), String(g2.id)] } },
    });
    expect(logs).toBe(2);
  });
});
