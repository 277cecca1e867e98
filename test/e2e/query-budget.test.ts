import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UpdateQueries } from '../../src/adapters/telegram/bot.ts';
import type { PrismaClient } from '../../src/generated/prisma/client.ts';
import { makeId, seedCampaign, seedContact } from '../support/fixtures.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { completeNomination } from '../support/nomination-driver.ts';
import { grantStaff, seedSubmitted } from '../support/review-fixtures.ts';

// The per-update query budget (README "Query budgets"): every SQL statement an update sends is counted
// (the pg adapter's statement hook, scoped to the update by bot.ts; query-scope.ts), through the real
// bot, PostgreSQL, Redis and the emulator over HTTP. Emulator limits on (the default). Statements of
// the worker (the contact's notice being sent) are outside the update's scope and not counted.
//
// Budgets, statement by statement (set 2026-12-01, lowered the same day by the read cache: campaigns,
// categories and the dialog's union and categories are kept per bot process and checked by the cache
// version that touchPerson reads in its own statement; README "Caches and invalidation"). A change
// that adds a statement to every press or answer fails here.
//
// A review press (✅ Approve on a card) = 3 (was 11, then 10, then 4):
//   1  the person with their active role grants aggregated in, and the cache version (touchPerson)
//   1  the nomination, the first approval of its revision and the reviewer's grant, in one SELECT; the
//      campaign (open? four eyes?) comes from the cache
//   1  the decision: guarded UPDATE, INSERT review_decision, INSERT audit_log and the contact's notice
//      (INSERT … ON CONFLICT DO NOTHING) in one statement (was a transaction of 7: BEGIN, grant,
//      nomination, UPDATE, INSERT, INSERT, COMMIT; the notice was a statement of its own until
//      2026-12-02: -1)
//   (the card's campaign for its "next" button comes with the decision: the extra read is gone)
const REVIEW_PRESS_BUDGET = 3;
// A "Next" press (审核下一条 ▶ on the decided card: the next card drawn in its place) = 4 (was 17):
//   1  the person with their role grants and the cache version (touchPerson)
//   1  the candidates: the oldest pending nominations the reviewer may take (then the lease of the first
//      free one, in one Redis round trip)
//   1  the card: the nomination, its union, the decisions on its revision and the one before with the
//      reviewers' names, the two revisions' snapshots when resubmitted, and whether it is still pending
//      (the re-check after the lease); campaign and category from the cache (was 8: the nomination was
//      read twice through the model API with its campaign, category and union, plus a count)
//   1  the automatic checks' facts: live nominations and union-reported recipients of the same ID, the
//      owners of the phone and card, staff phones, and the union's quota and the campaign's budget
//      used, in one statement (was 6)
const NEXT_PRESS_BUDGET = 4;
// A text answer of the dialog (name, phone, employer) = 3 (was 7, then 4), all three on the pool
// directly (direct-sql.ts; the draft's since 2026-12-02: draft-row.ts):
//   1  the person with their role grants and the cache version
//   1  the draft (its campaign and category from the cache: -2)
//   1  the guarded write of the answer (UPDATE ... WHERE version = ... RETURNING the row)
//   the next prompt is drawn from the row the write returned (query-scope.ts rememberWritten: -1), its
//   campaign, union and categories from the cache
// The first answer after a row entered the dialog (e.g. the category just chosen) may load it once
// into this process's cache: +1 for that answer only.
const TEXT_ANSWER_BUDGET = 3;
const COLD_LOADS = 1;
// The ID number answer adds the admission facts and the look-up's record = 4 (was 12, then 9, then 8):
//   1  the person, as above
//   1  the draft, with the count of this contact's ID look-ups in the last hour (audit_log) in the same
//      statement (was a statement of its own: -1)
//   1  live nominations of the same ID (admission-facts.ts)
//   1  the guarded write (its row serves the next prompt), with the look-up's INSERT audit_log in the
//      same statement (a CTE; was BEGIN, INSERT, COMMIT: -3); a refused ID's record is a statement of
//      its own, and there is no write
const ID_ANSWER_BUDGET = 4;

const ADMIN = 9601;
const REVIEWER = 9602;
const CONTACT = 9603;
let h: Harness;
const seen: UpdateQueries[] = [];
const db = () => h.app.db as unknown as PrismaClient;

beforeAll(async () => {
  h = await startHarness({ admins: [ADMIN], onUpdateQueries: (u) => seen.push(u) });
});
afterAll(async () => {
  await h?.stop();
});

