import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FieldCipher } from '../../src/adapters/crypto/field-cipher.ts';
import { removeOrphanedExportFiles, writeInParts } from '../../src/adapters/files/export-parts.ts';
import { defaultCalendar } from '../../src/domain/calendar/index.ts';
import { shanghaiDateOf } from '../../src/domain/calendar/date.ts';
import { birthDateOfIdNumber } from '../../src/domain/identity/id-number.ts';
import { maskBankCard, maskBirthDate, maskIdNumber, maskPhone } from '../../src/domain/masking.ts';
import { entryDeadlineOn } from '../../src/domain/reminders/index.ts';
import { type LedgerRow, ledgerCount, ledgerPages } from '../../src/usecases/report/ledger.ts';
import { openExportCursors } from '../support/db.ts';
import { useTestDatabase } from '../support/test-db.ts';
import { makeCard, makeId } from '../support/fixtures.ts';
import { seedCountyCampaign } from '../support/report-fixtures.ts';

// The streamed ledger (one statement behind a server-side cursor) gives exactly the rows the former
// page-by-page Prisma reader gave (that reader is kept below as the reference), and an export that
// fails midway leaves no file and no open cursor behind.

const { db } = useTestDatabase();
const cipher = new FieldCipher([{ version: 1, key: randomBytes(32) }]);
let seeded: Awaited<ReturnType<typeof seedCountyCampaign>>;

beforeAll(async () => {
  seeded = await seedCountyCampaign(db, 'stream-2026', cipher);
  const card = makeCard();
  let i = 0;
  for (const id of seeded.paid.slice(0, 30)) {
    const idn = makeId('19800101', 11 + i++);
    await db.nomination.update({
      where: { id },
      data: {
        idNumberEnc: cipher.encrypt(idn),
        phoneEnc: cipher.encrypt('13812345678'),
        bankCardEnc: cipher.encrypt(card),
        bankCardLast4: card.slice(-4),
        secondaryCauses: ['child_education', 'disability'],
        flags: ['shared_phone'],
      },
    });
  }
});

/** The reader before issue 13 (Prisma pages with nested payments and handovers), as the reference. */
async function reference(campaignId: number, access: 'full' | 'masked', statuses?: string[]) {
  const campaign = await db.campaign.findUniqueOrThrow({ where: { id: campaignId } });
  const unions = new Map((await db.union.findMany()).map((u) => [u.id, u.name]));
  const cats = new Map((await db.campaignCategory.findMany({ where: { campaignId } })).map((c) => [c.id, c]));
  const rows = await db.nomination.findMany({
    where: { campaignId, status: statuses ? { in: statuses as never } : { not: 'draft' } },
    include: {
      payments: { where: { status: 'paid' }, orderBy: { paidAt: 'desc' } },
      handovers: true,
    },
    orderBy: { id: 'asc' },
  });
  const full = access === 'full';
  const open = (e: string | null) => (e ? cipher.decrypt(e) : '');
  return rows.map((n): LedgerRow => {
    const cat = n.categoryId !== null ? cats.get(n.categoryId) : undefined;
    let deliveredOn: string | null = null;
    let deliveredFen: number | null = null;
    if (n.status === 'paid') {
      deliveredFen = n.payments.length > 0 ? n.payments.reduce((a, p) => a + p.amountFen, 0) : n.amountFen;
      deliveredOn = n.payments[0]?.paidAt ? shanghaiDateOf(n.payments[0].paidAt) : null;
    } else if (n.status === 'handed_over') {
      deliveredFen = n.amountFen;
      deliveredOn = n.handovers[0] ? n.handovers[0].handedOverOn.toISOString().slice(0, 10) : null;
    }
    const id = open(n.idNumberEnc);
    const phone = open(n.phoneEnc);
    return {
      id: n.id,
      unionName: unions.get(n.unionId) ?? String(n.unionId),
      categoryZh: cat?.nameZh ?? '',
      categoryEn: cat?.nameEn ?? '',
      categoryKind: cat?.kind ?? '',
      fullName: n.fullName ?? '',
      sex: n.sex,
      birth: full ? birthDateOfIdNumber(id) : maskBirthDate(birthDateOfIdNumber(id)) || null,
      idNumber: full || !id ? id : maskIdNumber(id),
      phone: full || !phone ? phone : maskPhone(phone),
      employer: n.employer ?? '',
      workStatus: n.workStatus,
      modelWorkerLevel: n.modelWorkerLevel,
      hardshipTier: n.hardshipTier,
      mainCause: n.mainCause,
      secondaryCauses: n.secondaryCauses,
      benefitForm: n.benefitForm,
      bankName: n.bankName ?? '',
      bankCard: full ? open(n.bankCardEnc) : n.bankCardLast4 ? maskBankCard(n.bankCardLast4) : '',
      amountFen: n.amountFen,
      status: n.status,
      submittedAt: n.submittedAt,
      decidedAt: n.decidedAt,
      deliveredOn,
      deliveredFen,
      entryDeadline: deliveredOn
        ? entryDeadlineOn(deliveredOn, campaign.entryWorkingDays, defaultCalendar)
        : null,
      enteredProvincialAt: n.enteredProvincialAt,
      flags: n.flags,
      source: n.source,
    };
  });
}

