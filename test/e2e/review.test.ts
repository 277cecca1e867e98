import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallbackCodec } from '../../src/adapters/telegram/callback-data.ts';
import { digestJobId, queueReviewTask, sendReviewDigest, slaJobId } from '../../src/usecases/review/tasks.ts';
import { withdrawNomination } from '../../src/usecases/nominations/withdraw-nomination.ts';
import { decideNomination } from '../../src/usecases/review/decide-nomination.ts';
import { digestWindow } from '../../src/domain/review/rules.ts';
import type { PrismaClient } from '../../src/generated/prisma/client.ts';
import type { Person } from '../support/conversation.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { seedCampaign, seedContact } from '../support/fixtures.ts';
import { grantStaff, seedSubmitted } from '../support/review-fixtures.ts';

// Review in chat end to end: real bot and worker, PostgreSQL, Redis, emulator over HTTP. The app clock
// runs at real speed from an offset the tests move forward (BullMQ delays are real time, so delayed
// review jobs are promoted after the clock moved past their due time).

const ADMIN = 9001;
const R1 = 9101;
const R2 = 9102;
const C1 = 9201;
let h: Harness;
let offsetMs = 0;
const clock = () => new Date(Date.now() + offsetMs);
const db = () => h.app.db as unknown as PrismaClient;
let contactId: number;
let unionId: number;
let r1: Person;
let r2: Person;
let contact: Person;
let admin: Person;

async function campaign(code: string, settings: Record<string, unknown> = {}) {
  const c = await seedCampaign(db(), {
    code,
    categories: [
      {
        code: 'frontline',
        kind: 'frontline_worker',
        nameZh: '一线职工',
        amountYuan: 150,
        forms: ['in_kind'],
      },
    ],
  });
  await db().campaign.update({ where: { id: c.id }, data: { settings: settings as never } });
  return { id: c.id, code, categoryId: c.categories[0]!.id };
}

