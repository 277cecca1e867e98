import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import ExcelJS from 'exceljs';
import { I18n, type Locale } from '../../src/adapters/i18n.ts';
import { demoCampaignText, DEMO_CAMPAIGN_CODE } from '../../src/cli/seed-demo.ts';
import { DEFAULT_LIMITS } from '../../src/emulator/rate-limit.ts';
import type { BotMessageView, ButtonView } from '../../src/emulator/types.ts';
import type { Person } from '../support/conversation.ts';
import { startTestEmulator } from '../support/conversation.ts';
import { makeCard, makeId } from '../support/fixtures.ts';
import { type Harness, startHarness } from '../support/harness.ts';

// The whole journey, through the real dialog, for every category of the example campaign and each
// benefit form it allows, in zh-CN and in en: the admin loads the campaign file and invites the
// contacts; each contact joins and nominates through /nominate; reviewers decide (four eyes where the
// campaign asks for it); finance pays a batch or records the handover; the recipient binds with the
// link, gets the notice and the letter and presses "received"; the entry is marked; /report counts it.
// The database is checked at every stage. The emulator enforces Telegram's limits (its defaults).

const ADMIN = 7701;
const R1 = 7702;
const R2 = 7703;
const FIN = 7704;
const i18n = new I18n('zh-CN');
const example = readFileSync(new URL('../../campaigns/example-2024-spring.yaml', import.meta.url), 'utf8');

interface Journey {
  /** How the nomination arrives: the dialog, a spreadsheet row, or the dialog then returned and fixed. */
  via?: 'dialog' | 'sheet' | 'returned';
  category: string;
  form: 'transfer' | 'in_kind' | 'unit_condolence';
  locale: Locale;
  contact: number;
  recipient: number;
  seq: number;
}

const CASES: Omit<Journey, 'contact' | 'recipient' | 'seq'>[] = [
  { category: 'department', form: 'unit_condolence', locale: 'zh-CN' },
  { category: 'needy_worker', form: 'transfer', locale: 'zh-CN' },
  { category: 'needy_model_worker', form: 'transfer', locale: 'zh-CN' },
  { category: 'gig_worker', form: 'transfer', locale: 'zh-CN' },
  { category: 'gig_worker', form: 'in_kind', locale: 'zh-CN' },
  { category: 'frontline_worker', form: 'in_kind', locale: 'zh-CN' },
  { category: 'department', form: 'unit_condolence', locale: 'en' },
  { category: 'needy_worker', form: 'transfer', locale: 'en' },
  { category: 'needy_model_worker', form: 'transfer', locale: 'en' },
  { category: 'gig_worker', form: 'transfer', locale: 'en' },
  { category: 'gig_worker', form: 'in_kind', locale: 'en' },
  { category: 'frontline_worker', form: 'in_kind', locale: 'en' },
  { category: 'needy_worker', form: 'transfer', locale: 'zh-CN', via: 'sheet' },
  { category: 'frontline_worker', form: 'in_kind', locale: 'en', via: 'returned' },
];
const NAMES = [
  '张一',
  '王二',
  '李三',
  '赵四',
  '钱五',
  '孙六',
  '周七',
  '吴八',
  '郑九',
  '冯十',
  '陈十一',
  '褚十二',
  '卫十三',
  '蒋十四',
];
const JOURNEYS: Journey[] = CASES.map((c, i) => ({
  ...c,
  contact: 7800 + i,
  recipient: 7900 + i,
  seq: 300 + i,
}));
const nameOf = (j: Journey) => NAMES[j.seq - 300]!;

let h: Harness;
let campaignId = 0;
const nominationOf = new Map<Journey, number>();
/** Each contact's campaign-opening message (issue 16), with its 开始申报 / 已阅 buttons. */
const openingOf = new Map<number, BotMessageView>();

const lang = (l: Locale) => (l === 'en' ? 'en' : 'zh-hans');
const t = (l: Locale, key: string, params: Record<string, string | number> = {}) => i18n.t(l, key, params);
/** A locale text as a pattern: its fixed parts in order, any value where a parameter stands. */
const like = (l: Locale, key: string) => {
  const parts = i18n.t(l, key, {}).split(/\{[a-z]+\}/i);
  return new RegExp(parts.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('[\\s\\S]*?'));
};
const data = (prefix: string) => (b: ButtonView) => (b.callbackData ?? '').startsWith(`${prefix}|`);
const hasButton = (m: BotMessageView | undefined, prefix: string) =>
  (m?.buttons ?? []).some((b) => (b.callbackData ?? '').startsWith(`${prefix}|`));

