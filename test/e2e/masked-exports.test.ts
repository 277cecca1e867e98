import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STEPS } from '../../src/domain/nomination/form.ts';
import { submitNomination } from '../../src/usecases/nominations/submit-nomination.ts';
import type { Person } from '../support/conversation.ts';
import { makeCard, makeId, seedCampaign, seedContact } from '../support/fixtures.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { docxText, maskedIdsIn, rebuiltIds, xlsxText } from '../support/rebuild.ts';

// Finding 1 (issue 12): a masked ID number hides exactly the birth date, so a full date next to it
// rebuilds the number. The attack: every role takes every export it may take (and reads every chat
// message it got); the audit log is read whole together with the nominations' birth dates. Any masked
// ID plus a date that completes it to a real person's number fails the test.

const ADMIN = 9801;
const REVIEWER = 9802;
const FINANCE = 9803;
const CONTACT = 9804;
let h: Harness;
const real = new Set<string>();
let code: string;

const user = (id: number) => h.emu.user(id, { firstName: '测试', languageCode: 'zh-hans' });

beforeAll(async () => {
  h = await startHarness({ admins: [ADMIN] });
  const db = h.app.db;
  const c = h.app.cipher;
  const campaign = await seedCampaign(db, {
    code: 'mask-scan',
    categories: [
      { code: 'needy', kind: 'needy_worker', nameZh: '困难职工', amountYuan: 1000 },
      { code: 'front', kind: 'frontline_worker', nameZh: '一线职工', amountYuan: 300, forms: ['in_kind'] },
    ],
  });
  code = campaign.code;
  const [needy, front] = campaign.categories;
  const contact = await seedContact(db, CONTACT, '脱敏测试工会');
  for (const [tg, role] of [
    [REVIEWER, 'reviewer'],
    [FINANCE, 'finance'],
  ] as const) {
    const p = await db.person.create({ data: { telegramId: BigInt(tg), displayName: role } });
    await db.roleGrant.create({ data: { personId: p.id, role, scope: '' } });
  }
  const births = ['1980-01-15', '1975-06-30', '1990-12-01', '1968-03-08', '1985-09-21'];
  const statuses = ['submitted', 'approved', 'paid', 'approved', 'draft'] as const;
  for (let i = 0; i < births.length; i++) {
    const birth = births[i]!;
    const id = makeId(birth.replaceAll('-', ''), 120 + i);
    real.add(id);
    const card = makeCard(`62284800123456${String(i).padStart(4, '0')}`);
    const draft = statuses[i] === 'draft';
    const n = await db.nomination.create({
      data: {
        campaignId: campaign.id,
        categoryId: (draft ? front : needy)!.id,
        unionId: contact.union.id,
        submittedById: contact.person.id,
        status: statuses[i]!,
        revision: draft ? 0 : 1,
        fullName: `受助人${i}`,
        idNumberEnc: c.encrypt(id),
        idNumberHash: c.hash('id', id),
        birthDate: new Date(`${birth}T00:00:00Z`),
        sex: 'male',
        phoneEnc: c.encrypt(`1390000${String(i).padStart(4, '0')}`),
        employer: '县环卫所',
        benefitForm: draft ? 'in_kind' : 'transfer',
        ...(draft
          ? {}
          : { bankName: '农业银行', bankCardEnc: c.encrypt(card), bankCardLast4: card.slice(-4) }),
        amountFen: draft ? 30_000 : 100_000,
        draftAnswered: [...STEPS],
        submittedAt: draft ? null : new Date(),
      },
    });
    if (statuses[i] === 'submitted') {
      // A resubmission whose ID number (and so birth date) changed: the review card shows a diff.
      const before = makeId('19790715', 121);
      real.add(before);
      await db.nomination.update({ where: { id: n.id }, data: { revision: 2 } });
      for (const [rev, enc, b] of [
        [1, c.encrypt(before), '1979-07-15'],
        [2, n.idNumberEnc!, birth],
      ] as const)
        await db.nominationRevision.create({
          data: {
            nominationId: n.id,
            revision: rev,
            createdById: contact.person.id,
            snapshot: { categoryId: needy!.id, fullName: n.fullName, idNumberEnc: enc, birthDate: b },
          },
        });
    }
    if (draft)
      await submitNomination(
        { db, cipher: c, now: () => new Date() },
        { personId: contact.person.id, nominationId: n.id },
      );
  }
}, 60_000);
afterAll(async () => {
  await h?.stop();
});