const statementsOf = (from: number) => seen.slice(from);

describe('query budget per update', () => {
  it('a review press and a dialog answer stay within their statement budgets', async () => {
    const c = await seedCampaign(db(), {
      code: 'qb',
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
    const { union, person } = await seedContact(db(), CONTACT, '县环卫工会', '赵联系');
    await grantStaff(db(), REVIEWER, 'reviewer', '钱审核');
    const reviewer = h.emu.user(REVIEWER, { firstName: '钱审核', languageCode: 'zh-hans' });
    const contact = h.emu.user(CONTACT, { firstName: '赵联系', languageCode: 'zh-hans' });

    // Dialog: a full nomination; every text answer is one update.
    await contact.send('/start');
    await contact.expectReply();
    const from = seen.length;
    await completeNomination(contact, {
      category: /一线职工/,
      name: '周一线',
      idNumber: makeId('19800101', 7),
      phone: '13812345670',
      employer: '县环卫所',
      description: '春节期间坚持清扫。',
    });
    const answers = statementsOf(from).filter((u) => u.updateType === 'message');

    // Review: open the card, then press Approve.
    const n = await seedSubmitted(db(), h.app.cipher, {
      campaignId: c.id,
      categoryId: c.categories[0]!.id,
      unionId: union.id,
      submittedById: person.id,
      amountFen: 15_000,
      submittedAt: new Date(),
      name: '吴一线',
      phone: '13812345671',
    });
    await reviewer.send('/start');
    await reviewer.expectReply();
    await reviewer.send(`/queue campaign=qb`);
    await reviewer.expectReply(/待审核申报共/);
    await reviewer.press(new RegExp(`^#${n.id} `));
    await reviewer.expectReply(new RegExp(`申报 #${n.id}（第`));
    const before = seen.length;
    await reviewer.press('✅ 通过');
    await reviewer.expectEdit(new RegExp(`申报 #${n.id} 已审核通过`));
    // The approve press is the callback update that wrote the decision (the card's own press may
    // report after its reply arrived).
    const decided = (u: UpdateQueries) =>
      u.updateType === 'callback_query' && u.statements.some((q) => /INSERT INTO review_decision/.test(q));
    await waitUntil(() => statementsOf(before).some(decided));
    const press = statementsOf(before).find(decided)!;

    // Next: the card of the next nomination drawn in place of the decided one (the dialog's, waiting).
    const beforeNext = seen.length;
    await reviewer.press('审核下一条 ▶');
    await reviewer.expectEdit(/申报 #\d+（第/);
    const drewCard = (u: UpdateQueries) =>
      u.updateType === 'callback_query' &&
      u.statements.some((q) => /FROM nomination n JOIN grassroots_union u/.test(q));
    await waitUntil(() => statementsOf(beforeNext).some(drewCard));
    const next = statementsOf(beforeNext).find(drewCard)!;

    // Text answers: the updates whose guarded write sets a plain text field.
    const textAnswers = answers.filter((u) =>
      u.statements.some((q) =>
        /^\s*UPDATE nomination n SET "(full_name|phone_enc|employer|description)"/.test(q),
      ),
    );
    const idAnswer = answers.find((u) =>
      u.statements.some((q) =>
        /^\s*WITH recorded AS \(INSERT INTO audit_log[\s\S]*\)\s*UPDATE nomination n SET "id_number_enc"/.test(
          q,
        ),
      ),
    );
    expect(textAnswers.length).toBeGreaterThanOrEqual(3);
    expect(idAnswer).toBeDefined();
    for (const a of textAnswers)
      expect(a.statements.length).toBeLessThanOrEqual(TEXT_ANSWER_BUDGET + COLD_LOADS);
    // Most text answers find everything cached: the steady-state budget holds for them.
    const warm = textAnswers.filter((a) => a.statements.length <= TEXT_ANSWER_BUDGET);
    expect(warm.length).toBeGreaterThanOrEqual(textAnswers.length - 1);
    expect(idAnswer!.statements.length).toBeLessThanOrEqual(ID_ANSWER_BUDGET);
    expect(press.statements.length).toBeLessThanOrEqual(REVIEW_PRESS_BUDGET);
    expect(next.statements.length).toBeLessThanOrEqual(NEXT_PRESS_BUDGET + COLD_LOADS);
  });
});

async function waitUntil(fn: () => boolean, ms = 10_000) {
  const until = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
