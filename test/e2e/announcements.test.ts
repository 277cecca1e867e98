import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrismaClient } from '../../src/generated/prisma/client.ts';
import { onCampaignChanged } from '../../src/usecases/reminders.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import * as fx from '../support/reminder-fixtures.ts';
import type { Person } from '../support/conversation.ts';

// Campaign notices through the real bot and worker against the emulator (Telegram's limits on), with a
// controllable clock: the app's `now` runs at real speed from a chosen instant, so a campaign whose
// `opens` is two seconds ahead opens through the real delayed job.

const ADMIN = 8301;
let h: Harness;
let offsetMs = 0;
const clock = () => new Date(Date.now() + offsetMs);
const setClock = (at: Date) => {
  offsetMs = at.getTime() - Date.now();
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const db = () => h.app.db as unknown as PrismaClient;
let fed: number;
let admin: Person;

beforeAll(async () => {
  setClock(fx.sh('2026-03-02 09:59:55')); // a Monday morning
  h = await startHarness({ admins: [ADMIN], now: clock });
  fed = await fx.federation(db());
  admin = h.emu.user(ADMIN, { firstName: '王主任', languageCode: 'zh-hans' });
  await admin.send('/start');
  await admin.expectReply();
});
afterAll(async () => {
  await h?.stop();
});

/** A user who pressed Start, holding the contact role of a union. */
async function contact(telegramId: number, unionId: number, languageCode = 'zh-hans') {
  const user = h.emu.user(telegramId, { firstName: `联系人${telegramId}`, languageCode });
  await user.send('/start');
  await user.expectReply();
  await user.expectReply(); // no role yet: how to get one
  const p = await h.app.db.person.findUniqueOrThrow({ where: { telegramId: BigInt(telegramId) } });
  await h.app.db.roleGrant.create({
    data: { personId: p.id, role: 'contact', scope: `union:${unionId}`, unionId },
  });
  return { user, personId: p.id };
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | null | false>, ms = 15_000) {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

const OPENING_ZH = /【送温暖活动开始申报】/;
const OPENING_EN = /\[Send Warmth: nominations open\]/;
let code: string;
let campaignId: number;
let unions: { a: number; b: number; c: number };
let a: Awaited<ReturnType<typeof contact>>;
let b: Awaited<ReturnType<typeof contact>>;
let c: Awaited<ReturnType<typeof contact>>;
let revoked: Awaited<ReturnType<typeof contact>>;

describe('the campaign opens', () => {
  it('at `opens`, exactly one opening message per active contact (zh-CN and en), with the notice document; none to a revoked contact; none twice after a worker restart', async () => {
    unions = {
      a: await fx.union(db(), fed, '县人民医院工会'),
      b: await fx.union(db(), fed, '县环卫所工会'),
      c: await fx.union(db(), fed, '县公交公司工会'),
    };
    a = await contact(8311, unions.a);
    b = await contact(8312, unions.b, 'en');
    c = await contact(8313, unions.c);
    revoked = await contact(8314, unions.a);
    await h.app.db.roleGrant.updateMany({
      where: { personId: revoked.personId },
      data: { revokedAt: clock() },
    });
    // Another campaign open at the same time (of another federation, so its contacts are others):
    // "开始申报" must pick the right one.
    await fx.campaign(db(), await fx.federation(db()), {
      code: 'e2e-other-open',
      opens: fx.sh('2026-02-20 09:00'),
      closes: fx.sh('2026-03-27 17:00'),
      review: fx.sh('2026-04-03 17:00'),
      payment: '2026-04-10',
    });
    code = 'e2e-opening';
    const opens = new Date(clock().getTime() + 6_000);
    campaignId = await fx.campaign(db(), fed, {
      code,
      opens,
      closes: fx.sh('2026-03-13 17:00'),
      review: fx.sh('2026-03-20 17:00'),
      payment: '2026-03-31',
    });
    await h.app.db.campaign.update({ where: { id: campaignId }, data: { noticeDocument: '送温暖通知.pdf' } });
    await h.app.db.campaignCategory.createMany({
      data: [
        {
          campaignId,
          code: 'needy_worker',
          nameZh: '困难职工',
          nameEn: 'Needy workers',
          kind: 'needy_worker',
          standardAmountFen: 80_000,
          benefitForms: ['transfer'],
          requiredFields: [],
          quotaPerUnion: 10,
          sortOrder: 0,
        },
        {
          campaignId,
          code: 'frontline_worker',
          nameZh: '一线职工',
          nameEn: 'Frontline workers',
          kind: 'frontline_worker',
          standardAmountFen: 15_000,
          benefitForms: ['in_kind'],
          requiredFields: [],
          sortOrder: 1,
        },
      ],
    });
    // The admin attaches the federation's notice: the PDF with the caption /notice_doc <code>.
    await admin.upload(
      { fileName: '送温暖通知.pdf', bytes: Buffer.from('%PDF-1.4\n%test\n'), mimeType: 'application/pdf' },
      `/notice_doc ${code}`,
    );
    await admin.expectReply(/通知文件 送温暖通知\.pdf 已保存/);
    // What loading the campaign file does: schedule the opening at `opens`.
    await onCampaignChanged(h.app.db, h.app.queues, campaignId, clock());
    expect(await h.app.db.notice.count({ where: { campaignId } })).toBe(0); // not before `opens`

    const zh = await a.user.expectReply(OPENING_ZH, { timeoutMs: 20_000 });
    expect(clock().getTime()).toBeGreaterThanOrEqual(opens.getTime());
    expect(zh.text).toContain('2026年春节送温暖活动');
    expect(zh.text).toContain('县人民医院工会');
    expect(zh.text).toContain('· 困难职工：800.00 元（每个基层工会限报 10 名）');
    expect(zh.text).toContain('· 一线职工：150.00 元');
    // 2026-03-02 → 03-13: 9 working days (start day not counted).
    expect(zh.text).toContain('申报截止时间：2026-03-13 17:00（还剩 9 个工作日）');
    expect(zh.buttons.map((x) => x.text)).toEqual(['开始申报', '已阅']);
    await a.user.expectDocument('送温暖通知.pdf');
    const en = await b.user.expectReply(OPENING_EN);
    expect(en.text).toContain('2026 Spring Festival Send Warmth campaign');
    expect(en.text).toContain('· Needy workers: 800.00 yuan (at most 10 per union)');
    expect(en.text).toContain('Nominations close: 2026-03-13 17:00 (9 working days left)');
    expect(en.buttons.map((x) => x.text)).toEqual(['Start nominating', 'Read']);
    await c.user.expectReply(OPENING_ZH);
    await revoked.user.expectNoReply(1_000);

    // The worker restarts: its start-up re-checks every open campaign and sends nothing again.
    await h.restart();
    await sleep(3_000);
    for (const u of [a, b, c, revoked]) {
      const opening = (await u.user.messages()).filter(
        (m) => OPENING_ZH.test(m.text ?? '') || OPENING_EN.test(m.text ?? ''),
      );
      expect(opening).toHaveLength(u === revoked ? 0 : 1);
    }
    const rows = await h.app.db.notice.findMany({ where: { campaignId, kind: 'campaign_opened' } });
    expect(rows).toHaveLength(3);
    expect(rows.every((r) => r.status === 'sent')).toBe(true);
  });

  it('"开始申报" opens the nomination dialog on that campaign', async () => {
    await a.user.press('开始申报');
    await a.user.expectReply(/“2026年春节送温暖活动”正在接受申报。请选择慰问类别/);
    const draft = await h.app.db.nomination.findFirstOrThrow({
      where: { submittedById: a.personId, status: 'draft' },
    });
    expect(draft.campaignId).toBe(campaignId);
    expect(draft.unionId).toBe(unions.a);
    await a.user.send('/cancel');
    await a.user.expectReply();
  });

  it('"已阅" shows in /announce_status; the follow-up button reaches only the unions that did nothing', async () => {
    await b.user.press('Read');
    await b.user.expectReply(/Marked as read/);
    await b.user.press('Read');
    await b.user.expectReply(/already marked this notice as read/);

    await admin.send(`/announce_status ${code}`);
    const s = await admin.expectReply(/通知阅读情况/);
    expect(s.text).toContain('基层工会 3 个：已送达 3，已阅 1，已开始填报 1，已提交 0，尚无任何行动 1。');
    expect(s.text).toContain('通知文件：送温暖通知.pdf（已上传）');
    const lines = s.text!.split('\n').filter((l) => /^(⚪|✅|✏️|👁) /u.test(l));
    // Unions that have done nothing first.
    expect(lines[0]).toMatch(/^⚪ 县公交公司工会：送达 1\/1 · 已阅 0 · 草稿 0 · 已提交 0/);
    expect(lines.find((l) => l.includes('县环卫所工会'))).toMatch(/已阅 1/);
    expect(lines.find((l) => l.includes('县人民医院工会'))).toMatch(/草稿 1/);

    await admin.press('催办尚无行动的 1 个基层工会');
    await admin.expectReply(/已向 1 个基层工会的 1 位联系人发送催办提醒/);
    await c.user.expectReply(/【催办提醒】2026年春节送温暖活动/);
    await admin.press('催办尚无行动的 1 个基层工会'); // the same button again
    await admin.expectReply(/这次催办已经发送过/);
    await a.user.expectNoReply(800);
    await b.user.expectNoReply(200);
    expect(await h.app.db.auditLog.count({ where: { action: 'announcement.follow_up' } })).toBe(1);
  });
});

describe('/announce', () => {
  it('to "unions that have submitted nothing": preview with the count, confirmation, skips a union that has submitted', async () => {
    await fx.nomination(db(), {
      campaignId,
      unionId: unions.b,
      submittedById: b.personId,
      status: 'submitted',
    });
    await admin.send(`/announce ${code}`);
    await admin.expectReply(/请输入要发送给基层工会联系人的通知内容/);
    await admin.send('请各基层工会于3月10日前完成摸底。');
    await admin.expectReply(/如需附带文件/);
    await admin.send('随便写点');
    await admin.expectReply(/请发送 \.pdf 或 \.docx 文件/);
    await admin.upload({ fileName: 'list.xlsx', bytes: Buffer.from('PK'), mimeType: 'application/zip' });
    await admin.expectReply(/仅支持 \.pdf 或 \.docx 文件/);
    await admin.press('不附文件');
    await admin.expectReply(/请选择发送对象/);
    await admin.press('尚未提交申报的基层工会');
    const preview = await admin.expectReply(/请核对通知/);
    expect(preview.text).toContain('发送对象：尚未提交申报的基层工会');
    expect(preview.text).toContain('将发送给 2 个基层工会的 2 位联系人');
    await admin.press('确认发送（2 人）');
    await admin.expectReply(/通知已提交发送：2 个基层工会的 2 位联系人/);
    const m = await a.user.expectReply(/【送温暖活动通知】2026年春节送温暖活动/);
    expect(m.text).toContain('请各基层工会于3月10日前完成摸底。');
    expect(m.buttons.map((x) => x.text)).toEqual(['开始申报', '已阅']);
    await c.user.expectReply(/【送温暖活动通知】/);
    await b.user.expectNoReply(1_500);
    const ann = await h.app.db.announcement.findFirstOrThrow({ where: { kind: 'announcement' } });
    expect(ann).toMatchObject({
      audience: 'not_submitted',
      recipients: 2,
      text: '请各基层工会于3月10日前完成摸底。',
    });
    expect(await h.app.db.auditLog.count({ where: { action: 'announcement.send' } })).toBe(1);
  });

  it('a contact cannot announce; an unknown campaign gets a clear answer', async () => {
    await a.user.send(`/announce ${code}`);
    await a.user.expectReply(/没有办理此项业务的权限/);
    await admin.send('/announce nope');
    await admin.expectReply(/找不到活动代码为 nope 的进行中活动/);
    await admin.send('/announce');
    await admin.expectReply(/用法：\/announce 活动代码/);
  });

  it('to one union, with a .pdf attached: the contact gets the text and the file, in English', async () => {
    await admin.send(`/announce ${code}`);
    await admin.expectReply(/请输入要发送给基层工会联系人的通知内容/);
    await admin.send('请补充退回的材料。');
    await admin.expectReply(/如需附带文件/);
    await admin.upload({
      fileName: '补充说明.pdf',
      bytes: Buffer.from('%PDF-1.4\n%x\n'),
      mimeType: 'application/pdf',
    });
    await admin.expectReply(/请选择发送对象/);
    await admin.press('指定一个基层工会');
    await admin.expectReply(/请输入基层工会名称或编号/);
    await admin.send('不存在的工会');
    await admin.expectReply(/找不到与“不存在的工会”匹配的基层工会/);
    await admin.send('环卫');
    const preview = await admin.expectReply(/请核对通知/);
    expect(preview.text).toContain('附件：补充说明.pdf');
    expect(preview.text).toContain('发送对象：基层工会：县环卫所工会');
    expect(preview.text).toContain('将发送给 1 个基层工会的 1 位联系人');
    await admin.press('确认发送（1 人）');
    await admin.expectReply(/通知已提交发送：1 个基层工会的 1 位联系人/);
    const m = await b.user.expectReply(/\[Send Warmth notice\] 2026 Spring Festival Send Warmth campaign/);
    expect(m.text).toContain('请补充退回的材料。');
    await b.user.expectDocument('补充说明.pdf');
    await a.user.expectNoReply(1_000);
  });
});

describe('deadline changes', () => {
  it('a moved nomination deadline reaches each active contact once (old → new, working days left)', async () => {
    await admin.send(`/deadline ${code} closes 2026-03-16`);
    await admin.expectReply(/原为：2026-03-13 17:00\n改为：2026-03-16 17:00/);
    await admin.press('确认修改');
    await admin.expectEdit(/已修改活动/);
    const zh = await a.user.expectReply(/【时间调整】/);
    expect(zh.text).toContain('申报截止时间已调整：2026-03-13 17:00 → 2026-03-16 17:00（还剩 10 个工作日）');
    const en = await b.user.expectReply(/\[Date changed\]/);
    expect(en.text).toContain(
      'Nomination deadline moved: 2026-03-13 17:00 → 2026-03-16 17:00 (10 working days left)',
    );
    await c.user.expectReply(/【时间调整】/);
    await revoked.user.expectNoReply(1_500);
    for (const u of [a, b, c]) {
      const n = (await u.user.messages()).filter((x) => /【时间调整】|\[Date changed\]/.test(x.text ?? ''));
      expect(n).toHaveLength(1);
    }
  });
});

describe('a contact who joins later', () => {
  it('gets the opening message once, through the invite link', async () => {
    await admin.send(`/invite ${unions.b} 1`);
    const msg = await admin.expectReply(/邀请链接/);
    const payload = /start=(inv_[A-Za-z0-9_-]+)/.exec(msg.text ?? '')![1]!;
    const late = h.emu.user(8315, { firstName: '赵联系', languageCode: 'zh-hans' });
    await late.command('/start', payload);
    await late.expectReply(/受邀成为“县环卫所工会”的联系人/);
    await late.press('确认加入');
    await late.expectEdit(/已加入“县环卫所工会”/);
    const m = await late.expectReply(OPENING_ZH);
    // Composed now: the deadline as moved.
    expect(m.text).toContain('申报截止时间：2026-03-16 17:00');
    await late.expectDocument('送温暖通知.pdf');
    await late.expectNoReply(1_500);
    const p = await h.app.db.person.findUniqueOrThrow({ where: { telegramId: 8315n } });
    expect(await h.app.db.notice.count({ where: { personId: p.id } })).toBe(1);
  });
});

describe('bad input', () => {
  it('a forged button, a revoked contact pressing 开始申报, a campaign that closed', async () => {
    const openingOf = async (u: Person) =>
      (await u.messages()).find((m) => OPENING_ZH.test(m.text ?? '') || OPENING_EN.test(m.text ?? ''))!;
    const opening = await openingOf(a.user);
    const real = opening.buttons.find((x) => x.text === '开始申报')!.callbackData!;
    // A modified client can send any callback data: injected as raw updates.
    let n = 0;
    const forge = async (fromId: number, data: string) => {
      const id = `forged-${fromId}-${++n}`;
      await h.emu.client.injectRawUpdate({
        callback_query: {
          id,
          from: { id: fromId, is_bot: false, first_name: 'X', language_code: 'zh-hans' },
          message: opening.raw,
          chat_instance: 'ci',
          data,
        },
      });
      return waitFor('the answer to a forged button', async () => {
        const answers = await h.emu.user(fromId).handle.callbackAnswers();
        return answers.find((x) => x.callbackQueryId === id)?.text;
      });
    };
    // Another campaign id in genuine data, and A's genuine button pressed by someone else.
    expect(await forge(a.user.id, real.replace(/^nm_open\|\d+/, 'nm_open|999'))).toMatch(
      /按钮已失效或无法识别/,
    );
    expect(await forge(c.user.id, real)).toMatch(/按钮已失效或无法识别/);
    expect(await forge(a.user.id, `an_ack|o,${campaignId}|AAAAAAAA`)).toMatch(/按钮已失效或无法识别/);

    // A contact whose role was revoked after the opening presses 开始申报.
    await h.app.db.roleGrant.updateMany({ where: { personId: c.personId }, data: { revokedAt: clock() } });
    const cOpening = await openingOf(c.user);
    await c.user.press({
      messageId: cOpening.messageId,
      data: cOpening.buttons.find((x) => x.text === '开始申报')!.callbackData!,
    });
    await c.user.expectReply(/您目前不是任何基层工会的联系人，无法申报/);
    expect(await h.app.db.nomination.count({ where: { submittedById: c.personId } })).toBe(0);

    // The campaign closes; 开始申报 on the old message says so (in English for an English speaker).
    setClock(fx.sh('2026-03-17 10:00'));
    await a.user.press('开始申报');
    await a.user.expectReply(/该活动目前不在申报期内/);
    await b.user.press('Start nominating');
    await b.user.expectReply(/This campaign is not taking nominations now/);
  });
});

describe('/announce_status with many unions', () => {
  it('is paged, the unions that have done nothing first', async () => {
    for (let i = 1; i <= 22; i++) await fx.union(db(), fed, `乡镇工会${String(i).padStart(2, '0')}`);
    await admin.send(`/announce_status ${code}`);
    const first = await admin.expectReply(/通知阅读情况/);
    expect(first.text).toContain('第 1/2 页');
    const lines = first.text!.split('\n').filter((l) => /^(⚪|✅|✏️|👁) /u.test(l));
    expect(lines).toHaveLength(20);
    expect(lines.every((l) => l.startsWith('⚪'))).toBe(true);
    await admin.press('下一页');
    const second = await admin.expectEdit(/第 2\/2 页/);
    expect(second.text).toContain('✅ 县环卫所工会');
  });
});