/** Every document and message `p` received, as text. */
async function everything(p: Person): Promise<string[]> {
  const out: string[] = [];
  for (const m of await p.messages()) {
    out.push([m.text, m.caption].filter(Boolean).join('\n'));
    const name = m.document?.file_name ?? '';
    if (name.endsWith('.xlsx')) out.push(await xlsxText(await p.download(m)));
    if (name.endsWith('.docx')) out.push(docxText(await p.download(m)));
  }
  return out;
}

describe('no masked ID number can be completed from what anyone is shown or what is logged', () => {
  it('every export of every role, every chat message, and the audit log', async () => {
    const admin = user(ADMIN);
    const reviewer = user(REVIEWER);
    const finance = user(FINANCE);
    const contact = user(CONTACT);

    await finance.send(`/batch_new ${code}`);
    const batch = await finance.expectReply(/已生成打款批次/);
    const batchId = (await h.app.db.paymentBatch.findFirstOrThrow({ orderBy: { id: 'desc' } })).id;
    expect(batch.text).toBeTruthy();
    const approved = await h.app.db.nomination.findFirstOrThrow({
      where: { status: { in: ['approved', 'in_batch'] } },
    });

    for (const p of [admin, finance]) {
      await p.send(`/export ${code}`);
      await p.expectDocument(/台账/);
      await p.send(`/entry_list ${code}`);
      await p.expectReply(/录入|没有/);
      await p.send(`/batch_export ${batchId}`);
      await p.expectDocument();
      await p.send(`/report ${code}`);
      await p.expectDocument(/\.docx/);
      await p.send(`/recipient_link ${approved.id}`);
      await p.expectReply(/start=rcp_/);
    }
    await reviewer.send(`/export ${code}`);
    const masked = await reviewer.expectDocument(/台账/);
    expect(masked.caption).toContain('已脱敏');
    await reviewer.send(`/batch_export ${batchId}`);
    await reviewer.expectDocument();
    await reviewer.send('/review');
    const card = await reviewer.expectReply(/修改|身份证/);
    expect(maskedIdsIn(card.text ?? '').length).toBeGreaterThan(0);
    await reviewer.send('/queue');
    await reviewer.expectReply();
    await contact.send('/my');
    await contact.expectReply(/我的申报/);

    // The masked ledger still shows something of the birth: the year.
    const maskedText = await xlsxText(await reviewer.download(masked));
    expect(maskedIdsIn(maskedText).length).toBe(5);
    expect(maskedText).toContain('1980');
    expect(maskedText).not.toContain('1980-01-15');

    for (const [who, p] of [
      ['admin', admin],
      ['finance', finance],
      ['reviewer', reviewer],
      ['contact', contact],
    ] as const) {
      for (const text of await everything(p))
        expect(rebuiltIds(text, real), `${who}: ${text.slice(0, 300)}`).toEqual([]);
    }

    // The audit log, read with the nomination rows (which carry the birth date): no masked ID at all.
    const audit = JSON.stringify(await h.app.db.auditLog.findMany(), (_k, v) =>
      typeof v === 'bigint' ? String(v) : v,
    );
    expect(maskedIdsIn(audit)).toEqual([]);
    const births = (await h.app.db.nomination.findMany({ select: { birthDate: true } }))
      .map((n) => n.birthDate?.toISOString().slice(0, 10))
      .join(' ');
    expect(rebuiltIds(`${audit}\n${births}`, real)).toEqual([]);
    expect(await h.app.db.auditLog.count({ where: { action: 'nomination.submit' } })).toBe(1);
  }, 120_000);
});
