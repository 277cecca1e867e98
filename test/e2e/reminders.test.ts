import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatShanghaiDateTime } from '../../src/domain/calendar/date.ts';
import { REMINDER_JOB, REMINDER_JOB_OPTIONS, syncReminders } from '../../src/usecases/reminders.ts';
import type { PrismaClient } from '../../src/generated/prisma/client.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import * as fx from '../support/reminder-fixtures.ts';

// Reminders through the real worker and bot against the emulator, with a controllable clock: the app's
// `now` runs at real speed from a chosen instant (BullMQ delays are real time, so the two stay in step).

const ADMIN = 8001;
let h: Harness;
let offsetMs = 0;
const clock = () => new Date(Date.now() + offsetMs);
const setClock = (shanghai: string) => {
  offsetMs = fx.sh(shanghai).getTime() - Date.now();
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let fed: number;
const db = () => h.app.db as unknown as PrismaClient;

beforeAll(async () => {
  setClock('2026-03-03 10:00');
  h = await startHarness({ admins: [ADMIN], now: clock });
  fed = await fx.federation(db());
});
afterAll(async () => {
  await h?.stop();
});

/** A user who pressed Start, holding the contact role of a new union. */
async function contact(telegramId: number, unionName: string) {
  const user = h.emu.user(telegramId, { firstName: unionName.slice(0, 2), languageCode: 'zh-hans' });
  await user.send('/start');
  await user.expectReply();
  const unionId = await fx.union(db(), fed, unionName);
  const p = await h.app.db.person.findUniqueOrThrow({ where: { telegramId: BigInt(telegramId) } });
  await h.app.db.roleGrant.create({
    data: { personId: p.id, role: 'contact', scope: `union:${unionId}`, unionId },
  });
  return { user, personId: p.id, unionId };
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | null | false>, ms = 10_000) {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('reminders through the worker', () => {
  it('a reminder due in about 1 s fires once and reaches the contact (sync run twice before)', async () => {
    setClock('2026-03-03 10:00');
    const { user, personId } = await contact(8101, '县人民医院工会');
    const closes = new Date(clock().getTime() + 2 * 3_600_000 + 1_200);
    const c = await fx.campaign(db(), fed, {
      code: 'e2e-fire-once',
      opens: fx.sh('2026-02-24 09:00'),
      closes,
      review: fx.sh('2026-03-20 17:00'),
      payment: '2026-03-31',
      settings: { reminders: { beforeClose: [{ spec: '2h', amount: 2, unit: 'hour' }] } },
    });
    const a = await syncReminders(h.app.db, h.app.queues, { campaignId: c, now: clock() });
    const b = await syncReminders(h.app.db, h.app.queues, { campaignId: c, now: clock() });
    expect(a.created).toBe(1);
    expect(b.created + b.rescheduled).toBe(0);

    const msg = await user.expectReply(/申报将于.*截止/);
    expect(msg.text).toContain('2026年春节送温暖活动');
    expect(msg.text).toContain('尚未提交任何申报');
    expect(msg.text).toMatch(/还剩 2 小时左右/);
    const key = `rem-${c}-close-${personId}-2h`;
    const row = await h.app.db.reminder.findUniqueOrThrow({ where: { key } });
    expect(row.status).toBe('sent');
    expect(row.sentAt!.getTime()).toBeGreaterThanOrEqual(row.dueAt.getTime() - 2_000);

    // A late duplicate job and another sync change nothing.
    await h.app.queues.get('reminders').add(REMINDER_JOB, { key }, { ...REMINDER_JOB_OPTIONS, jobId: key });
    await syncReminders(h.app.db, h.app.queues, { campaignId: c, now: clock() });
    await user.expectNoReply(1_500);
    const all = (await user.messages()).filter((m) => /申报将于/.test(m.text ?? ''));
    expect(all).toHaveLength(1);
  });

  it('a reminder that comes due in quiet hours (23:00) is not sent but moved to 08:00', async () => {
    setClock('2026-03-03 22:59:59');
    const { user, personId } = await contact(8102, '县环卫所工会');
    const c = await fx.campaign(db(), fed, {
      code: 'e2e-quiet',
      opens: fx.sh('2026-02-24 09:00'),
      closes: fx.sh('2026-03-05 17:00'),
      review: fx.sh('2026-03-20 17:00'),
      payment: '2026-03-31',
    });
    // As if scheduled before the clock reached the quiet hours (e.g. quiet hours changed since).
    const key = `rem-${c}-close-${personId}-1d`;
    await h.app.db.reminder.create({
      data: { key, kind: 'close', campaignId: c, personId, dueAt: new Date(clock().getTime() + 1_000) },
    });
    await h.app.queues
      .get('reminders')
      .add(REMINDER_JOB, { key }, { ...REMINDER_JOB_OPTIONS, jobId: key, delay: 1_000 });

    const moved = await waitFor('the reminder to be re-delayed', async () => {
      const r = await h.app.db.reminder.findUniqueOrThrow({ where: { key } });
      return formatShanghaiDateTime(r.dueAt) === '2026-03-04 08:00' ? r : null;
    });
    expect(moved.status).toBe('scheduled');
    const job = await h.app.queues.get('reminders').getJob(key);
    expect(await job!.getState()).toBe('delayed');
    await sleep(800);
    expect((await user.messages()).some((m) => /申报将于/.test(m.text ?? ''))).toBe(false);
    await job!.remove();
  });
});

describe('/deadlines and /deadline', () => {
  it('shows each campaign with working days left', async () => {
    setClock('2026-03-03 10:00');
    await fx.campaign(db(), fed, {
      code: 'e2e-view',
      opens: fx.sh('2026-02-24 09:00'),
      closes: fx.sh('2026-03-10 17:00'),
      review: fx.sh('2026-03-20 17:00'),
      payment: '2026-03-31',
    });
    const admin = h.emu.user(ADMIN, { firstName: '王主任', languageCode: 'zh-hans' });
    await admin.send('/deadlines');
    const msg = await admin.expectReply(/e2e-view/);
    // 2026-03-03 → 03-10: Wed..Fri + Mon, Tue = 5 working days.
    expect(msg.text).toMatch(/申报截止时间：2026-03-10 17:00，还剩 5 个工作日/);
    expect(msg.text).toMatch(/申报开始时间：2026-02-24 09:00（已过）/);
    expect(msg.text).toMatch(/录入省帮扶系统（付款后 30 个工作日内）：待录入 0 名，已逾期 0 名/);
  });

  it('an admin changes a deadline after confirmation (audited, reminders moved); a contact is refused', async () => {
    setClock('2026-03-03 10:00');
    const { user, personId } = await contact(8103, '县供电局工会');
    const c = await fx.campaign(db(), fed, {
      code: 'e2e-change',
      opens: fx.sh('2026-02-24 09:00'),
      closes: fx.sh('2026-03-10 17:00'),
      review: fx.sh('2026-03-20 17:00'),
      payment: '2026-03-31',
    });
    await syncReminders(h.app.db, h.app.queues, { campaignId: c, now: clock() });
    const key = `rem-${c}-close-${personId}-1d`;
    expect(
      formatShanghaiDateTime((await h.app.db.reminder.findUniqueOrThrow({ where: { key } })).dueAt),
    ).toBe('2026-03-09 17:00');

    await user.send('/deadline e2e-change closes 2026-03-12');
    await user.expectReply(/没有办理此项业务的权限/);

    const admin = h.emu.user(ADMIN, { firstName: '王主任', languageCode: 'zh-hans' });
    await admin.send('/deadline e2e-change closes 2026-03-21');
    await admin.expectReply(/不能早于/); // after the review deadline
    await admin.send('/deadline nope closes 2026-03-12');
    await admin.expectReply(/没有代码为“nope”/);
    await admin.send('/deadline e2e-change closes 2026-02-30');
    await admin.expectReply(/不是有效的日期/);

    await admin.send('/deadline e2e-change closes 2026-03-12');
    await admin.expectReply(/原为：2026-03-10 17:00\n改为：2026-03-12 17:00/);
    await admin.press('确认修改');
    await admin.expectEdit(/已修改活动 e2e-change 的申报截止时间：2026-03-10 17:00 → 2026-03-12 17:00/);

    const campaign = await h.app.db.campaign.findUniqueOrThrow({ where: { id: c } });
    expect(formatShanghaiDateTime(campaign.nominationClosesAt)).toBe('2026-03-12 17:00');
    const audit = await h.app.db.auditLog.findFirstOrThrow({ where: { action: 'campaign.deadline' } });
    expect(audit.before).toEqual({ closes: '2026-03-10 17:00' });
    expect(audit.after).toEqual({ closes: '2026-03-12 17:00' });
    await waitFor('the reminder to move', async () => {
      const r = await h.app.db.reminder.findUniqueOrThrow({ where: { key } });
      return formatShanghaiDateTime(r.dueAt) === '2026-03-11 17:00';
    });
    expect(await h.app.db.reminder.count({ where: { campaignId: c, personId, status: 'scheduled' } })).toBe(
      3,
    );
  });
});