const seed = (
  c: { id: number; categoryId: number },
  extra: { flags?: string[]; name?: string; phone?: string } = {},
) =>
  seedSubmitted(db(), h.app.cipher, {
    campaignId: c.id,
    categoryId: c.categoryId,
    unionId,
    submittedById: contactId,
    amountFen: 15_000,
    submittedAt: clock(),
    ...extra,
  });

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | null | false>, ms = 10_000) {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Opens a nomination's card through /queue (filtered to the campaign) for reviewer `u`. */
async function openCard(u: Person, code: string, id: number) {
  await u.send(`/queue campaign=${code}`);
  await u.expectReply(/待审核申报共/);
  await u.press(new RegExp(`^#${id} `));
  return u.expectReply(new RegExp(`申报 #${id}（第`));
}

beforeAll(async () => {
  offsetMs = 0;
  h = await startHarness({ admins: [ADMIN], now: clock });
  const { union, person } = await seedContact(db(), C1, '县环卫工会', '赵联系');
  contactId = person.id;
  unionId = union.id;
  await grantStaff(db(), R1, 'reviewer', '钱审核');
  await grantStaff(db(), R2, 'reviewer', '孙审核');
  r1 = h.emu.user(R1, { firstName: '钱审核', languageCode: 'zh-hans' });
  r2 = h.emu.user(R2, { firstName: '孙审核', languageCode: 'zh-hans' });
  contact = h.emu.user(C1, { firstName: '赵联系', languageCode: 'zh-hans' });
  admin = h.emu.user(ADMIN, { firstName: '王主任', languageCode: 'zh-hans' });
  for (const u of [r1, r2, contact, admin]) {
    await u.send('/start');
    await u.expectReply();
  }
});
afterAll(async () => {
  await h?.stop();
});

describe('review in chat', () => {
  it('approve: /review card with masked data and checks; decision, audit, contact told', async () => {
    const c = await campaign('rv-approve');
    const n = await seed(c, { name: '周一线', phone: '13812345678' });
    await r1.send('/review');
    const card = await r1.expectReply(new RegExp(`申报 #${n.id}（第 1 版）`));
    expect(card.text).toContain('138****5678');
    expect(card.text).not.toContain('13812345678');
    expect(card.text).toMatch(/110101\*{8}/);
    expect(card.text).toContain('身份证号码校验通过');
    expect(card.text).toContain('本次活动中无重复申报');
    expect(card.text).toContain('必填信息齐全');
    await r1.press('✅ 通过');
    await r1.expectEdit(new RegExp(`申报 #${n.id} 已审核通过`));
    const notice = await contact.expectReply(new RegExp(`#${n.id}（周一线）已审核通过`));
    expect(notice.text).toBeDefined();
    const row = await db().nomination.findUniqueOrThrow({ where: { id: n.id } });
    expect(row.status).toBe('approved');
    expect(row.version).toBe(2);
    const decisions = await db().reviewDecision.findMany({ where: { nominationId: n.id } });
    expect(decisions).toMatchObject([{ kind: 'approve', revision: 1 }]);
    const auditRows = await db().auditLog.findMany({
      where: { entityId: String(n.id), action: 'review.approve' },
    });
    expect(auditRows).toHaveLength(1);
    // The card offers the next one.
    await r1.press('审核下一条 ▶');
    await r1.expectEdit(/没有待您审核的申报/);
  });

  it('reject with a reason from the list, and with a typed reason', async () => {
    const c = await campaign('rv-reject');
    const a = await seed(c, { name: '吴甲' });
    const b = await seed(c, { name: '郑乙' });
    await openCard(r1, c.code, a.id);
    await r1.press('❌ 不通过');
    await r1.expectEdit();
    await r1.press('重复申报');
    await r1.expectEdit(new RegExp(`#${a.id} 已审核为不予通过`));
    const na = await contact.expectReply(new RegExp(`#${a.id}（吴甲）未通过审核`));
    expect(na.text).toContain('原因：重复申报');

    await openCard(r1, c.code, b.id);
    await r1.press('❌ 不通过');
    await r1.expectEdit();
    await r1.press('✏️ 输入其他原因');
    await r1.expectReply(/不予通过的原因/);
    await r1.send('已在其他单位领取');
    await r1.expectReply(new RegExp(`#${b.id} 已审核为不予通过`));
    const nb = await contact.expectReply(new RegExp(`#${b.id}（郑乙）未通过审核`));
    expect(nb.text).toContain('原因：已在其他单位领取');
    const d = await db().reviewDecision.findFirstOrThrow({ where: { nominationId: b.id } });
    expect(d).toMatchObject({ kind: 'reject', reason: '已在其他单位领取' });
  });

  it('a reviewer revoked between 不通过 and typing the reason cannot reject (dialog and use case re-check)', async () => {
    const c = await campaign('rv-revoked');
    const n = await seed(c, { name: '褚丁' });
    const R3 = 9103;
    const p3 = await grantStaff(db(), R3, 'reviewer', '卫审核');
    const r3 = h.emu.user(R3, { firstName: '卫审核', languageCode: 'zh-hans' });
    await openCard(r3, c.code, n.id);
    await r3.press('❌ 不通过');
    await r3.expectEdit();
    await r3.press('✏️ 输入其他原因');
    await r3.expectReply(/不予通过的原因/);
    await admin.send(`/revoke ${R3} reviewer`);
    await admin.expectReply(/已撤销/);
    await r3.send('资料不实');
    await r3.expectReply(/您没有办理此项业务的权限/);
    const row = await db().nomination.findUniqueOrThrow({ where: { id: n.id } });
    expect(row.status).toBe('submitted');
    expect(await db().reviewDecision.count({ where: { nominationId: n.id } })).toBe(0);
    // The use case checks the role itself, whatever the shell believed.
    await expect(
      decideNomination(
        { db: h.app.db, cipher: h.app.cipher, queues: h.app.queues, now: clock },
        {
          reviewerId: p3.id,
          nominationId: n.id,
          revision: row.revision,
          version: row.version,
          action: 'reject',
          reason: '资料不实',
        },
      ),
    ).rejects.toMatchObject({ code: 'forbidden' });
    expect((await db().nomination.findUniqueOrThrow({ where: { id: n.id } })).status).toBe('submitted');
    // Out of the other tests' /review.
    await withdrawNomination(
      { db: h.app.db, cipher: h.app.cipher, now: clock },
      { personId: contactId, nominationId: n.id },
    );
  });

  it('return for correction (comment required), contact resubmits, card shows the diff', async () => {
    const c = await campaign('rv-return');
    const n = await seed(c, { name: '冯丙', phone: '13812345678' });
    await openCard(r1, c.code, n.id);
    await r1.press('↩️ 退回修改');
    await r1.expectReply(/需要修改的内容/);
    await r1.send('改');
    await r1.expectReply(/退回修改必须填写意见/);
    await r1.send('手机号码填成了联系人本人的，请改为职工本人号码');
    await r1.expectReply(new RegExp(`#${n.id} 已退回修改`));
    await contact.expectReply(/需要修改后重新提交[\s\S]*请改为职工本人号码/);
    await contact.press('修改并重新提交');
    // The reviewer's comment heads the summary: one message.
    await contact.expectReply(/审核意见：手机号码填成了联系人本人的[\s\S]*请核对申报信息/);
    await contact.press('修改手机号码');
    await contact.expectReply(/11位手机号码/);
    await contact.send('13987654321');
    await contact.expectReply(/请核对申报信息/);
    await contact.press('提交申报');
    await contact.expectReply(/申报已提交/);
    const row = await db().nomination.findUniqueOrThrow({ where: { id: n.id } });
    expect(row).toMatchObject({ status: 'submitted', revision: 2 });
    // The resubmission queued a review task for revision 2.
    await waitFor('review task r2', () => h.app.queues.get('review').getJob(`rvtask-${n.id}-r2`));

    await r2.send('/review');
    const card = await r2.expectReply(new RegExp(`申报 #${n.id}（第 2 版）`));
    expect(card.text).toContain('与第 1 版相比的修改');
    expect(card.text).toContain('138****5678 → 139****4321');
    expect(card.text).toContain('退回意见：手机号码填成了联系人本人的');
    await r2.press('✅ 通过');
    await r2.expectEdit(new RegExp(`#${n.id} 已审核通过`));
    await contact.expectReply(new RegExp(`#${n.id}（冯丙）已审核通过`));
  });

  it('four eyes: above the amount needs a second, different approver', async () => {
    const c = await campaign('rv-four', { fourEyes: { aboveAmountFen: 10_000, flagged: true } });
    const n = await seed(c, { name: '陈丁' });
    const card = await openCard(r1, c.code, n.id);
    expect(card.text).toContain('需双人审核');
    await r1.press('✅ 通过');
    await r1.expectEdit(new RegExp(`#${n.id} 已初审通过，等待另一位审核人员复核`));
    expect((await db().nomination.findUniqueOrThrow({ where: { id: n.id } })).status).toBe(
      'pending_second_approval',
    );
    // The same reviewer cannot give the second approval.
    await openCard(r1, c.code, n.id);
    await r1.press('✅ 通过');
    await r1.expectReply(/不能复核自己初审通过的申报/);
    expect((await db().nomination.findUniqueOrThrow({ where: { id: n.id } })).status).toBe(
      'pending_second_approval',
    );
    await contact.expectNoReply(300);
    // Another reviewer can.
    const second = await openCard(r2, c.code, n.id);
    expect(second.text).toMatch(/初审通过：钱审核/);
    await r2.press('✅ 通过');
    await r2.expectEdit(new RegExp(`#${n.id} 已审核通过`));
    await contact.expectReply(new RegExp(`#${n.id}（陈丁）已审核通过`));
    const kinds = (
      await db().reviewDecision.findMany({ where: { nominationId: n.id }, orderBy: { id: 'asc' } })
    ).map((d) => d.kind);
    expect(kinds).toEqual(['approve', 'second_approve']);
  });

  it('bulk approve: count and total, confirm, one transaction; flagged excluded and listed', async () => {
    const c = await campaign('rv-bulk');
    const plain: { id: number }[] = [];
    for (let i = 0; i < 5; i++) plain.push(await seed(c));
    const flagged = [
      await seed(c, { flags: ['shared_phone'] }),
      await seed(c, { flags: ['self_nomination'] }),
    ];
    await r1.send(`/queue campaign=${c.code} union=县环卫工会`);
    await r1.expectReply(/待审核申报共 7 条（其中有标记 2 条）/);
    await r1.press('批量通过本列表中无标记的申报');
    const preview = await r1.expectEdit(/将批量审核通过 5 条申报，合计 750\.00 元/);
    expect(preview.text).toContain(`#${flagged[0]!.id}`);
    expect(preview.text).toContain('手机号与其他申报对象相同');
    await r1.press('确认通过 5 条');
    await r1.expectEdit(/已批量审核通过 5 条申报，合计 750\.00 元/);
    const rows = await db().nomination.findMany({ where: { campaignId: c.id }, orderBy: { id: 'asc' } });
    expect(rows.filter((r) => r.status === 'approved').map((r) => r.id)).toEqual(plain.map((p) => p.id));
    expect(rows.filter((r) => r.status === 'submitted').map((r) => r.id)).toEqual(flagged.map((p) => p.id));
    expect(await db().reviewDecision.count({ where: { nominationId: { in: plain.map((p) => p.id) } } })).toBe(
      5,
    );
    await waitFor(
      '5 approval notices sent',
      async () =>
        (await db().notice.count({
          where: { nominationId: { in: plain.map((p) => p.id) }, status: 'sent' },
        })) === 5,
    );
    // Leave the queue clean for the next tests.
    for (const f of flagged)
      await db().nomination.update({ where: { id: f.id }, data: { status: 'withdrawn', dedupKey: null } });
  });

  it('two reviewers pressing at once: exactly one decision, the other told who and how', async () => {
    const c = await campaign('rv-race');
    const n = await seed(c, { name: '褚戊' });
    await openCard(r1, c.code, n.id);
    await openCard(r2, c.code, n.id);
    await Promise.all([
      r1.press('✅ 通过'),
      r2
        .press('❌ 不通过')
        .then(() => r2.expectEdit())
        .then(() => r2.press('不符合本次慰问条件')),
    ]);
    const e1 = await r1.expectEdit(new RegExp(`#${n.id}`));
    const e2 = await r2.expectEdit(new RegExp(`#${n.id} (已审核为不予通过|已由 钱审核)`));
    const decisions = await db().reviewDecision.findMany({ where: { nominationId: n.id } });
    expect(decisions).toHaveLength(1);
    const winner = decisions[0]!;
    if (winner.kind === 'approve') {
      expect(e1.text).toContain('已审核通过');
      expect(e2.text).toMatch(/已由 钱审核 于 .* 处理（初审通过）/);
    } else {
      expect(e2.text).toContain('已审核为不予通过');
      expect(e1.text).toMatch(/已由 孙审核 于 .* 处理（不予通过）/);
    }
    // Truly simultaneous presses on the same action.
    const m = await seed(c, { name: '卫己' });
    await openCard(r1, c.code, m.id);
    await openCard(r2, c.code, m.id);
    await Promise.all([r1.press('✅ 通过'), r2.press('✅ 通过')]);
    const [x, y] = await Promise.all([
      r1.expectEdit(new RegExp(`#${m.id}`)),
      r2.expectEdit(new RegExp(`#${m.id}`)),
    ]);
    expect(await db().reviewDecision.count({ where: { nominationId: m.id } })).toBe(1);
    expect([x.text, y.text].filter((t) => /已审核通过/.test(t ?? ''))).toHaveLength(1);
    expect([x.text, y.text].filter((t) => /已由 .+ 于 .* 处理/.test(t ?? ''))).toHaveLength(1);
    await waitFor(
      'one notice per decision',
      async () => (await db().notice.count({ where: { nominationId: m.id } })) === 1,
    );
  });

  it("a contact pressing a reviewer's button is refused", async () => {
    const c = await campaign('rv-forged');
    const n = await seed(c);
    const card = await openCard(r1, c.code, n.id);
    const approve = card.buttons.find((b) => b.text === '✅ 通过')!.callbackData!;
    let k = 0;
    const forge = async (data: string) => {
      const id = `forged-review-${++k}`;
      await h.emu.client.injectRawUpdate({
        callback_query: {
          id,
          from: { id: C1, is_bot: false, first_name: '赵联系', language_code: 'zh-hans' },
          message: card.raw,
          chat_instance: 'ci',
          data,
        },
      });
      return waitFor('answer to forged press', async () => {
        const ans = (await contact.handle.callbackAnswers()).find((a) => a.callbackQueryId === id);
        return ans ? (ans.text ?? '') : undefined;
      });
    };
    // The reviewer's own button data: its MAC covers the reviewer, not the contact.
    expect(await forge(approve)).toMatch(/按钮已失效或无法识别/);
    // Validly signed for the contact (a leaked key, say): the role is re-checked on the server.
    const codec = new CallbackCodec(h.app.cipher);
    expect(await forge(codec.encode(C1, 'rv_ok', n.id, 1, 1))).toMatch(/没有办理此项业务的权限/);
    expect(await forge(codec.encode(C1, 'rv_bulkok', c.id, 0, 0, 1, n.id))).toMatch(/没有办理此项业务的权限/);
    const row = await db().nomination.findUniqueOrThrow({ where: { id: n.id } });
    expect(row.status).toBe('submitted');
    expect(await db().reviewDecision.count({ where: { nominationId: n.id } })).toBe(0);
    await db().nomination.update({ where: { id: n.id }, data: { status: 'withdrawn', dedupKey: null } });
  });

  it('a stale card (the nomination changed after it was drawn) is refused', async () => {
    const c = await campaign('rv-stale');
    const n = await seed(c, { name: '蒋庚' });
    await openCard(r1, c.code, n.id);
    await withdrawNomination(
      { db: h.app.db, cipher: h.app.cipher, now: clock },
      { personId: contactId, nominationId: n.id },
    );
    await r1.press('✅ 通过');
    await r1.expectEdit(new RegExp(`此卡片已过期：申报 #${n.id}.*当前状态：已撤回`));
    expect(await db().reviewDecision.count({ where: { nominationId: n.id } })).toBe(0);
    expect((await db().nomination.findUniqueOrThrow({ where: { id: n.id } })).status).toBe('withdrawn');
  });

  it('digest: one message per reviewer per window, counting new and flagged', async () => {
    const c = await campaign('rv-digest', { reviewDigestMinutes: 10 });
    const items = [await seed(c), await seed(c), await seed(c, { flags: ['earlier_campaign'] })];
    for (const n of items) await queueReviewTask(h.app.queues, { nominationId: n.id, revision: 1 });
    await queueReviewTask(h.app.queues, { nominationId: items[0]!.id, revision: 1 }); // idempotent
    const window = digestWindow(clock(), 10);
    const queue = h.app.queues.get('review');
    const job = await waitFor('digest job', () => queue.getJob(digestJobId('new', c.id, window)));
    await waitFor('3 tasks done', async () => {
      const states = await Promise.all(
        items.map((n) => queue.getJob(`rvtask-${n.id}-r1`).then((j) => j?.getState())),
      );
      return states.every((s) => s === 'completed');
    });
    expect(await job.getState()).toBe('delayed');
    await r1.expectNoReply(300);
    // The window ends: move the clock past it and let the delayed job run now.
    offsetMs += 10 * 60_000;
    await job.promote();
    const d1 = await r1.expectReply(/有 3 条新申报待审核，其中 1 条有标记/);
    expect(d1.text).toContain('2026年春节送温暖活动');
    await r2.expectReply(/有 3 条新申报待审核，其中 1 条有标记/);
    // Running the same window again (a repeated job) sends nothing more.
    const again = await sendReviewDigest(
      { db: h.app.db, queues: h.app.queues, now: clock, localeOf: () => 'zh-CN' },
      { campaignId: c.id, kind: 'new', window },
    );
    expect(again.outcome).toBe('empty');
    await r1.expectNoReply(300);
    expect(await db().notice.count({ where: { uniqueKey: { startsWith: `rvdigest-new-${c.id}-` } } })).toBe(
      2,
    );
    for (const n of items)
      await db().nomination.update({ where: { id: n.id }, data: { status: 'withdrawn', dedupKey: null } });
  });

  it('SLA: admins are reminded once per SLA period through the reminders queue', async () => {
    const c = await campaign('rv-sla', { reviewSlaHours: 1, reviewDigestMinutes: 5 });
    const n = await seed(c, { name: '沈辛' });
    await queueReviewTask(h.app.queues, { nominationId: n.id, revision: 1 });
    const reminders = h.app.queues.get('reminders');
    const review = h.app.queues.get('review');
    const p1 = await waitFor('SLA job p1', () => reminders.getJob(slaJobId(n.id, 1, 1)));
    expect(await p1.getState()).toBe('delayed');

    const escalate = async () => {
      const window = digestWindow(clock(), 5);
      const digest = await waitFor('SLA digest job', () => review.getJob(digestJobId('sla', c.id, window)));
      offsetMs += 5 * 60_000;
      await digest.promote();
    };
    offsetMs += 61 * 60_000;
    await p1.promote();
    await escalate();
    const m1 = await admin.expectReply(/有 1 条申报等待审核已超过 1 小时/);
    expect(m1.text).toContain(`#${n.id}`);
    // The next period's check exists; run early, it waits (no second reminder in the same period).
    const p2 = await waitFor('SLA job p2', () => reminders.getJob(slaJobId(n.id, 1, 2)));
    await p2.promote();
    await waitFor('p2 deferred', async () => (await p2.getState()) === 'delayed');
    await admin.expectNoReply(500);
    // A whole period later: one more reminder.
    offsetMs += 60 * 60_000;
    await (await reminders.getJob(slaJobId(n.id, 1, 2)))!.promote();
    await escalate();
    await admin.expectReply(/有 1 条申报等待审核已超过 1 小时/);
    // Decided: the next period's check does nothing.
    await db().nomination.update({ where: { id: n.id }, data: { status: 'approved' } });
    offsetMs += 60 * 60_000;
    const p3 = await waitFor('SLA job p3', () => reminders.getJob(slaJobId(n.id, 1, 3)));
    await p3.promote();
    await waitFor('p3 done', async () => (await p3.getState()) === 'completed');
    expect((await reminders.getJob(slaJobId(n.id, 1, 3)))?.returnvalue).toBe('skipped');
    await admin.expectNoReply(500);
  });
});