async function streamed(campaignId: number, access: 'full' | 'masked', statuses?: string[]) {
  const out: LedgerRow[] = [];
  for await (const page of ledgerPages(db, cipher, {
    campaignId,
    access,
    pageSize: 97,
    ...(statuses ? { filters: { statuses: statuses as never } } : {}),
  }))
    out.push(...page);
  return out;
}

describe('streamed ledger', () => {
  it('same rows, same values as the former reader (full, masked, filtered)', async () => {
    const id = seeded.campaign.id;
    for (const access of ['full', 'masked'] as const) {
      const a = await streamed(id, access);
      expect(a.length).toBe(600);
      expect(a).toEqual(await reference(id, access));
    }
    const paid = await streamed(id, 'full', ['paid', 'handed_over']);
    expect(paid).toEqual(await reference(id, 'full', ['paid', 'handed_over']));
    expect(paid.some((r) => r.deliveredOn !== null && r.entryDeadline !== null)).toBe(true);
    expect(await ledgerCount(db, id, { statuses: ['paid', 'handed_over'] })).toBe(paid.length);
  });

  it('an export failing midway removes its files and closes the cursor', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ledger-stream-'));
    let part = 0;
    await expect(
      writeInParts({
        pages: ledgerPages(db, cipher, { campaignId: seeded.campaign.id, access: 'full', pageSize: 50 }),
        partBytes: 2_000,
        path: async (p) => join(dir, `${process.pid}-test-${p}.xlsx`),
        write: async (out, pages, p) => {
          part = p;
          if (p === 2) throw new Error('disk full');
          // The ids as text: bytes reach the file page by page (an .xlsx's deflate may hold all of these
          // few hundred rows back until the end, depending on zlib's thread), so part 2 always comes.
          for await (const page of pages) out.write(`${page.map((r) => r.id).join('\n')}\n`);
        },
      }),
    ).rejects.toThrow('disk full');
    expect(part).toBe(2);
    expect(readdirSync(dir)).toEqual([]);
    // No cursor left open on the test database.
    expect(await openExportCursors(db)).toBe(0);
  });

  it('at worker start, files of processes that are gone are removed, those of live ones kept', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ledger-orphans-'));
    const dead = join(dir, '999999-job-1.xlsx');
    const live = join(dir, `${process.ppid}-job-1.xlsx`);
    writeFileSync(dead, 'x');
    writeFileSync(live, 'x');
    expect(await removeOrphanedExportFiles(dir)).toBe(1);
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(live)).toBe(true);
  });
});
