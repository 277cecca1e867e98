import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { FieldCipher } from '../../src/adapters/crypto/field-cipher.ts';
import {
  answerText,
  chooseCategory,
  ID_LOOKUPS_PER_HOUR,
} from '../../src/usecases/nominations/answer-nomination.ts';
import { startDraft } from '../../src/usecases/nominations/drafts.ts';
import type { NominationDeps } from '../../src/usecases/nominations/shared.ts';
import { useTestDatabase } from '../support/test-db.ts';
import { makeId, seedCampaign, seedContact } from '../support/fixtures.ts';

// Security finding 8, written as the attack: a contact types ID numbers one after another to learn
// who is nominated where. Each look-up is audited without personal data, the answer names another
// union's nomination only as "already nominated by another union", and the look-ups stop after
// ID_LOOKUPS_PER_HOUR an hour.

const { db } = useTestDatabase();
let deps: NominationDeps;

beforeAll(async () => {
  deps = { db, cipher: new FieldCipher([{ version: 1, key: randomBytes(32) }]), now: () => new Date() };
});

describe('ID number look-ups in the dialog', () => {
  it('are audited, tell only what the contact needs, and stop after the hourly limit', async () => {
    const c = await seedCampaign(db, {
      categories: [
        { code: 'front', kind: 'frontline_worker', nameZh: '一线职工', amountYuan: 150, forms: ['in_kind'] },
      ],
    });
    const cat = c.categories[0]!;
    const prober = await seedContact(db, 81_001, '探测工会', '探测者');
    const other = await seedContact(db, 81_002, '县供电局工会', '另一联系人');
    // Another union already nominated this person.
    const known = makeId('19800101', 900);
    await db.nomination.create({
      data: {
        campaignId: c.id,
        categoryId: cat.id,
        unionId: other.union.id,
        submittedById: other.person.id,
        status: 'approved',
        benefitForm: 'in_kind',
        amountFen: cat.standardAmountFen,
        idNumberEnc: deps.cipher.encrypt(known),
        idNumberHash: deps.cipher.hash('id', known),
        dedupKey: `${c.id}:${deps.cipher.hash('id', known)}`,
      },
    });
    const { id } = await startDraft(deps, {
      personId: prober.person.id,
      unionId: prober.union.id,
      campaignId: c.id,
    });
    const ids = { personId: prober.person.id, nominationId: id };
    await chooseCategory(deps, { ...ids, categoryId: cat.id });

    const told = await answerText(deps, { ...ids, step: 'id_number', text: known });
    expect(told.kind).toBe('invalid');
    const text = JSON.stringify(told);
    expect(text).toContain('nomination_duplicate_other');
    expect(text).not.toContain('县供电局工会');
    expect(text).not.toContain('approved');

    for (let i = 2; i <= ID_LOOKUPS_PER_HOUR; i++) {
      const r = await answerText(deps, { ...ids, step: 'id_number', text: makeId('19800101', i) });
      expect(r.kind).toBe('next');
    }
    const over = await answerText(deps, { ...ids, step: 'id_number', text: makeId('19800101', 999) });
    expect(over).toMatchObject({ kind: 'invalid', notes: [{ key: 'nominate.lookup_limit' }] });

    const audits = await db.auditLog.findMany({
      where: { action: 'nomination.id_lookup', actorId: prober.person.id },
    });
    expect(audits).toHaveLength(ID_LOOKUPS_PER_HOUR);
    expect(audits.map((a) => (a.after as { outcome: string }).outcome)).toContain('duplicate');
    // No ID number, masked or not, and no hash in the audit rows.
    expect(JSON.stringify(audits.map((a) => [a.before, a.after]))).not.toMatch(
      /\d{6}\*{8}|\d{17}[\dX]|[0-9a-f]{32}/,
    );
    // Another contact is not affected by the prober's limit.
    const d2 = await startDraft(deps, {
      personId: other.person.id,
      unionId: other.union.id,
      campaignId: c.id,
    });
    await chooseCategory(deps, { personId: other.person.id, nominationId: d2.id, categoryId: cat.id });
    const fine = await answerText(deps, {
      personId: other.person.id,
      nominationId: d2.id,
      step: 'id_number',
      text: makeId('19800101', 998),
    });
    expect(fine.kind).toBe('next');
  }, 120_000);
});
