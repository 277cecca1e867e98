import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Person } from '../support/conversation.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { makeCard, makeId, seedCampaign, seedContact } from '../support/fixtures.ts';

// The guided nomination dialog end to end: real bot, real PostgreSQL and Redis, emulator over HTTP.

let h: Harness;
let campaignId: number;
const C1 = 8001; // contact of union A
const C2 = 8002; // contact of union B

beforeAll(async () => {
  h = await startHarness({ admins: [5001] });
  const c = await seedCampaign(h.app.db, {
    budgetYuan: 10_000,
    categories: [
      {
        code: 'departments',
        kind: 'department',
        nameZh: '坚守岗位部门',
        amountYuan: 2000,
        forms: ['unit_condolence'],
      },
      { code: 'needy', kind: 'needy_worker', nameZh: '困难职工', amountYuan: 800 },
      {
        code: 'model',
        kind: 'needy_model_worker',
        nameZh: '困难劳模',
        amountYuan: 1000,
        forms: ['transfer', 'in_kind'],
      },
      {
        code: 'gig',
        kind: 'gig_worker',
        nameZh: '新就业形态劳动者',
        amountYuan: 200,
        forms: ['in_kind'],
        quota: 1,
      },
      { code: 'frontline', kind: 'frontline_worker', nameZh: '一线职工', amountYuan: 150 },
    ],
  });
  campaignId = c.id;
  await seedContact(h.app.db, C1, '县人民医院工会', '张联系');
  await seedContact(h.app.db, C2, '县邮政快递行业工会', '李联系');
});
afterAll(async () => {
  await h?.stop();
});

const contact = (id: number) =>
  h.emu.user(id, { firstName: id === C1 ? '张联系' : '李联系', languageCode: 'zh-hans' });

/** Starts a new nomination, discarding a draft left by an earlier test. */
async function fresh(u: Person) {
  await u.send('/nominate');
  const reply = await u.expectReply(/请选择慰问类别|未完成的申报/);
  if (/未完成/.test(reply.text ?? '')) {
    await u.press('删除草稿，重新开始');
    await u.expectReply(/草稿已删除/);
    await u.send('/nominate');
    await u.expectReply(/请选择慰问类别/);
  }
}

async function pick(u: Person, label: string | RegExp, expectAfter?: RegExp) {
  await u.press(label);
  if (expectAfter) return u.expectReply(expectAfter);
  return undefined;
}

/** Answers the common person steps (name, ID, phone, employer). */
async function personSteps(
  u: Person,
  name: string,
  id: string,
  phone = '13812345678',
  employer = '县人民医院',
) {
  if (!/请输入慰问对象的姓名/.test((await u.lastMessage())?.text ?? ''))
    await u.expectReply(/请输入慰问对象的姓名/);
  await u.send(name);
  await u.expectReply(/18位居民身份证号码/);
  await u.send(id);
  await u.expectReply(/出生年份[\s\S]*是否正确/);
  await pick(u, '信息正确', /11位手机号码/);
  await u.send(phone);
  await u.expectReply(/工作单位/);
  await u.send(employer);
}