const idOf = (j: Journey) => makeId('19700101', j.seq, j.category === 'department' ? '530124' : '110105');
const phoneOf = (j: Journey) => `1390000${String(j.seq).padStart(4, '0')}`;
const cardOf = (j: Journey) => makeCard(`62284800${String(j.seq).padStart(10, '0')}`);

function user(id: number, locale: Locale, firstName: string): Person {
  return h.emu.user(id, { firstName, languageCode: lang(locale) });
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | null | false>, ms = 30_000) {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  const emulator = await startTestEmulator({
    limits: DEFAULT_LIMITS,
    timeoutMs: 60_000,
  });
  h = await startHarness({ admins: [ADMIN], emulator });
  const admin = user(ADMIN, 'zh-CN', '王主任');
  await admin.send('/start');
  await admin.expectReply();

  // The campaign file, sent to the bot by the admin (the example with a timeline open now).
  await admin.upload({ fileName: 'fumin-demo.yaml', bytes: demoCampaignText(example, new Date()) });
  await admin.expectReply(/已导入新活动/);
  campaignId = (await h.app.db.campaign.findUniqueOrThrow({ where: { code: DEMO_CAMPAIGN_CODE } })).id;

  // Staff roles, granted in chat.
  for (const [id, role] of [
    [R1, 'reviewer'],
    [R2, 'reviewer'],
    [FIN, 'finance'],
  ] as const) {
    await admin.send(`/grant ${id} ${role}`);
    await admin.expectReply(/已授予/);
  }
  // A grassroots union and an invite for its contacts.
  await admin.send('/union_add 县人民医院工会');
  await admin.expectReply(/确认新增基层工会/);
  await admin.press('确认新增');
  const added = await admin.expectEdit(/已新增基层工会/);
  const unionId = Number(/：(\d+)\./.exec(added.text ?? '')![1]);
  await admin.send(`/invite ${unionId} ${JOURNEYS.length}`);
  const invite = await admin.expectReply(/邀请链接/);
  const payload = /start=(inv_[A-Za-z0-9_-]+)/.exec(invite.text ?? '')![1]!;

  // Every contact joins through the link (in their own language).
  await Promise.all(
    JOURNEYS.map(async (j) => {
      const c = user(j.contact, j.locale, `联系人${j.seq}`);
      await c.command('/start', payload);
      await c.expectReply((m) => hasButton(m, 'inv_ok'));
      await c.press(data('inv_ok'));
      await c.expectEdit();
      // The campaign is open: a contact who joins is told so, once, with 开始申报 and 已阅.
      const opening = await c.expectReply((m) => hasButton(m, 'an_ack') && hasButton(m, 'nm_open'));
      openingOf.set(j.contact, opening);
    }),
  );
  expect(await h.app.db.roleGrant.count({ where: { role: 'contact', unionId, revokedAt: null } })).toBe(
    JOURNEYS.length,
  );
}, 300_000);

afterAll(async () => {
  await h?.stop();
});

/** A one-row list through /template and an upload, then submitted. Returns the nomination id. */
async function nominateBySheet(j: Journey): Promise<number> {
  const c = user(j.contact, j.locale, `联系人${j.seq}`);
  const category = await h.app.db.campaignCategory.findFirstOrThrow({
    where: { campaignId, code: j.category },
  });
  await c.send('/template');
  await c.expectReply((m) => hasButton(m, 'up_k'));
  const label = j.locale === 'en' ? category.nameEn : category.nameZh;
  await c.press((b) => (b.callbackData ?? '').startsWith('up_k|') && b.text.startsWith(label));
  const template = await c.download(await c.expectDocument(/\.xlsx/));
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(template as unknown as ArrayBuffer);
  const ws = wb.worksheets[0]!;
  const values: Record<string, string> = {
    name: nameOf(j),
    id_number: idOf(j),
    phone: phoneOf(j),
    employer: '富民县纺织厂',
    work_status: '失(无)业',
    hardship_tier: '深度困难',
    main_cause: '患重特大疾病',
    secondary_causes: '',
    description: '丈夫患尿毒症长期透析，本人失业在家。',
    bank_name: '中国农业银行富民县支行',
    bank_card: cardOf(j),
  };
  const { columnForHeader } = await import('../../src/domain/nomination/columns.ts');
  ws.getRow(1).eachCell((cell, col) => {
    const column = columnForHeader(String(cell.value ?? ''));
    if (column) ws.getRow(2).getCell(col).value = values[column] ?? '';
  });
  await c.upload({ fileName: 'list.xlsx', bytes: Buffer.from(await wb.xlsx.writeBuffer()) });
  await c.expectDocument();
  const summary = await c.expectReply((m) => hasButton(m, 'up_ok'));
  expect(summary.text).toMatch(/共 1 行，其中 1 行有效/);
  await c.press(data('up_ok'));
  await c.expectEdit(/已提交 1 条申报/);
  const n = await h.app.db.nomination.findFirstOrThrow({ where: { campaignId, fullName: nameOf(j) } });
  expect(n.source).toBe('upload');
  return n.id;
}

