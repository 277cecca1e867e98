import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCampaign } from '../../src/usecases/campaigns.ts';
import { makeId, seedContact } from '../support/fixtures.ts';
import { startHarness, type Harness } from '../support/harness.ts';

// Issue 15, item 3, in the chat: a union contact reports how the union's allocation was spent (the
// signed list's scan, then the spreadsheet); a person the federation already paid is caught; staff see
// allocated vs reported vs returned and record a return.

const ADMIN = 9901;
const CONTACT = 9902;
let h: Harness;
let unionId: number;
const paidByFederation = makeId('19660606', 11);

const FILE = `
code: alloc-e2e
title: { zh: 2027年春节送温暖, en: Spring Festival 2027 }
organiser: 测试县总工会
budget:
  total: 100000
  allocated_to_unions: 30000
  allocations:
    - { union: 城关镇总工会, amount: 20000 }
categories:
  - code: needy_worker
    name: { zh: 困难职工, en: Needy workers }
    kind: needy_worker
    standard_amount: 1000
    benefit_forms: [transfer]
timeline:
  nomination_opens: 2026-11-02 09:00
  nomination_closes: 2026-11-20 18:00
  review_deadline: 2026-11-25 18:00
  target_payment_date: 2026-11-30
`;

beforeAll(async () => {
  h = await startHarness({ admins: [ADMIN] });
  const c = await seedContact(h.app.db, CONTACT, '城关镇总工会', '陈联系人');
  unionId = c.union.id;
  const r = await loadCampaign(h.app.db, { text: FILE, actorId: null, sourceName: 'alloc.yaml' });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  // The federation's own recipient, paid directly.
  const cat = await h.app.db.campaignCategory.findFirstOrThrow({ where: { campaignId: r.campaign.id } });
  await h.app.db.nomination.create({
    data: {
      campaignId: r.campaign.id,
      categoryId: cat.id,
      unionId,
      submittedById: c.person.id,
      status: 'paid',
      fullName: '刘大爷',
      idNumberEnc: h.app.cipher.encrypt(paidByFederation),
      idNumberHash: h.app.cipher.hash('id', paidByFederation),
      benefitForm: 'transfer',
      bankName: '农业银行',
      bankCardEnc: h.app.cipher.encrypt('6228480012345678907'),
      amountFen: 100_000,
    },
  });
});
afterAll(async () => {
  await h?.stop();
});

const user = (id: number) => h.emu.user(id, { firstName: '测试', languageCode: 'zh-hans' });
const csv = (rows: string[]) => `姓名,身份证号码,金额,慰问物品,发放日期\n${rows.join('\n')}\n`;

describe('allocation reports in the chat', () => {
  it('scan, then the list; a person already paid by the federation is caught; staff reconcile', async () => {
    const c = user(CONTACT);
    await c.send('/allocation_report alloc-e2e');
    await c.expectReply(/城关镇总工会 在活动 alloc-e2e 中获拨慰问资金 20000\.00 元/);
    await c.upload({ fileName: 'list.csv', bytes: csv([]) });
    await c.expectReply(/请先发送签收名单的照片或扫描件/);
    await c.upload({
      fileName: '签收单.jpg',
      bytes: Buffer.from('\xff\xd8\xff fake scan'),
      mimeType: 'image/jpeg',
    });
    await c.expectReply(/已收到签收名单/);
    const sun = makeId('19580303', 21);
    await c.upload({
      fileName: '慰问明细.csv',
      bytes: csv([`孙阿姨,${sun},5000,米、油,2026-11-28`, `刘大爷,${paidByFederation},5000,,2026-11-28`]),
    });
    await c.expectReply(/第 3 行：此人已由总工会直接慰问/);
    expect(await h.app.db.allocationRecipient.count()).toBe(0);
    await c.upload({
      fileName: '慰问明细.csv',
      bytes: csv([
        `孙阿姨,${sun},5000,米、油,2026-11-28`,
        `吴奶奶,${makeId('19500505', 31)},12000,,2026-11-29`,
      ]),
    });
    await c.expectReply(/已登记资金使用情况：慰问 2 人，共 17000\.00 元（拨付 20000\.00 元）/);

    const a = user(ADMIN);
    await a.send(`/allocation_return alloc-e2e ${unionId} 3000`);
    await a.expectReply(/已登记退回金额 3000\.00 元/);
    await a.send('/allocations alloc-e2e');
    await a.expectReply(
      /城关镇总工会（#\d+）：拨付 20000\.00 元，报告使用 17000\.00 元（2 人），退回 3000\.00 元，未说明 0\.00 元/,
    );
  });
});
