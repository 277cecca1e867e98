import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantRole } from '../../src/usecases/people.ts';
import { startHarness, type Harness } from '../support/harness.ts';

// Loading campaign files by sending them to the bot, and /campaigns, through the real bot and emulator.

const ADMIN = 5001;
const exampleText = readFileSync(
  new URL('../../campaigns/example-2024-spring.yaml', import.meta.url),
  'utf8',
);
let h: Harness;

beforeAll(async () => {
  h = await startHarness({ admins: [ADMIN] });
});
afterAll(async () => {
  await h?.stop();
});

const admin = () => h.emu.user(ADMIN, { firstName: '王主任', languageCode: 'zh-hans' });

describe('campaign files sent to the bot', () => {
  it('an admin sends the example file: created; the same file again: unchanged', async () => {
    const a = admin();
    await a.upload({ fileName: 'example-2024-spring.yaml', bytes: exampleText });
    const msg = await a.expectReply(/已导入新活动/);
    expect(msg.text).toContain('fumin-2024-spring');
    expect(msg.text).toContain('5 个慰问类别');
    const row = await h.app.db.campaign.findUniqueOrThrow({ where: { code: 'fumin-2024-spring' } });
    expect(row.budgetTotalFen).toBe(15_000_000n);
    const person = await h.app.db.person.findUniqueOrThrow({ where: { telegramId: BigInt(ADMIN) } });
    const audit = await h.app.db.auditLog.findFirstOrThrow({ where: { action: 'campaign.load' } });
    expect(audit.actorId).toBe(person.id);

    await a.upload({ fileName: 'example-2024-spring.yaml', bytes: exampleText });
    await a.expectReply(/配置与已导入的内容相同，未作改动/);
  });

  it('a changed file: updated, with the changes listed', async () => {
    const a = admin();
    const text = exampleText.replace('standard_amount: 800', 'standard_amount: 900');
    await a.upload({ fileName: 'example-2024-spring.yml', bytes: text });
    const msg = await a.expectReply(/已更新活动/);
    expect(msg.text).toMatch(/慰问标准 \(categories\[needy_worker\]\.standard_amount\)：800\.00 → 900\.00/);
  });

  it('a broken file: every problem listed with its path and line, nothing changed', async () => {
    const a = admin();
    const before = await h.app.db.campaignCategory.count();
    const text = exampleText
      .replace('code: fumin-2024-spring', 'code: Fumin_2024')
      .replace('standard_amount: 200\n', 'standard_ammount: 200\n');
    await a.upload({ fileName: 'broken.yaml', bytes: text });
    const msg = await a.expectReply(/有 \d+ 处问题，未导入/);
    expect(msg.text).toMatch(/code（第 \d+ 行第 \d+ 列）：活动代码只能使用小写字母/);
    expect(msg.text).toMatch(/categories\[3\]\.standard_ammount（第 \d+ 行第 \d+ 列）：无法识别的配置项/);
    expect(msg.text).toMatch(/categories\[3\]\.standard_amount（第 \d+ 行第 \d+ 列）：缺少此项/);
    expect(await h.app.db.campaign.count()).toBe(1);
    expect(await h.app.db.campaignCategory.count()).toBe(before);

    await a.upload({ fileName: 'syntax.yaml', bytes: 'code: [unclosed\ntitle: x\n' });
    await a.expectReply(/YAML 格式错误/);
  });

  it('a contact sending a YAML file is refused; other documents are left to other handlers', async () => {
    const contact = h.emu.user(6001, { firstName: '张联系', languageCode: 'zh-hans' });
    await contact.send('/start');
    await contact.expectReply(/您好/);
    const federation = await h.app.db.federation.findFirstOrThrow();
    const union = await h.app.db.union.create({
      data: { federationId: federation.id, name: '县人民医院工会' },
    });
    await grantRole(h.app.db, { actorId: null, telegramId: 6001n, role: 'contact', unionId: union.id });

    const updatedAt = (await h.app.db.campaign.findFirstOrThrow()).updatedAt;
    await contact.upload({
      fileName: 'evil.yaml',
      bytes: exampleText.replace('standard_amount: 900', 'standard_amount: 5000'),
    });
    await contact.expectReply(/没有办理此项业务的权限/);
    expect((await h.app.db.campaign.findFirstOrThrow()).updatedAt).toEqual(updatedAt);

    const a = admin();
    await a.upload({ fileName: 'names.csv', bytes: '姓名,身份证号\n', mimeType: 'text/csv' });
    const reply = await a.expectReply();
    expect(reply.text).not.toMatch(/活动|YAML/);
  });

  it('a file over the size limit is refused with a clear message', async () => {
    const a = admin();
    await a.upload({ fileName: 'huge.yaml', bytes: `# ${'x'.repeat(300 * 1024)}\n${exampleText}` });
    await a.expectReply(/文件过大.*不能超过 256 KB/);
  });
});

describe('/campaigns', () => {
  it('staff see each campaign with state, dates, budget, categories and nomination counts', async () => {
    const campaign = await h.app.db.campaign.findFirstOrThrow({ include: { categories: true } });
    const union = await h.app.db.union.findFirstOrThrow();
    const person = await h.app.db.person.findUniqueOrThrow({ where: { telegramId: 6001n } });
    for (const status of ['submitted', 'submitted', 'approved'] as const) {
      await h.app.db.nomination.create({
        data: {
          campaignId: campaign.id,
          categoryId: campaign.categories[0]!.id,
          unionId: union.id,
          submittedById: person.id,
          status,
          // Past the draft, a nomination carries what its benefit form needs (nomination_payable_check).
          benefitForm: 'unit_condolence',
          employer: '县医院',
          amountFen: campaign.categories[0]!.standardAmountFen,
        },
      });
    }
    const a = admin();
    await a.send('/campaigns');
    const msg = await a.expectReply(/送温暖活动（共 1 个）/);
    expect(msg.text).toContain('富民县总工会2024年元旦春节送温暖活动（示例）');
    expect(msg.text).toContain('审核已截止，发放阶段');
    expect(msg.text).toContain('申报时间：2024-01-02 09:00 至 2024-01-19 18:00');
    expect(msg.text).toContain('预算：150000.00 元（其中拨付基层工会 50000.00 元）');
    expect(msg.text).toContain('困难职工：慰问标准 900.00 元，实名制打款');
    expect(msg.text).toContain('申报：共 3 件（待审核 2、已通过 1）');

    await grantRole(h.app.db, { actorId: null, telegramId: 7001n, role: 'reviewer' });
    const reviewer = h.emu.user(7001, { firstName: 'Li', languageCode: 'en' });
    await reviewer.send('/campaigns');
    const en = await reviewer.expectReply(/Send Warmth campaigns \(1\)/);
    expect(en.text).toContain('Needy workers: standard amount ¥900.00, Real-name bank transfer');

    const contact = h.emu.user(6001, { firstName: '张联系', languageCode: 'zh-hans' });
    await contact.send('/campaigns');
    await contact.expectReply(/没有办理此项业务的权限/);
  });
});