/** Answers whatever the dialog asks until the summary, then submits. Returns the nomination id. */
async function nominate(j: Journey): Promise<number> {
  if (j.via === 'sheet') return nominateBySheet(j);
  const c = user(j.contact, j.locale, `联系人${j.seq}`);
  const L = j.locale;
  const category = await h.app.db.campaignCategory.findFirstOrThrow({
    where: { campaignId, code: j.category },
  });
  // Half the contacts start from the opening message's 开始申报, the others with /nominate.
  const opening = openingOf.get(j.contact);
  if (j.seq % 2 === 1 && opening) {
    const start = opening.buttons.find((b) => (b.callbackData ?? '').startsWith('nm_open'))!;
    await c.press({ messageId: opening.messageId, data: start.callbackData! });
  } else await c.send('/nominate');
  await c.expectReply(like(L, 'nominate.ask_category'));
  await c.press((b) => (b.callbackData ?? '').startsWith(`nm_cat|${category.id}|`));
  const text: [string, string][] = [
    ['nominate.ask_department', `县人民医院急诊科${j.seq}`],
    ['nominate.ask_name', nameOf(j)],
    ['nominate.ask_id_number', idOf(j)],
    ['nominate.ask_phone', phoneOf(j)],
    ['nominate.ask_employer', '富民县人民医院'],
    ['nominate.ask_description', '家中老人长期患病，本人收入微薄。'],
    ['nominate.ask_bank_name', '中国农业银行富民县支行'],
    ['nominate.ask_bank_card', cardOf(j)],
  ];
  for (let guard = 0; guard < 30; guard++) {
    const m = await c.expectReply();
    const body = m.text ?? '';
    if (hasButton(m, 'nm_submit')) {
      // The summary: masked values only, the benefit form the category implies or the one chosen.
      expect(body).toContain(t(L, `vocab.benefit_form.${j.form}`));
      expect(body).not.toContain(idOf(j));
      if (j.form === 'transfer') expect(body).not.toContain(cardOf(j));
      await c.press(data('nm_submit'));
      const done = await c.expectReply(like(L, 'nominate.submitted'));
      return Number(/(\d+)/.exec(done.text ?? '')![1]);
    }
    if (hasButton(m, 'nm_idok')) await c.press(data('nm_idok'));
    else if (hasButton(m, 'nm_form'))
      await c.press((b) => (b.callbackData ?? '').startsWith(`nm_form|${j.form}|`));
    else if (hasButton(m, 'nm_scdone')) await c.press(data('nm_scdone'));
    else if (hasButton(m, 'nm_v')) await c.press(data('nm_v'));
    else {
      const answer = text.find(([key]) => like(L, key).test(body));
      if (!answer) throw new Error(`journey ${j.category}/${j.form}/${L}: unexpected message\n${body}`);
      await c.send(answer[1]);
    }
  }
  throw new Error('the dialog did not reach the summary');
}

/** A reviewer opens the nomination's card (from the queue of its category) and approves it. */
async function approve(reviewer: Person, id: number, category: string) {
  await reviewer.send(`/queue campaign=${DEMO_CAMPAIGN_CODE} category=${category}`);
  await reviewer.expectReply(/待审核申报共/);
  await reviewer.press(new RegExp(`^#${id} `));
  await reviewer.expectReply(new RegExp(`申报 #${id}（第`));
  await reviewer.press(data('rv_ok'));
  await reviewer.expectEdit(new RegExp(`#${id} 已`));
}

