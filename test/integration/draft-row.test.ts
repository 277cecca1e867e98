import { describe, expect, it } from 'vitest';
import type { Db } from '../../src/adapters/db/client.ts';
import { type QueryScope, withQueryScope } from '../../src/adapters/db/query-scope.ts';
import { audit, auditAlone } from '../../src/usecases/audit.ts';
import { verifyAuditChain } from '../../src/usecases/audit-chain.ts';
import {
  type DraftChanges,
  editableDraftRow,
  insertDraftRow,
  NOMINATION_FIELDS,
  updateDraftRow,
} from '../../src/usecases/nominations/draft-row.ts';
import { findDraft } from '../../src/usecases/nominations/drafts.ts';
import { seedCampaign, seedContact } from '../support/fixtures.ts';
import { useTestDatabase } from '../support/test-db.ts';

// The dialog's draft goes to PostgreSQL on the pool directly (draft-row.ts), not through Prisma's
// model API: its rows must be Prisma's, field by field, for every type a draft holds (Chinese text,
// null, dates, timestamps, string arrays, enums), both read and as written.

const { db: prisma } = useTestDatabase();
const db = prisma as unknown as Db;

async function seed() {
  const c = await seedCampaign(prisma, {
    categories: [{ code: 'gig', kind: 'gig_worker', nameZh: '新就业形态劳动者', amountYuan: 200 }],
  });
  const { union, person } = await seedContact(prisma, 880_001 + Math.floor(Math.random() * 1e5), '草稿工会');
  return { c, union, person, categoryId: c.categories[0]!.id };
}

/** Every kind of value a draft's field takes. */
const FULL: DraftChanges = {
  fullName: '张三·丰 𠀀',
  idNumberEnc: 'v1:密文',
  idNumberHash: 'h'.repeat(64),
  birthDate: new Date('1985-02-28T00:00:00Z'),
  sex: 'female',
  phoneEnc: 'v1:phone',
  phoneHash: 'p'.repeat(64),
  employer: '某外卖平台富民站',
  workStatus: 'employed',
  modelWorkerLevel: null,
  hardshipTier: 'tier2',
  mainCause: 'illness',
  secondaryCauses: ['disability', '带,逗号', 'with "quote"', ''],
  description: '春节期间坚持配送。\n第二行 {braces} \\ backslash',
  benefitForm: 'in_kind',
  bankName: '中国农业银行',
  bankCardEnc: null,
  bankCardLast4: '0123',
  bankCardHash: null,
  amountFen: 20_000,
  flags: ['luhn_warning'],
  draftStep: 'employer',
  draftAnswered: ['category', 'name', 'id_number'],
  draftExpiresAt: new Date('2026-12-31T15:59:59.123Z'),
};

