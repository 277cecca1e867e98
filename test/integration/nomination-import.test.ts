import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FieldCipher } from '../../src/adapters/crypto/field-cipher.ts';
import type { Db } from '../../src/adapters/db/client.ts';
import { draftExpiresAt } from '../../src/domain/nomination/intake.ts';
import { cancelImport } from '../../src/usecases/nominations/cancel-import.ts';
import { storeImportDrafts as storeDrafts } from '../../src/usecases/nominations/store-import-drafts.ts';
import { submitImport as submitImported } from '../../src/usecases/nominations/submit-import.ts';
import { checkImport } from '../../src/usecases/nominations/check-import.ts';
import { RowFeed } from '../../src/usecases/nominations/row-feed.ts';
import { type ImportInputRow, validateImport } from '../../src/usecases/nominations/validate-import.ts';
import {
  type NominationDeps,
  revisionSnapshot,
  toCategoryInfo,
} from '../../src/usecases/nominations/shared.ts';
import { createPrisma, createTestDatabase, type TestDatabase } from '../support/db.ts';

// Spreadsheet import against a real PostgreSQL: validation in bulk, drafts, submit and cancel.

const audit0 = (rows: { actorId: number | null; entity: string; before: unknown; after: unknown }[]) =>
  rows.map(({ actorId, entity, before, after }) => ({ actorId, entity, before, after }));

let tdb: TestDatabase;
let db: Db;
let deps: NominationDeps;
const cipher = new FieldCipher([{ version: 1, key: randomBytes(32) }]);
const now = new Date('2024-01-10T02:00:00Z');
const ids: {
  campaign: number;
  needy: number;
  frontline: number;
  unionA: number;
  unionB: number;
  contact: number;
  other: number;
} = { campaign: 0, needy: 0, frontline: 0, unionA: 0, unionB: 0, contact: 0, other: 0 };

beforeAll(async () => {
  tdb = await createTestDatabase();
  db = createPrisma(tdb.url) as unknown as Db;
  deps = { db, cipher, now: () => now };
  const fed = await db.federation.create({ data: { name: '富民县总工会' } });
  const campaign = await db.campaign.create({
    data: {
      code: 'test-2024',
      federationId: fed.id,
      titleZh: '测试活动',
      titleEn: 'Test campaign',
      organiser: '富民县总工会',
      status: 'open',
      budgetTotalFen: 10_000_000n,
      nominationOpensAt: new Date('2024-01-02T01:00:00Z'),
      nominationClosesAt: new Date('2024-01-19T10:00:00Z'),
      reviewDeadline: new Date('2024-01-26T10:00:00Z'),
      targetPaymentDate: new Date('2024-02-05'),
    },
  });
  const needy = await db.campaignCategory.create({
    data: {
      campaignId: campaign.id,
      code: 'needy_worker',
      nameZh: '困难职工',
      nameEn: 'Needy workers',
      kind: 'needy_worker',
      standardAmountFen: 80000,
      benefitForms: ['transfer'],
      requiredFields: ['name', 'id_number', 'phone', 'employer', 'work_status', 'hardship', 'description'],
      quotaPerUnion: 3,
    },
  });
  const frontline = await db.campaignCategory.create({
    data: {
      campaignId: campaign.id,
      code: 'frontline_worker',
      nameZh: '一线职工',
      nameEn: 'Frontline workers',
      kind: 'frontline_worker',
      standardAmountFen: 15000,
      benefitForms: ['in_kind'],
      requiredFields: ['name', 'id_number', 'phone', 'employer'],
    },
  });
  const unionA = await db.union.create({ data: { federationId: fed.id, name: '县人民医院工会' } });
  const unionB = await db.union.create({ data: { federationId: fed.id, name: '县供电局工会' } });
  const contact = await db.person.create({ data: { telegramId: 9001n, displayName: '张联系' } });
  const other = await db.person.create({ data: { telegramId: 9002n, displayName: '李联系' } });
  await db.roleGrant.create({
    data: { personId: contact.id, role: 'contact', scope: `union:${unionA.id}`, unionId: unionA.id },
  });
  await db.roleGrant.create({
    data: { personId: other.id, role: 'contact', scope: `union:${unionB.id}`, unionId: unionB.id },
  });
  Object.assign(ids, {
    campaign: campaign.id,
    needy: needy.id,
    frontline: frontline.id,
    unionA: unionA.id,
    unionB: unionB.id,
    contact: contact.id,
    other: other.id,
  });
  // Union B already nominated 440524188001010014 in this campaign.
  await db.nomination.create({
    data: {
      campaignId: campaign.id,
      categoryId: frontline.id,
      unionId: unionB.id,
      submittedById: other.id,
      status: 'submitted',
      fullName: '赵已报',
      idNumberHash: cipher.hash('id', '440524188001010014'),
      idNumberEnc: cipher.encrypt('440524188001010014'),
      amountFen: 15000,
      benefitForm: 'in_kind',
      dedupKey: `${campaign.id}:${cipher.hash('id', '440524188001010014')}`,
    },
  });
});