/** R1 returns the nomination with a comment; the contact fixes the phone and submits again. */
async function returnAndFix(r1: Person, j: Journey, id: number) {
  await r1.send(`/queue campaign=${DEMO_CAMPAIGN_CODE} category=${j.category}`);
  await r1.expectReply(/待审核申报共/);
  await r1.press(new RegExp(`^#${id} `));
  await r1.expectReply(new RegExp(`申报 #${id}（第`));
  await r1.press(data('rv_ret'));
  await r1.expectReply(/需要修改的内容/);
  await r1.send('手机号码有误，请核对后改为本人号码');
  await r1.expectReply(new RegExp(`#${id} 已退回修改`));
  expect((await h.app.db.nomination.findUniqueOrThrow({ where: { id } })).status).toBe('returned');

  const c = user(j.contact, j.locale, `联系人${j.seq}`);
  await c.expectReply((m) => hasButton(m, 'rv_fix'));
  await c.press(data('rv_fix'));
  await c.expectReply((m) => hasButton(m, 'nm_submit') && (m.text ?? '').includes('手机号码有误'));
  await c.press((b) => (b.callbackData ?? '').startsWith('nm_edit|phone|'));
  await c.expectReply(like(j.locale, 'nominate.ask_phone'));
  await c.send('13911112222');
  await c.expectReply((m) => hasButton(m, 'nm_submit'));
  await c.press(data('nm_submit'));
  await c.expectReply(like(j.locale, 'nominate.submitted'));
  const n = await h.app.db.nomination.findUniqueOrThrow({ where: { id } });
  expect(n).toMatchObject({ status: 'submitted', revision: 2, benefitForm: j.form });
  expect(h.app.cipher.decrypt(n.phoneEnc!)).toBe('13911112222');
}

