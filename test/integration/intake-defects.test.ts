import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FieldCipher } from '../../src/adapters/crypto/field-cipher.ts';
import { Queues } from '../../src/adapters/queue/queues.ts';
import { bankList, createBatch } from '../../src/usecases/payments/batches.ts';
import { revokeRole } from '../../src/usecases/people.ts';
import { bulkApprove, previewBulkApprove } from '../../src/usecases/review/bulk-approve.ts';
import { decideNomination } from '../../src/usecases/review/decide-nomination.ts';
import { useTestDatabase } from '../support/test-db.ts';
import { makeCard, makeId, seedCampaign, seedContact } from '../support/fixtures.ts';
import { REDIS_URL } from '../support/harness.ts';
import { grantStaff, seedSubmitted } from '../support/review-fixtures.ts';

// The defects found on the intake path (issue 10): a reviewer's masked look at a batch must not change
// it; nobody decides on a nomination they submitted (a contact who is also a reviewer); a contact can
// be revoked, and their unfinished drafts go with them.

const { db } = useTestDatabase();
let queues: Queues;
const cipher = new FieldCipher([{ version: 1, key: randomBytes(32) }]);
const now = () => new Date();

beforeAll(async () => {
  queues = new Queues(REDIS_URL, `test-${randomBytes(4).toString('hex')}`);
});
afterAll(async () => {
  await queues?.close();
});

describe('defects on the intake path', () => {
  it("a reviewer's masked bank list leaves the batch open; finance's full list exports it", async () => {
    const c = await seedCampaign(db, {
      code: 'dfx-batch',
      categories: [{ code: 'needy', kind: 'needy_worker', nameZh: '困难职工', amountYuan: 800 }],
    });
    const { union, person } = await seedContact(db, 82_001, '批次测试工会');
    const id = makeId('19800101', 801);
    await db.nomination.create({
      data: {
        campaignId: c.id,
        categoryId: c.categories[0]!.id,
        unionId: union.id,
        submittedById: person.id,
        status: 'approved',
        benefitForm: 'transfer',
        amountFen: 80_000,
        bankName: '农业银行',
        bankCardEnc: cipher.encrypt(makeCard()),
        bankCardLast4: makeCard().slice(-4),
        idNumberEnc: cipher.encrypt(id),
        idNumberHash: cipher.hash('id', id),
      },
    });
    const deps = { db, cipher, queues, now };
    const batch = await createBatch(deps, { campaignCode: 'dfx-batch', actorId: person.id });
    const masked = await bankList(deps, { batchId: batch.batchId, actorId: person.id, fullNumbers: false });
    expect(masked.status).toBe('open');
    expect((await db.paymentBatch.findUniqueOrThrow({ where: { id: batch.batchId } })).status).toBe('open');
    const full = await bankList(deps, { batchId: batch.batchId, actorId: person.id, fullNumbers: true });
    expect(full.status).toBe('exported');
    const actions = (
      await db.auditLog.findMany({ where: { entity: 'payment_batch', entityId: String(batch.batchId) } })
    ).map((a) => a.action);
    expect(actions).toEqual(expect.arrayContaining(['batch.viewed_masked', 'batch.exported']));
  });

  it('a contact who is also a reviewer cannot decide on, or bulk-approve, their own nomination', async () => {
    const c = await seedCampaign(db, {
      code: 'dfx-own',
      categories: [
        { code: 'front', kind: 'frontline_worker', nameZh: '一线职工', amountYuan: 150, forms: ['in_kind'] },
      ],
    });
    const { union, person } = await seedContact(db, 82_002, '自审测试工会', '身兼两职');
    await grantStaff(db, 82_002, 'reviewer', '身兼两职');
    const n = await seedSubmitted(db, cipher, {
      campaignId: c.id,
      categoryId: c.categories[0]!.id,
      unionId: union.id,
      submittedById: person.id,
      amountFen: 15_000,
    });
    const deps = { db, cipher, queues, now };
    await expect(
      decideNomination(deps, {
        reviewerId: person.id,
        nominationId: n.id,
        revision: n.revision,
        version: n.version,
        action: 'approve',
      }),
    ).rejects.toMatchObject({ code: 'review_own_nomination' });
    const preview = await previewBulkApprove(deps, { campaignId: c.id }, person.id);
    expect(preview.count).toBe(0);
    expect(preview.excluded).toMatchObject([{ id: n.id, reason: 'own' }]);
    const r = await bulkApprove(deps, {
      reviewerId: person.id,
      filter: { campaignId: c.id },
      expectCount: 1,
      maxId: n.id,
    });
    expect(r.outcome).toBe('changed');
    expect((await db.nomination.findUniqueOrThrow({ where: { id: n.id } })).status).toBe('submitted');
    // Another reviewer may.
    const other = await grantStaff(db, 82_003, 'reviewer', '另一审核');
    const ok = await decideNomination(deps, {
      reviewerId: other.id,
      nominationId: n.id,
      revision: n.revision,
      version: n.version,
      action: 'approve',
    });
    expect(ok.outcome).toBe('decided');
  });

  it('/revoke <id> contact: the grant goes, open drafts are deleted, returned nominations are counted', async () => {
    const c = await seedCampaign(db, {
      code: 'dfx-revoke',
      categories: [
        { code: 'front', kind: 'frontline_worker', nameZh: '一线职工', amountYuan: 150, forms: ['in_kind'] },
      ],
    });
    const { union, person } = await seedContact(db, 82_010, '撤销测试工会', '离任联系人');
    const admin = await grantStaff(db, 82_011, 'admin', '管理员');
    const base = {
      campaignId: c.id,
      categoryId: c.categories[0]!.id,
      unionId: union.id,
      submittedById: person.id,
    };
    await db.nomination.create({ data: { ...base, status: 'draft' } });
    await db.nomination.create({
      data: { ...base, status: 'returned', benefitForm: 'in_kind', amountFen: 15_000 },
    });
    const kept = await db.nomination.create({
      data: { ...base, status: 'submitted', benefitForm: 'in_kind', amountFen: 15_000 },
    });
    const r = await revokeRole(db, { actorId: admin.id, telegramId: 82_010n, role: 'contact' });
    expect(r).toMatchObject({ changed: true, draftsDeleted: 1, returnedLeft: 1 });
    expect(
      await db.roleGrant.count({ where: { personId: person.id, role: 'contact', revokedAt: null } }),
    ).toBe(0);
    expect(await db.nomination.count({ where: { submittedById: person.id, status: 'draft' } })).toBe(0);
    expect((await db.nomination.findUniqueOrThrow({ where: { id: kept.id } })).status).toBe('submitted');
    const audit = await db.auditLog.findFirstOrThrow({
      where: { action: 'role.revoke', entityId: String(person.id) },
    });
    expect(audit.after).toMatchObject({ draftsDeleted: 1, returnedLeft: 1 });
    // Nothing to revoke the second time.
    expect(await revokeRole(db, { actorId: admin.id, telegramId: 82_010n, role: 'contact' })).toMatchObject({
      changed: false,
    });
  });
});
