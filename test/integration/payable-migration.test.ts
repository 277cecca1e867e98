import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyMigrations } from '../../src/adapters/db/tooling/engine.ts';
import { defaultMigrationsDir, migrationNames } from '../../src/adapters/db/tooling/migrations-dir.ts';
import { withScratchDatabase } from '../../src/adapters/db/tooling/pg.ts';
import { listPayableViolations } from '../../src/usecases/nominations/payable-check.ts';
import { adminUrl, createPrisma } from '../support/db.ts';

// The migration `nomination_payable_check` on a database that already holds the broken rows the old
// dialog stored: single-form categories get their form; what it cannot repair is left as it was and
// listed by `npm run nominations:check`; from then on the database refuses a new broken row.

const MIGRATION = 'nomination_payable_check';

describe(`migration ${MIGRATION}`, () => {
  it('repairs single-form rows, lists the rest unchanged, and enforces the rule afterwards', async () => {
    const names = await migrationNames();
    const target = names.find((n) => n.endsWith(MIGRATION))!;
    expect(target).toBeDefined();
    const before = await mkdtemp(join(tmpdir(), 'warmth-migrations-'));
    try {
      // The migrations up to (not including) this one.
      await cp(join(defaultMigrationsDir, 'migration_lock.toml'), join(before, 'migration_lock.toml'));
      for (const n of names.slice(0, names.indexOf(target)))
        await cp(join(defaultMigrationsDir, n), join(before, n), { recursive: true });

      await withScratchDatabase(adminUrl, async (url) => {
        await applyMigrations(url, { migrationsDir: before });
        const db = createPrisma(url);
        try {
          const fed = await db.federation.create({ data: { name: '迁移测试总工会' }, select: { id: true } });
          const union = await db.union.create({
            data: { federationId: fed.id, name: '迁移测试工会' },
            select: { id: true },
          });
          const person = await db.person.create({ data: { displayName: '联系人' }, select: { id: true } });
          const now = Date.now();
          const campaign = await db.campaign.create({
            data: {
              code: 'migrate',
              federationId: fed.id,
              titleZh: '迁移',
              titleEn: 'migrate',
              organiser: '迁移测试总工会',
              status: 'open',
              budgetTotalFen: 10_000_000n,
              budgetUnionsFen: 0n,
              nominationOpensAt: new Date(now - 86_400_000),
              nominationClosesAt: new Date(now + 86_400_000),
              reviewDeadline: new Date(now + 2 * 86_400_000),
              targetPaymentDate: new Date('2027-01-10'),
              categories: {
                create: [
                  {
                    code: 'needy',
                    nameZh: '困难职工',
                    nameEn: 'needy',
                    kind: 'needy_worker',
                    standardAmountFen: 80_000,
                    benefitForms: ['transfer'],
                    requiredFields: ['name'],
                    sortOrder: 0,
                  },
                  {
                    code: 'gig',
                    nameZh: '新就业形态',
                    nameEn: 'gig',
                    kind: 'gig_worker',
                    standardAmountFen: 20_000,
                    benefitForms: ['transfer', 'in_kind'],
                    requiredFields: ['name'],
                    sortOrder: 1,
                  },
                  {
                    code: 'front',
                    nameZh: '一线职工',
                    nameEn: 'front',
                    kind: 'frontline_worker',
                    standardAmountFen: 15_000,
                    benefitForms: ['in_kind'],
                    requiredFields: ['name'],
                    sortOrder: 2,
                  },
                ],
              },
            },
            // Only the columns this migration knows (later migrations add more to campaign).
            select: { id: true, categories: { select: { id: true, sortOrder: true } } },
          });
          const [needy, gig, front] = campaign.categories.sort((a, b) => a.sortOrder - b.sortOrder);
          const base = { campaignId: campaign.id, unionId: union.id, submittedById: person.id };
          const make = (data: Record<string, unknown>) =>
            db.nomination.create({ data: { ...base, ...data } as never, select: { id: true } });
          // What the old dialog stored: no form in a single-form category.
          const repairedTransfer = await make({
            categoryId: needy!.id,
            status: 'approved',
            amountFen: 80_000,
            bankName: '农业银行',
            bankCardEnc: 'v1:x',
          });
          const repairedGoods = await make({ categoryId: front!.id, status: 'submitted', amountFen: 15_000 });
          // Cannot be repaired: several forms to choose from; a transfer without a card.
          const noForm = await make({ categoryId: gig!.id, status: 'approved', amountFen: 20_000 });
          const noCard = await make({ categoryId: needy!.id, status: 'submitted', amountFen: 80_000 });
          // Drafts and returned ones are still being written: repaired if possible, never listed.
          const draft = await make({ categoryId: needy!.id, status: 'draft' });

          await applyMigrations(url);

          const form = async (id: number) =>
            (await db.nomination.findUniqueOrThrow({ where: { id } })).benefitForm;
          expect(await form(repairedTransfer.id)).toBe('transfer');
          expect(await form(repairedGoods.id)).toBe('in_kind');
          expect(await form(noForm.id)).toBeNull();
          expect(await form(noCard.id)).toBe('transfer');
          expect(await form(draft.id)).toBe('transfer');

          const listed = await listPayableViolations(db);
          expect(listed.map((v) => [v.id, v.gaps])).toEqual([
            [noForm.id, ['benefit_form']],
            [noCard.id, ['bank_name', 'bank_card']],
          ]);
          // Still as they were (status unchanged), and staff can return them for correction.
          expect((await db.nomination.findUniqueOrThrow({ where: { id: noCard.id } })).status).toBe(
            'submitted',
          );
          await db.nomination.update({ where: { id: noCard.id }, data: { status: 'returned' } });

          // A new broken row is refused by the database itself.
          await expect(
            make({ categoryId: needy!.id, status: 'submitted', amountFen: 80_000, benefitForm: 'transfer' }),
          ).rejects.toThrow(/nomination_payable_check/);
          await expect(
            make({ categoryId: front!.id, status: 'approved', benefitForm: 'in_kind' }),
          ).rejects.toThrow(/nomination_payable_check/);
        } finally {
          await db.$disconnect();
        }
      });
    } finally {
      await rm(before, { recursive: true, force: true });
    }
  }, 120_000);
});