describe('the whole journey, per category and benefit form, in zh-CN and en', () => {
  it('nominates through the dialog: every submitted nomination carries what its form needs', async () => {
    const ids = await Promise.all(JOURNEYS.map((j) => nominate(j)));
    for (const [i, j] of JOURNEYS.entries()) nominationOf.set(j, ids[i]!);
    for (const j of JOURNEYS) {
      const n = await h.app.db.nomination.findUniqueOrThrow({
        where: { id: nominationOf.get(j)! },
        include: { category: true },
      });
      expect(n.status).toBe('submitted');
      expect(n.category?.code).toBe(j.category);
      expect(n.benefitForm).toBe(j.form);
      expect(n.amountFen).toBe(n.category!.standardAmountFen);
      // The birth date is never stored in clear: it is part of the encrypted ID number.
      expect(n.birthDate).toBeNull();
      if (j.form === 'transfer') {
        expect(n.bankName).toBe('中国农业银行富民县支行');
        expect(n.bankCardEnc).not.toBeNull();
        expect(h.app.cipher.decrypt(n.bankCardEnc!)).toBe(cardOf(j));
      } else expect(n.bankCardEnc).toBeNull();
      if (j.form === 'unit_condolence') expect(n.employer).toBe(`县人民医院急诊科${j.seq}`);
    }
  }, 600_000);

  it('reviewers approve: four eyes above 1,000 yuan and for flagged ones; a returned one is fixed first', async () => {
    const r1 = user(R1, 'zh-CN', '钱审核');
    const r2 = user(R2, 'zh-CN', '孙审核');
    for (const j of JOURNEYS) {
      const id = nominationOf.get(j)!;
      if (j.via === 'returned') await returnAndFix(r1, j, id);
      await approve(r1, id, j.category);
      const n = await h.app.db.nomination.findUniqueOrThrow({ where: { id } });
      const second = (n.amountFen ?? 0) > 100_000 || n.flags.length > 0;
      expect(n.status).toBe(second ? 'pending_second_approval' : 'approved');
      if (second) {
        await approve(r2, id, j.category);
        expect((await h.app.db.nomination.findUniqueOrThrow({ where: { id } })).status).toBe('approved');
      }
    }
    const decisions = await h.app.db.reviewDecision.count({
      where: { nominationId: { in: [...nominationOf.values()] } },
    });
    expect(decisions).toBeGreaterThanOrEqual(JOURNEYS.length);
  }, 600_000);

  it('recipients bind with their link before anything is paid (a unit has no personal link)', async () => {
    for (const j of JOURNEYS) {
      const id = nominationOf.get(j)!;
      const c = user(j.contact, j.locale, `联系人${j.seq}`);
      await c.send(`/recipient_link ${id}`);
      if (j.form === 'unit_condolence') {
        // A department's condolence is handed to the unit: nobody proves an ID number for it.
        await c.expectReply(like(j.locale, 'payments.errors.recipient_link_no_id'));
        continue;
      }
      const m = await c.expectReply(/start=rcp_/);
      const payload = /start=(rcp_[A-Za-z0-9_-]+)/.exec(m.text ?? '')![1]!;
      const r = user(j.recipient, j.locale, nameOf(j));
      await r.command('/start', payload);
      await r.expectReply(like(j.locale, 'recipients.ask_id6'));
      await r.send(idOf(j).slice(-6));
      await r.expectReply(like(j.locale, 'recipients.bound'));
      const n = await h.app.db.nomination.findUniqueOrThrow({ where: { id }, include: { recipient: true } });
      expect(n.recipient?.telegramId).toBe(BigInt(j.recipient));
    }
  }, 600_000);

  it('finance pays the transfers in one batch and records the handovers; recipients confirm receipt', async () => {
    const fin = user(FIN, 'zh-CN', '赵会计');
    const transfers = JOURNEYS.filter((j) => j.form === 'transfer');
    await fin.send(`/batch_new ${DEMO_CAMPAIGN_CODE}`);
    await fin.expectReply(new RegExp(`已生成打款批次 .*共 ${transfers.length} 人`));
    const batch = await h.app.db.paymentBatch.findFirstOrThrow({
      orderBy: { id: 'desc' },
      include: { payments: true },
    });
    expect(batch.payments.map((p) => p.nominationId).sort()).toEqual(
      transfers.map((j) => nominationOf.get(j)!).sort(),
    );
    await fin.send(`/batch_export ${batch.id}`);
    const doc = await fin.expectDocument(/银行清单/);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load((await fin.download(doc)) as unknown as ArrayBuffer);
    const cards = wb.worksheets[0]!.getColumn(3).values.map(String);
    for (const j of transfers) expect(cards).toContain(cardOf(j));
    await fin.send(`/batch_paid ${batch.id}`);
    await fin.expectReply(/已登记为打款成功/);

    for (const j of JOURNEYS.filter((x) => x.form !== 'transfer')) {
      await fin.send(`/handover ${nominationOf.get(j)} 2026-12-01 县总工会王干事`);
      await fin.expectReply(new RegExp(`${nominationOf.get(j)}`));
    }

    for (const j of JOURNEYS) {
      const id = nominationOf.get(j)!;
      if (j.form === 'unit_condolence') {
        expect((await h.app.db.nomination.findUniqueOrThrow({ where: { id } })).status).toBe('handed_over');
        continue;
      }
      const r = user(j.recipient, j.locale, nameOf(j));
      const notice = j.form === 'transfer' ? 'recipients.notice_paid' : 'recipients.notice_handover';
      const letter = await waitFor(`notice and letter for ${id}`, async () => {
        const texts = (await r.messages()).map((m) => m.text ?? '');
        return (
          texts.some((x) => like(j.locale, notice).test(x)) &&
          texts.find((x) => x.includes(nameOf(j)) && !like(j.locale, notice).test(x))
        );
      });
      expect(letter).toBeTruthy();
      await r.press(data('rc_yes'));
      await r.expectReply(like(j.locale, 'recipients.thanks_received'));
      const n = await h.app.db.nomination.findUniqueOrThrow({ where: { id } });
      expect(n.status).toBe(j.form === 'transfer' ? 'paid' : 'handed_over');
      expect(
        await h.app.db.auditLog.count({ where: { action: 'receipt.received', entityId: String(id) } }),
      ).toBe(1);
    }
  }, 600_000);

  it('entries are marked in the provincial system and /report counts every one', async () => {
    const admin = user(ADMIN, 'zh-CN', '王主任');
    const ids = [...nominationOf.values()];
    await admin.send(`/entry_mark ${DEMO_CAMPAIGN_CODE} ${ids.join(' ')}`);
    await admin.expectReply(new RegExp(`已标记 ${ids.length} 条`));
    expect(
      await h.app.db.nomination.count({ where: { id: { in: ids }, enteredProvincialAt: { not: null } } }),
    ).toBe(ids.length);
    await admin.send(`/report ${DEMO_CAMPAIGN_CODE}`);
    const summary = await admin.expectReply(/📊/);
    const { campaignFigures } = await import('../../src/usecases/report/figures.ts');
    const figures = await campaignFigures(h.app.db, campaignId, new Date());
    expect(figures.totals.recipients).toBe(JOURNEYS.length);
    for (const code of new Set(JOURNEYS.map((j) => j.category))) {
      const k = figures.categories.find((c) => c.code === code)!;
      const expected = JOURNEYS.filter((j) => j.category === code).length;
      expect(k.recipients).toBe(expected);
      // The category's line in the chat summary carries its count.
      expect(summary.text).toContain(`· ${k.nameZh}：${expected} `);
    }
    for (const form of ['transfer', 'in_kind', 'unit_condolence'] as const)
      expect(figures.forms.find((f) => f.form === form)?.recipients).toBe(
        JOURNEYS.filter((j) => j.form === form).length,
      );
    expect(figures.forms.find((f) => f.form === 'unknown')?.recipients ?? 0).toBe(0);
  }, 300_000);
});