afterAll(async () => {
  await db?.$disconnect();
  await tdb?.drop();
});

function idNumber(seq: number): string {
  const first17 =
    `110105198001${String(10 + (seq % 18)).padStart(2, '0')}${String(seq).padStart(3, '0')}`.slice(0, 17);
  const W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const s = [...first17].reduce((a, d, i) => a + Number(d) * W[i]!, 0);
  return first17 + '10X98765432'[s % 11]!;
}

const frontlineRow = (
  line: number,
  id: string,
  extra: Partial<ImportInputRow['values']> = {},
): ImportInputRow => ({
  line,
  values: { name: '王五', id_number: id, phone: '13912345678', employer: '县自来水公司', ...extra },
});

describe('validateImport', () => {
  it('mixed rows: every problem of a row, duplicates in file and against another union', async () => {
    const rows: ImportInputRow[] = [
      frontlineRow(2, idNumber(1)),
      frontlineRow(3, '11010519491231002Y', { phone: '1381234', name: '' }),
      frontlineRow(4, idNumber(2)),
      frontlineRow(5, idNumber(2)),
      frontlineRow(6, '440524188001010014'),
      {
        line: 7,
        values: frontlineRow(7, '').values,
        issues: [{ column: 'id_number', code: 'number_precision', params: { value: '1.1E+17' } }],
      },
      frontlineRow(8, '１１０１０５１９４９１２３１００２x'),
    ];
    const v = await validateImport(deps, {
      personId: ids.contact,
      unionId: ids.unionA,
      campaignId: ids.campaign,
      categoryId: ids.frontline,
      rows,
    });
    const by = new Map(v.rows.map((r) => [r.line, r]));
    expect(by.get(2)!.ok).toBe(true);
    expect(
      by
        .get(3)!
        .issues.map((i) => i.code)
        .sort(),
    ).toEqual(['id.chars', 'phone.length', 'required']);
    expect(by.get(4)!.issues).toEqual([
      { code: 'duplicate_in_file', params: { row: 5 }, column: 'id_number' },
    ]);
    expect(by.get(5)!.issues).toEqual([
      { code: 'duplicate_in_file', params: { row: 4 }, column: 'id_number' },
    ]);
    expect(by.get(6)!.issues).toEqual([
      // Another union's nomination: the contact learns it is a duplicate, not whose or how far it got.
      { code: 'duplicate_other', params: {}, column: 'id_number' },
    ]);
    expect(by.get(7)!.issues.map((i) => i.code)).toEqual(['number_precision']);
    expect(by.get(8)!.ok).toBe(true);
    expect(by.get(8)!.value?.fields.idNumber).toBe('11010519491231002X');
    expect(by.get(8)!.value?.fields.birthDate).toBe('1949-12-31');
    expect(v.valid).toBe(2);
    expect(v.invalid).toBe(5);
  });

  it('coded columns through the vocabulary; quota: valid rows beyond it are refused in file order', async () => {
    const needyRow = (
      line: number,
      seq: number,
      extra: Partial<ImportInputRow['values']> = {},
    ): ImportInputRow => ({
      line,
      values: {
        name: '陈六',
        id_number: idNumber(seq),
        phone: '13712345678',
        employer: '县纺织厂',
        work_status: '退休',
        hardship_tier: 'Deep hardship',
        main_cause: 'serious_illness',
        secondary_causes: '子女上学、下岗失业',
        description: '患病',
        bank_name: '中国银行',
        bank_card: '6217001234567890123',
        ...extra,
      },
    });
    const v = await validateImport(deps, {
      personId: ids.contact,
      unionId: ids.unionA,
      campaignId: ids.campaign,
      categoryId: ids.needy,
      rows: [
        needyRow(2, 11),
        needyRow(3, 12, { work_status: '上班', secondary_causes: '患重特大疾病' }),
        needyRow(4, 13),
        needyRow(5, 14, { bank_card: '' }),
        needyRow(6, 15),
        needyRow(7, 16),
      ],
    });
    const by = new Map(v.rows.map((r) => [r.line, r]));
    expect(by.get(2)!.value?.fields).toMatchObject({
      workStatus: 'retired',
      hardshipTier: 'deep',
      mainCause: 'serious_illness',
      secondaryCauses: ['child_education', 'laid_off_unemployed'],
    });
    expect(by.get(3)!.issues.map((i) => i.code)).toEqual(['vocab_unknown', 'hardship.duplicate_cause']);
    expect(by.get(5)!.issues).toEqual([
      { code: 'required', params: { column: 'bank_card' }, column: 'bank_card' },
    ]);
    expect(v.quotaRemaining).toBe(3);
    expect([2, 4, 6, 7].map((l) => by.get(l)!.ok)).toEqual([true, true, true, false]);
    expect(by.get(7)!.issues[0]).toMatchObject({
      code: 'quota_exceeded',
      params: { quota: 3, remaining: 3 },
    });
    expect(v.overLimit).toBe(1);
  });

  it('refuses someone who is not a contact of the union', async () => {
    await expect(
      validateImport(deps, {
        personId: ids.other,
        unionId: ids.unionA,
        campaignId: ids.campaign,
        categoryId: ids.frontline,
        rows: [],
      }),
    ).rejects.toMatchObject({ code: 'upload_forbidden' });
  });
});