describe('the draft on the direct path', () => {
  it('reads a draft exactly as Prisma does, every field', async () => {
    const { c, union, person, categoryId } = await seed();
    const created = await prisma.nomination.create({
      data: {
        campaignId: c.id,
        unionId: union.id,
        submittedById: person.id,
        categoryId,
        status: 'draft',
        ...(FULL as object),
      },
    });
    const direct = await editableDraftRow({ db }, { nominationId: created.id, personId: person.id });
    expect(direct).toEqual(await prisma.nomination.findUnique({ where: { id: created.id } }));
    expect(Object.keys(direct!).sort()).toEqual([...NOMINATION_FIELDS].sort());
    expect(direct).toMatchObject({
      fullName: '张三·丰 𠀀',
      birthDate: new Date('1985-02-28T00:00:00Z'),
      secondaryCauses: ['disability', '带,逗号', 'with "quote"', ''],
      modelWorkerLevel: null,
      draftExpiresAt: new Date('2026-12-31T15:59:59.123Z'),
    });

    // An empty draft: nulls and empty arrays.
    const empty = await prisma.nomination.create({
      data: { campaignId: c.id, unionId: union.id, submittedById: person.id, status: 'draft' },
    });
    const e = await editableDraftRow({ db }, { nominationId: empty.id, personId: person.id });
    expect(e).toEqual(await prisma.nomination.findUnique({ where: { id: empty.id } }));
    expect(e).toMatchObject({ fullName: null, secondaryCauses: [], flags: [], categoryId: null });
  });

  it('finds only the contact’s own editable draft, and counts the look-ups in the same statement', async () => {
    const { c, union, person } = await seed();
    const n = await prisma.nomination.create({
      data: { campaignId: c.id, unionId: union.id, submittedById: person.id, status: 'returned' },
    });
    expect(await editableDraftRow({ db }, { nominationId: n.id, personId: person.id })).not.toBeNull();
    expect(await editableDraftRow({ db }, { nominationId: n.id, personId: person.id + 1 })).toBeNull();
    await prisma.nomination.update({ where: { id: n.id }, data: { status: 'withdrawn' } });
    expect(await editableDraftRow({ db }, { nominationId: n.id, personId: person.id })).toBeNull();

    const d = await prisma.nomination.create({
      data: { campaignId: c.id, unionId: union.id, submittedById: person.id, status: 'draft' },
    });
    const action = 'nomination.id_lookup';
    const since = new Date(Date.now() - 3600_000);
    await prisma.auditLog.createMany({
      data: [
        { actorId: person.id, action, entity: 'nomination', entityId: String(d.id) },
        { actorId: person.id, action, entity: 'nomination', entityId: String(d.id) },
        // Older than the window, another action, another person: not counted.
        {
          actorId: person.id,
          action,
          entity: 'nomination',
          entityId: '1',
          at: new Date(Date.now() - 7200_000),
        },
        { actorId: person.id, action: 'other', entity: 'nomination', entityId: '1' },
        { actorId: null, action, entity: 'nomination', entityId: '1' },
      ],
    });
    const scope: QueryScope = { statements: [] };
    const row = await withQueryScope(scope, () =>
      editableDraftRow({ db }, { nominationId: d.id, personId: person.id, lookupsSince: { action, since } }),
    );
    expect(row?.recentLookups).toBe(2);
    expect(scope.statements).toHaveLength(1);
  });

  it('writes an answer as Prisma would, and returns the row as stored', async () => {
    const { c, union, person, categoryId } = await seed();
    const mk = () =>
      prisma.nomination.create({
        data: { campaignId: c.id, unionId: union.id, submittedById: person.id, categoryId, status: 'draft' },
      });
    const [a, b] = [await mk(), await mk()];
    const before = Date.now();
    const written = await updateDraftRow({ db }, { id: a.id, version: a.version, changes: FULL });
    // The same change through Prisma's model API on a twin row.
    const viaPrisma = await prisma.nomination.update({
      where: { id: b.id },
      data: { ...(FULL as object), version: { increment: 1 } },
    });
    const stored = await prisma.nomination.findUnique({ where: { id: a.id } });
    expect(written).toEqual(stored);
    const same = (n: object) => {
      const { id: _id, createdAt: _c, updatedAt: _u, ...rest } = n as Record<string, unknown>;
      return rest;
    };
    expect(same(written!)).toEqual(same(viaPrisma));
    expect(written!.version).toBe(a.version + 1);
    expect(written!.updatedAt.getTime()).toBeGreaterThanOrEqual(before - 5);
    expect(written!.updatedAt.getTime()).toBeGreaterThan(a.updatedAt.getTime() - 1);

    // Back to null and empty arrays; undefined leaves a field as it was.
    const cleared = await updateDraftRow(
      { db },
      {
        id: a.id,
        version: written!.version,
        changes: { fullName: null, secondaryCauses: [], birthDate: null, sex: null, employer: undefined },
      },
    );
    expect(cleared).toEqual(await prisma.nomination.findUnique({ where: { id: a.id } }));
    expect(cleared).toMatchObject({ fullName: null, secondaryCauses: [], birthDate: null, sex: null });
    expect(cleared!.employer).toBe(FULL.employer);
  });

  it('writes nothing when the draft changed or left the dialog meanwhile', async () => {
    const { c, union, person } = await seed();
    const n = await prisma.nomination.create({
      data: { campaignId: c.id, unionId: union.id, submittedById: person.id, status: 'draft' },
    });
    expect(
      await updateDraftRow({ db }, { id: n.id, version: n.version + 1, changes: { fullName: '甲' } }),
    ).toBeNull();
    await prisma.nomination.update({ where: { id: n.id }, data: { status: 'withdrawn' } });
    expect(
      await updateDraftRow({ db }, { id: n.id, version: n.version, changes: { fullName: '乙' } }),
    ).toBeNull();
    expect((await prisma.nomination.findUnique({ where: { id: n.id } }))!.fullName).toBeNull();
    await expect(
      updateDraftRow({ db }, { id: n.id, version: n.version, changes: { nope: 1 } as DraftChanges }),
    ).rejects.toThrow(/not a nomination field/);
    // An audit record that goes with the write is kept even when the guard matched nothing.
    const record = {
      actorId: person.id,
      action: 'nomination.id_lookup',
      entity: 'nomination',
      entityId: n.id,
    };
    expect(
      await updateDraftRow({ db }, { id: n.id, version: n.version, changes: {}, audit: record }),
    ).toBeNull();
    expect(await prisma.auditLog.count({ where: { entityId: String(n.id) } })).toBe(1);
  });

  it('writes an audit record in the answer’s own statement', async () => {
    const { c, union, person } = await seed();
    const n = await prisma.nomination.create({
      data: { campaignId: c.id, unionId: union.id, submittedById: person.id, status: 'draft' },
    });
    const scope: QueryScope = { statements: [] };
    const row = await withQueryScope(scope, () =>
      updateDraftRow(
        { db },
        {
          id: n.id,
          version: n.version,
          changes: { idNumberHash: 'x'.repeat(64) },
          audit: {
            actorId: person.id,
            action: 'nomination.id_lookup',
            entity: 'nomination',
            entityId: n.id,
            after: { outcome: 'clear' },
          },
        },
      ),
    );
    expect(scope.statements).toHaveLength(1);
    expect(row).toEqual(await prisma.nomination.findUnique({ where: { id: n.id } }));
    const [a] = await prisma.auditLog.findMany({ where: { entityId: String(n.id) } });
    expect(a).toMatchObject({
      actorId: person.id,
      action: 'nomination.id_lookup',
      after: { outcome: 'clear' },
    });
    expect(a!.seq).not.toBeNull();
    expect((await verifyAuditChain(db)).ok).toBe(true);
  });

  it('starts a draft only in an open campaign, the row as Prisma reads it', async () => {
    const { c, union, person } = await seed();
    const now = new Date();
    const input = { personId: person.id, unionId: union.id, campaignId: c.id, now };
    const expires = new Date(now.getTime() + 72 * 3600_000);
    const row = await insertDraftRow({ db }, { ...input, draftExpiresAt: expires });
    expect(row).toEqual(await prisma.nomination.findUnique({ where: { id: row!.id } }));
    expect(row).toMatchObject({
      status: 'draft',
      source: 'dialog',
      version: 0,
      revision: 0,
      draftExpiresAt: expires,
      flags: [],
      draftAnswered: [],
      categoryId: null,
    });
    // Not yet open, closed, archived: nothing inserted.
    const before = await prisma.nomination.count();
    for (const at of [new Date(c.nominationOpensAt.getTime() - 1), c.nominationClosesAt])
      expect(await insertDraftRow({ db }, { ...input, now: at, draftExpiresAt: expires })).toBeNull();
    await prisma.campaign.update({ where: { id: c.id }, data: { status: 'archived' } });
    expect(await insertDraftRow({ db }, { ...input, draftExpiresAt: expires })).toBeNull();
    expect(await prisma.nomination.count()).toBe(before);
  });

  it('finds the newest open dialog draft and removes the expired ones, in one statement', async () => {
    const { c, union, person } = await seed();
    const now = new Date();
    const mk = (data: object) =>
      prisma.nomination.create({
        data: { campaignId: c.id, unionId: union.id, submittedById: person.id, status: 'draft', ...data },
      });
    const expired = await mk({ draftExpiresAt: new Date(now.getTime() - 1000), fullName: '过期' });
    const older = await mk({ draftExpiresAt: new Date(now.getTime() + 3600_000), fullName: '较早' });
    const newest = await mk({ draftExpiresAt: null, fullName: '最新' });
    await mk({ source: 'upload', fullName: '表格' });
    const deps = { db, cipher: undefined as never, now: () => now };
    const scope: QueryScope = { statements: [] };
    const found = await withQueryScope(scope, () => findDraft(deps, person.id));
    expect(found).toEqual({ id: newest.id, fullName: '最新' });
    expect(scope.statements).toHaveLength(1);
    expect(await prisma.nomination.findUnique({ where: { id: expired.id } })).toBeNull();
    await prisma.nomination.delete({ where: { id: newest.id } });
    expect(await findDraft(deps, person.id)).toEqual({ id: older.id, fullName: '较早' });
    // Only expired ones go: the rest stay, and another person's draft is not found.
    expect(await prisma.nomination.count({ where: { submittedById: person.id } })).toBe(2);
    expect(await findDraft(deps, person.id + 1)).toBeNull();
  });

  it('an audit record of its own is the row audit() writes, linked into the chain', async () => {
    const entry = {
      actorId: null,
      action: 'nomination.id_lookup',
      entity: 'nomination',
      entityId: 42,
      after: { outcome: 'clear', fullName: '不应记录', note: '110105********002X' },
    };
    await prisma.$transaction((tx) => audit(tx, entry));
    await auditAlone(db, entry);
    const [viaPrisma, direct] = await prisma.auditLog.findMany({
      where: { entityId: '42' },
      orderBy: { seq: 'asc' },
    });
    const same = (r: object) => {
      const { id: _i, at: _a, seq: _s, prevHash: _p, hash: _h, ...rest } = r as Record<string, unknown>;
      return rest;
    };
    expect(same(direct!)).toEqual(same(viaPrisma!));
    expect(direct!.after).toEqual({ outcome: 'clear', note: '[id]' });
    expect(direct!.seq).toBe(viaPrisma!.seq! + 1n);
    expect(direct!.prevHash).toBe(viaPrisma!.hash);
    expect(Math.abs(direct!.at.getTime() - Date.now())).toBeLessThan(60_000);
    // `at` is the app's UTC time as Prisma sends it, not the column default (the session's local time).
    await prisma.$transaction(async (tx) => {
      await tx.$executeRawUnsafe(`SET LOCAL TIME ZONE 'Asia/Shanghai'`);
      await auditAlone(tx as unknown as Db, { ...entry, entityId: 43 });
    });
    const [local] = await prisma.auditLog.findMany({ where: { entityId: '43' } });
    expect(Math.abs(local!.at.getTime() - Date.now())).toBeLessThan(60_000);
    expect((await verifyAuditChain(db)).ok).toBe(true);
  });
});