describe('/nominate', () => {
  it('needy worker: every step, summary, submit; data stored encrypted and masked', async () => {
    const u = contact(C1);
    await u.send('/nominate');
    await u.expectReply(/请选择慰问类别/);
    await pick(u, /困难职工 · 800/);
    await personSteps(u, '王小红', makeId('19750315', 12));
    await u.expectReply(/工作状态/);
    await pick(u, '失(无)业', /困难类别/);
    await pick(u, '深度困难', /主要致困原因/);
    await pick(u, '患重特大疾病', /次要致困原因/);
    await u.press('子女上学');
    await u.expectEdit();
    await u.press('完成');
    await u.expectReply(/家庭困难情况/);
    await u.send('丈夫患尿毒症长期透析，孩子上初中，本人失业在家。');
    await u.expectReply(/开户银行/);
    await u.send('中国农业银行富民县支行');
    await u.expectReply(/银行卡号/);
    await u.send(makeCard());
    const summary = await u.expectReply(/请核对申报信息/);
    expect(summary.text).toMatch(/110105\*{8}\d{3}[\dX]/);
    expect(summary.text).toContain('138****5678');
    expect(summary.text).toMatch(/\*\*\*\* \d{4}/);
    expect(summary.text).not.toContain('13812345678');
    expect(summary.text).toContain('子女上学');
    await u.press('提交申报');
    await u.expectReply(/申报已提交/);
    const n = await h.app.db.nomination.findFirstOrThrow({ where: { fullName: '王小红' } });
    expect(n.status).toBe('submitted');
    expect(n.amountFen).toBe(80_000);
    expect(n.idNumberEnc).not.toContain('19750315');
    expect(n.phoneEnc).not.toContain('13812345678');
    expect(h.app.cipher.decrypt(n.idNumberEnc!)).toBe(makeId('19750315', 12));
    expect(await h.app.db.nominationRevision.count({ where: { nominationId: n.id } })).toBe(1);
    expect(
      await h.app.db.auditLog.count({ where: { action: 'nomination.submit', entityId: String(n.id) } }),
    ).toBe(1);
  });

  it('department: unit-level condolence asks for the department and its contact, no ID or bank', async () => {
    const u = contact(C1);
    await u.send('/nominate');
    await u.expectReply(/请选择慰问类别/);
    await pick(u, /坚守岗位部门/, /请输入慰问对象的姓名/);
    await u.send('赵值班');
    await u.expectReply(/11位手机号码/);
    await u.send('139-1234-5678');
    await u.expectReply(/受慰问部门（单位）名称/);
    await u.send('县人民医院急诊科');
    await u.expectReply(/情况说明|家庭困难情况/);
    await u.send('春节期间全员坚守岗位，保障急诊救治。');
    const summary = await u.expectReply(/请核对申报信息/);
    expect(summary.text).toContain('受慰问部门：县人民医院急诊科');
    expect(summary.text).toContain('单位慰问');
    expect(summary.text).not.toContain('身份证');
    await u.press('提交申报');
    await u.expectReply(/申报已提交/);
  });

  it('model worker in kind: benefit form chosen, bank steps skipped', async () => {
    const u = contact(C1);
    await u.send('/nominate');
    await u.expectReply(/请选择慰问类别/);
    await pick(u, /困难劳模/);
    await personSteps(u, '钱劳模', makeId('19600101', 31));
    await u.expectReply(/工作状态/);
    await pick(u, '退休', /劳模级别/);
    await pick(u, '省部级', /困难类别/);
    await pick(u, '相对困难', /主要致困原因/);
    await pick(u, '无劳动能力', /次要致困原因/);
    await pick(u, '无次要原因', /家庭困难情况/);
    await u.send('年老多病。');
    await u.expectReply(/慰问方式/);
    await pick(u, '实物发放', /请核对申报信息/);
    await u.press('提交申报');
    await u.expectReply(/申报已提交/);
    const n = await h.app.db.nomination.findFirstOrThrow({ where: { fullName: '钱劳模' } });
    expect(n.benefitForm).toBe('in_kind');
    expect(n.bankCardEnc).toBeNull();
    expect(n.modelWorkerLevel).toBe('provincial');
  });

  it('gig and frontline workers; a union over its quota is refused with what remains', async () => {
    const u = contact(C2);
    await u.send('/nominate');
    await u.expectReply(/请选择慰问类别/);
    await u.press(/新就业形态劳动者/);
    // The side note rides on the next question: one message.
    await u.expectReply(/还可申报 0 名[\s\S]*请输入慰问对象的姓名/);
    await personSteps(u, '孙骑手', makeId('19950505', 51), '13700001111', '某外卖平台富民站');
    await u.expectReply(/情况/);
    await u.send('春节期间坚持配送。');
    await u.expectReply(/请核对申报信息/);
    await u.press('提交申报');
    await u.expectReply(/申报已提交/);

    await u.send('/nominate');
    await u.expectReply(/请选择慰问类别/);
    await u.press(/新就业形态劳动者/);
    await u.expectReply(/名额（1 名）已用完/);
    await pick(u, /一线职工/);
    await personSteps(u, '周一线', makeId('19880808', 71), '13700002222', '县供电局');
    await u.expectReply(/开户银行/);
    await u.send('富民县农村信用社');
    await u.expectReply(/银行卡号/);
    await u.send(makeCard('622848001234567811'));
    await u.expectReply(/请核对申报信息/);
    await u.press('提交申报');
    await u.expectReply(/申报已提交/);
  });

  it('says exactly what is wrong with each bad answer, and survives long and emoji-only messages', async () => {
    const u = contact(C2);
    await u.send('/nominate');
    await u.expectReply(/请选择慰问类别/);
    await pick(u, /一线职工/, /姓名/);
    const long = '长'.repeat(5000);
    for (const bad of [long, '😀😀😀', '张三3']) {
      await u.send(bad);
      await u.expectReply(/姓名/);
    }
    await u.send('吴错误');
    await u.expectReply(/18位居民身份证号码/);
    const good = makeId('19900101', 81);
    const wrongCheck = good.slice(0, 17) + (good[17] === '0' ? '1' : '0');
    const cases: [string, RegExp][] = [
      [wrongCheck, /校验位不符/],
      ['110105199002300015', /出生日期 1990-02-30 不存在/],
      [makeId('20991231', 1), /晚于今天/],
      ['110105900101001', /15位的旧版身份证号码/],
      [long, /不能含有“长”|应为 18 位/],
      ['😀', /不能含有/],
    ];
    for (const [input, message] of cases) {
      await u.send(input);
      await u.expectReply(message);
    }
    await u.send(
      `１１０１０５${good.slice(6).replace(/\d/g, (d) => String.fromCharCode(0xff10 + Number(d)))}`,
    );
    await u.expectReply(/是否正确/);
    await pick(u, '信息正确', /手机号码/);
    for (const [input, message] of [
      ['1381234567', /应为 11 位/],
      ['23812345678', /格式不正确/],
      [long, /应为 11 位|不能含有/],
      ['😀', /不能含有/],
    ] as [string, RegExp][]) {
      await u.send(input);
      await u.expectReply(message);
    }
    await u.send('+86 138 1234 9999');
    await u.expectReply(/工作单位/);
    await u.send(long);
    await u.expectReply(/最多 100 字/);
    await u.send('😀😀');
    await u.expectReply(/不能只有表情/);
    await u.send('县交警大队');
    await u.expectReply(/开户银行/);
    await u.send('农行');
    await u.expectReply(/银行卡号/);
    for (const [input, message] of [
      ['6228abc', /只能是数字/],
      ['1234', /应为 15 至 19 位/],
      [long, /只能是数字|应为 15 至 19 位/],
    ] as [string, RegExp][]) {
      await u.send(input);
      await u.expectReply(message);
    }
    // A card failing Luhn is a warning the contact may confirm.
    const luhnBad = makeCard('622848001234567822');
    await u.send(luhnBad.slice(0, -1) + String((Number(luhnBad.slice(-1)) + 1) % 10));
    await u.expectReply(/未通过校验/);
    await pick(u, '卡号无误', /请核对申报信息/);
    await u.press('提交申报');
    await u.expectReply(/申报已提交/);
    const n = await h.app.db.nomination.findFirstOrThrow({ where: { fullName: '吴错误' } });
    expect(n.flags).toContain('luhn_warning');
    expect(h.app.cipher.decrypt(n.phoneEnc!)).toBe('13812349999');
  });

  it('back, leave and resume (also after a restart), edit from the summary', async () => {
    const u = contact(C1);
    await u.send('/nominate');
    await u.expectReply(/请选择慰问类别/);
    await pick(u, /一线职工/, /姓名/);
    await u.send('郑返回');
    await u.expectReply(/身份证号码/);
    await pick(u, '« 上一步', /姓名/);
    await u.send('郑往返');
    await u.expectReply(/身份证号码/);
    await u.press('暂存退出');
    await u.expectReply(/已暂存退出/);
    await h.restart();
    await u.send('/nominate');
    await u.expectReply(/未完成的申报（郑往返）/);
    await u.expectReply(/身份证号码/);
    await u.send(makeId('19850202', 91));
    await u.expectReply(/是否正确/);
    await pick(u, '信息正确', /手机号码/);
    await u.send('13612345678');
    await u.expectReply(/工作单位/);
    await h.restart();
    await u.send('县消防救援大队');
    await u.expectReply(/开户银行/);
    await u.send('建设银行');
    await u.expectReply(/银行卡号/);
    await u.send(makeCard('622700001234567890'));
    await u.expectReply(/请核对申报信息/);
    await pick(u, '修改姓名', /姓名/);
    await u.send('郑改名');
    const summary = await u.expectReply(/请核对申报信息/);
    expect(summary.text).toContain('姓名：郑改名');
    await u.send('/cancel');
    await u.expectReply(/已取消/);
    await u.send('/nominate');
    await u.expectReply(/未完成的申报（郑改名）/);
    await u.press('删除草稿，重新开始');
    await u.expectReply(/草稿已删除/);
    expect(await h.app.db.nomination.count({ where: { fullName: '郑改名' } })).toBe(0);
  });

  it('refuses the same person from another union without naming it; flags self-nomination', async () => {
    const id = makeId('19700707', 99);
    const a = contact(C1);
    await a.send('/nominate');
    await a.expectReply(/请选择慰问类别/);
    await pick(a, /一线职工/);
    await personSteps(a, '张联系', id, '13512345678', '县人民医院');
    await a.expectReply(/开户银行/);
    await a.send('工商银行');
    await a.expectReply(/银行卡号/);
    await a.send(makeCard('621226001234567890'));
    await a.expectReply(/请核对申报信息/);
    await a.press('提交申报');
    await a.expectReply(/申报已提交[\s\S]*疑似为本人申报/);
    const b = contact(C2);
    await fresh(b);
    await pick(b, /一线职工/, /姓名/);
    await b.send('张某某');
    await b.expectReply(/身份证号码/);
    await b.send(id);
    // Another union's nomination: the contact learns it is a duplicate, not whose or how far it got.
    const refused = await b.expectReply(/已由其他基层工会申报，同一人不能重复申报/);
    expect(refused.text).not.toContain('县人民医院工会');
    expect(refused.text).not.toContain('待审核');
    expect(await h.app.db.nomination.count({ where: { idNumberHash: h.app.cipher.hash('id', id) } })).toBe(1);
  });

  it('refuses a category when the campaign budget cannot cover it, saying what remains', async () => {
    const live = await h.app.db.nomination.aggregate({
      _sum: { amountFen: true },
      where: { campaignId, status: { not: 'draft' } },
    });
    await h.app.db.campaign.update({
      where: { id: campaignId },
      data: { budgetTotalFen: BigInt((live._sum.amountFen ?? 0) + 10_000) },
    });
    const u = contact(C1);
    await fresh(u);
    await u.press(/困难职工/);
    await u.expectReply(/预算不足：剩余 100.00/);
  });

  it('/my lists, opens (masked) and withdraws; another contact cannot open it', async () => {
    const u = contact(C1);
    await u.send('/my');
    const list = await u.expectReply(/我的申报（共 \d+ 份/);
    expect(list.text).toContain('王小红');
    await u.press(/查看 #\d+ 王小红/);
    const detail = await u.expectReply(/申报 #\d+（待审核）/);
    expect(detail.text).toMatch(/110105\*{8}/);
    expect(detail.text).toContain('138****5678');
    const id = Number(/申报 #(\d+)/.exec(detail.text ?? '')![1]);
    await u.press('撤回申报');
    await u.expectReply(/确定撤回申报/);
    await u.press('确定撤回');
    await u.expectEdit(/已撤回/);
    const n = await h.app.db.nomination.findUniqueOrThrow({ where: { id } });
    expect(n.status).toBe('withdrawn');
    expect(n.dedupKey).toBeNull();
    expect(
      await h.app.db.auditLog.count({ where: { action: 'nomination.withdraw', entityId: String(id) } }),
    ).toBe(1);

    const other = contact(C2);
    await other.send('/my');
    const theirs = await other.expectReply(/我的申报/);
    expect(theirs.text).not.toContain('王小红');
  });

  it('wrote no ID number, phone or card to the logs during all of the above', () => {
    const all = h.logs.join('');
    expect(all).toContain('warmth-bot started');
    expect(all).not.toMatch(/(?<!\d)\d{17}[\dX](?!\d)/);
    expect(all).not.toMatch(/(?<!\d)1[3-9]\d{9}(?!\d)/);
    expect(all).not.toMatch(/(?<!\d)62\d{14,17}(?!\d)/);
    expect(all).not.toContain('王小红');
  });
});