describe('storeDrafts / submitImported / cancelImport', () => {
  const input = (rows: ImportInputRow[] | RowFeed<ImportInputRow>) => ({
    personId: ids.contact,
    unionId: ids.unionA,
    campaignId: ids.campaign,
    categoryId: ids.frontline,
    rows,
  });

  it('reports progress by slices of 1,000 rows on a long file, with the same result per row', async () => {
    const rows = Array.from({ length: 2500 }, (_, i) => frontlineRow(i + 2, i % 500 === 0 ? 'bad' : 'bad2'));
    const seen: [number, number][] = [];
    const v = await validateImport(deps, input(rows), { onProgress: (d, t) => seen.push([d, t]) });
    expect(seen).toEqual([
      [1000, 2500],
      [2000, 2500],
      [2500, 2500],
    ]);
    expect(v.rows.map((r) => r.line)).toEqual(rows.map((r) => r.line));
    expect(v.invalid).toBe(2500);
    // A short file is checked in one go: no progress calls.
    const few: [number, number][] = [];
    await validateImport(deps, input(rows.slice(0, 10)), { onProgress: (d, t) => few.push([d, t]) });
    expect(few).toEqual([]);
  });

  it('a long file: facts read slice by slice as the rows are checked decide as for a short file', async () => {
    // 2,500 rows, three slices: the facts of each slice are read while the next is checked. Line 2302
    // (slice 3) gives the ID union B nominated; lines 2 and 2402 (slices 1 and 3) share an ID; lines 3
    // and 1503 (slices 1 and 2) share a phone; the others are distinct.
    const longId = (i: number) => {
      const birth = new Date(Date.UTC(1950, 0, 1) + i * 86_400_000).toISOString().slice(0, 10);
      const first17 = `110105${birth.replaceAll('-', '')}${String(100 + (i % 900))}`;
      const W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
      return first17 + '10X98765432'[[...first17].reduce((a, d, k) => a + Number(d) * W[k]!, 0) % 11]!;
    };
    const rows = Array.from({ length: 2500 }, (_, i) =>
      frontlineRow(i + 2, longId(i), { phone: `137${String(i).padStart(8, '0')}` }),
    );
    rows[2300] = frontlineRow(2302, '440524188001010014', { phone: '13700002300' });
    rows[2400] = frontlineRow(2402, longId(0), { phone: '13700002400' });
    rows[1501] = frontlineRow(1503, longId(1501), { phone: '13700000001' });
    await db.campaign.update({ where: { id: ids.campaign }, data: { budgetTotalFen: 1_000_000_000n } });
    try {
      const v = await validateImport(deps, input(rows));
      const by = new Map(v.rows.map((r) => [r.line, r]));
      expect(by.get(2302)!.issues).toEqual([{ code: 'duplicate_other', params: {}, column: 'id_number' }]);
      expect(by.get(2)!.issues).toEqual([
        { code: 'duplicate_in_file', params: { row: 2402 }, column: 'id_number' },
      ]);
      expect(by.get(2402)!.issues).toEqual([
        { code: 'duplicate_in_file', params: { row: 2 }, column: 'id_number' },
      ]);
      for (const line of [3, 1503])
        expect(by.get(line)!.warnings).toEqual([{ code: 'shared_phone', params: {} }]);
      expect(v.invalid).toBe(3);
      expect(v.valid).toBe(2497);
      expect(v.rows.filter((r) => r.ok && r.warnings.length > 0).map((r) => r.line)).toEqual([3, 1503]);
    } finally {
      await db.campaign.update({ where: { id: ids.campaign }, data: { budgetTotalFen: 10_000_000n } });
    }
  });

  it('a file fed slice by slice while it is parsed is checked as the whole file; progress once its total is known', async () => {
    // IDs repeat every 900 rows (duplicates across slices) and row 2302's is bad: the whole-file checks
    // see every slice, however they arrived.
    const rows = Array.from({ length: 2500 }, (_, i) =>
      frontlineRow(i + 2, idNumber(i % 900), { phone: `137${String(i).padStart(8, '0')}` }),
    );
    rows[2300] = frontlineRow(2302, 'bad');
    await db.campaign.update({ where: { id: ids.campaign }, data: { budgetTotalFen: 1_000_000_000n } });
    try {
      const whole = await validateImport(deps, input(rows));
      const feed = new RowFeed<ImportInputRow>();
      const seen: [number, number][] = [];
      const fed = validateImport(deps, input(feed), { onProgress: (d, t) => seen.push([d, t]) });
      feed.push(rows.slice(0, 1000));
      await new Promise((r) => setTimeout(r, 20));
      feed.push(rows.slice(1000, 2000));
      await new Promise((r) => setImmediate(r));
      feed.end(rows.slice(2000));
      const v = await fed;
      expect(v.rows).toEqual(whole.rows);
      expect({ valid: v.valid, invalid: v.invalid }).toEqual({ valid: whole.valid, invalid: whole.invalid });
      expect(v.invalid).toBeGreaterThan(0);
      // Slices checked before the end are not reported (the total was not known); the rest are.
      expect(seen.every(([, t]) => t === 2500)).toBe(true);
      expect(seen.at(-1)).toEqual([2500, 2500]);
    } finally {
      await db.campaign.update({ where: { id: ids.campaign }, data: { budgetTotalFen: 10_000_000n } });
    }
  });

  it('a feed that fails mid-file (the parse refused, the child died): the check throws and stores nothing', async () => {
    // An earlier unconfirmed batch of the contact: a failed file must not replace it either.
    const earlier = await validateImport(deps, input([frontlineRow(2, idNumber(51))]));
    const { batchId } = await storeDrafts(deps, earlier);
    const drafts = () => db.nomination.count({ where: { submittedById: ids.contact, status: 'draft' } });
    const before = await drafts();
    const rows = Array.from({ length: 1500 }, (_, i) =>
      frontlineRow(i + 2, idNumber(i % 900), { phone: `138${String(i).padStart(8, '0')}` }),
    );
    const feed = new RowFeed<ImportInputRow>();
    const checked = checkImport(deps, input(feed));
    feed.push(rows.slice(0, 1000));
    await new Promise((r) => setTimeout(r, 20));
    feed.push(rows.slice(1000));
    feed.fail(new Error('file not parsed'));
    await expect(checked).rejects.toThrow('file not parsed');
    expect(await drafts()).toBe(before);
    expect(await db.nomination.count({ where: { draftStep: `import:${batchId}` } })).toBe(1);
    expect(await cancelImport(deps, { personId: ids.contact, batchId })).toBe(1);
  });

  it('stores valid rows as encrypted upload drafts, then submits them in one transaction', async () => {
    const v = await validateImport(
      deps,
      input([frontlineRow(2, idNumber(21)), frontlineRow(3, 'bad'), frontlineRow(4, idNumber(22))]),
    );
    const { batchId, stored } = await storeDrafts(deps, v);
    expect(stored).toBe(2);
    const drafts = await db.nomination.findMany({ where: { draftStep: `import:${batchId}` } });
    expect(drafts).toHaveLength(2);
    for (const d of drafts) {
      expect(d).toMatchObject({
        status: 'draft',
        source: 'upload',
        unionId: ids.unionA,
        categoryId: ids.frontline,
      });
      expect(d.draftAnswered).toEqual(['category', 'name', 'id_number', 'phone', 'employer']);
      expect(d.idNumberEnc).not.toContain('110105');
      expect(cipher.decrypt(d.phoneEnc!)).toBe('13912345678');
    }

    const r = await submitImported(deps, { personId: ids.contact, batchId });
    expect(r).toMatchObject({ submitted: 2, refused: { duplicate_existing: 0 }, amountFen: 30000 });
    const done = await db.nomination.findMany({
      where: { id: { in: drafts.map((d) => d.id) } },
      include: { revisions: true },
    });
    for (const n of done) {
      expect(n).toMatchObject({ status: 'submitted', revision: 1, amountFen: 15000, draftStep: null });
      expect(n.dedupKey).toBe(`${ids.campaign}:${n.idNumberHash}`);
      expect(n.revisions.map((x) => x.revision)).toEqual([1]);
      // The snapshot written in SQL (revisionSnapshotSql) is the dialog's revisionSnapshot.
      const cat = toCategoryInfo(
        await db.campaignCategory.findUniqueOrThrow({ where: { id: n.categoryId! } }),
      );
      expect(n.revisions[0]!.snapshot).toEqual({ ...revisionSnapshot(n, cat, n.flags), source: 'upload' });
    }
    expect(audit0(await db.auditLog.findMany({ where: { action: 'nomination.submit' } }))).toContainEqual({
      actorId: ids.contact,
      entity: 'nomination',
      before: { status: 'draft', revision: 0 },
      after: {
        status: 'submitted',
        revision: 1,
        category: 'frontline_worker',
        benefitForm: 'in_kind',
        amountFen: 15000,
        flags: ['shared_phone'], // both rows give the same phone
        source: 'upload',
        batch: batchId,
      },
    });
    const audit = await db.auditLog.findMany({
      where: { action: 'nomination.submit', entityId: { in: drafts.map((d) => String(d.id)) } },
    });
    expect(audit).toHaveLength(2);
    expect(JSON.stringify(audit.map((a) => a.after))).not.toMatch(/110105198001\d{6}/);
    // The nomination id identifies the record: no ID number, masked or not, in the audit log.
    expect(JSON.stringify(audit.map((a) => a.after))).not.toMatch(/110105\*{8}/);
    await expect(submitImported(deps, { personId: ids.contact, batchId })).rejects.toMatchObject({
      code: 'upload_batch_gone',
    });
  });

  it('re-checks at submit: a person nominated meanwhile by another union is refused, the rest submitted', async () => {
    const v = await validateImport(
      deps,
      input([frontlineRow(2, idNumber(31)), frontlineRow(3, idNumber(32))]),
    );
    const { batchId } = await storeDrafts(deps, v);
    const h = cipher.hash('id', idNumber(32));
    await db.nomination.create({
      data: {
        campaignId: ids.campaign,
        categoryId: ids.frontline,
        unionId: ids.unionB,
        submittedById: ids.other,
        status: 'submitted',
        idNumberHash: h,
        amountFen: 15000,
        benefitForm: 'in_kind',
        dedupKey: `${ids.campaign}:${h}`,
      },
    });
    const r = await submitImported(deps, { personId: ids.contact, batchId });
    expect(r.submitted).toBe(1);
    expect(r.refused.duplicate_existing).toBe(1);
    expect(await db.nomination.count({ where: { draftStep: `import:${batchId}` } })).toBe(0);
  });

  it('a long file: the drafts, written a few chunks at once, keep the file order in their ids', async () => {
    // 3,500 valid rows: four INSERT chunks, two of them in flight at a time; ids must follow the file.
    const longId = (i: number) => {
      const birth = new Date(Date.UTC(1960, 0, 1) + i * 86_400_000).toISOString().slice(0, 10);
      const first17 = `110105${birth.replaceAll('-', '')}${String(100 + (i % 900))}`;
      const W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
      return first17 + '10X98765432'[[...first17].reduce((a, d, k) => a + Number(d) * W[k]!, 0) % 11]!;
    };
    const rows = Array.from({ length: 3500 }, (_, i) =>
      frontlineRow(i + 2, longId(i), { phone: `139${String(i).padStart(8, '0')}` }),
    );
    await db.campaign.update({ where: { id: ids.campaign }, data: { budgetTotalFen: 1_000_000_000n } });
    // One cipher worker for the check and the store, as checkImport does: neither closes it.
    const worker = cipher.worker();
    try {
      const v = await validateImport(deps, input(rows), { worker });
      expect(v.valid).toBe(3500);
      const { batchId, stored } = await storeDrafts(deps, v, { worker });
      expect(stored).toBe(3500);
      const drafts = await db.nomination.findMany({
        where: { draftStep: `import:${batchId}` },
        orderBy: { id: 'asc' },
        select: { idNumberEnc: true, phoneEnc: true },
      });
      expect(drafts.map((d) => cipher.decrypt(d.idNumberEnc!))).toEqual(rows.map((r) => r.values.id_number));
      expect(drafts.map((d) => cipher.decrypt(d.phoneEnc!))).toEqual(rows.map((r) => r.values.phone));
      expect(await cancelImport(deps, { personId: ids.contact, batchId })).toBe(3500);
      expect(await worker.hash('id', ['x'])).toEqual([cipher.hash('id', 'x')]);
    } finally {
      await worker.close();
      await db.campaign.update({ where: { id: ids.campaign }, data: { budgetTotalFen: 10_000_000n } });
    }
  });

  it('stores texts as given, whatever characters they hold (quotes, backslashes, commas, braces)', async () => {
    // The rows go to PostgreSQL as column arrays on the pool directly (not through $executeRaw):
    // characters special to array literals or JSON must arrive as typed; a lone surrogate is written as
    // U+FFFD, as the driver writes any string.
    const texts = ['县"自来水"公司\\二部', '甲,乙 {丙} NULL', "单位\\u0041 '引号'", `车间\ud800一`];
    const v = await validateImport(
      deps,
      input(texts.map((employer, i) => frontlineRow(2 + i, idNumber(51 + i), { employer }))),
    );
    expect(v.valid).toBe(texts.length);
    // Stored from a process in China's time zone (Node applies a change of TZ at once).
    const zone = process.env['TZ'];
    process.env['TZ'] = 'Asia/Shanghai';
    let batchId: string;
    try {
      ({ batchId } = await storeDrafts(deps, v));
    } finally {
      if (zone === undefined) delete process.env['TZ'];
      else process.env['TZ'] = zone;
    }
    const drafts = await db.nomination.findMany({
      where: { draftStep: `import:${batchId}` },
      orderBy: { id: 'asc' },
      select: { employer: true, createdAt: true, updatedAt: true, draftExpiresAt: true },
    });
    expect(drafts.map((d) => d.employer)).toEqual([
      '县"自来水"公司\\二部',
      '甲,乙 {丙} NULL',
      "单位\\u0041 '引号'",
      '车间\ufffd一',
    ]);
    // The times are the use case's clock, whatever the process's time zone.
    for (const d of drafts) {
      expect(d.createdAt).toEqual(now);
      expect(d.updatedAt).toEqual(now);
      expect(d.draftExpiresAt).toEqual(draftExpiresAt(null, now));
    }
    expect(await cancelImport(deps, { personId: ids.contact, batchId })).toBe(texts.length);
  });

  it('a one-row chunk: the columns sent as one text each keep their NULLs and values', async () => {
    const v = await validateImport(deps, input([frontlineRow(2, idNumber(61))]));
    const { batchId, stored } = await storeDrafts(deps, v);
    expect(stored).toBe(1);
    const d = await db.nomination.findFirstOrThrow({ where: { draftStep: `import:${batchId}` } });
    expect(d).toMatchObject({
      bankCardEnc: null,
      bankCardLast4: null,
      bankCardHash: null,
      workStatus: null,
      hardshipTier: null,
      birthDate: null,
      benefitForm: 'in_kind',
      sex: v.rows[0]!.value!.fields.sex,
      idNumberHash: v.rows[0]!.value!.idHash,
      phoneHash: v.rows[0]!.value!.phoneHash,
    });
    expect(cipher.decrypt(d.idNumberEnc!)).toBe(idNumber(61));
    expect(await cancelImport(deps, { personId: ids.contact, batchId })).toBe(1);
  });

  it('cancel deletes the drafts of the batch and nothing else', async () => {
    const v = await validateImport(
      deps,
      input([frontlineRow(2, idNumber(41)), frontlineRow(3, idNumber(42))]),
    );
    const { batchId } = await storeDrafts(deps, v);
    const before = await db.nomination.count();
    expect(await cancelImport(deps, { personId: ids.other, batchId })).toBe(0);
    expect(await cancelImport(deps, { personId: ids.contact, batchId })).toBe(2);
    expect(await db.nomination.count()).toBe(before - 2);
    await expect(submitImported(deps, { personId: ids.contact, batchId })).rejects.toMatchObject({
      code: 'upload_batch_gone',
    });
  });
});
