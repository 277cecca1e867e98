import { describe, expect, it } from 'vitest';
import { cleanupDraftsJob } from '../../src/jobs/cleanup-drafts.ts';
import { seedCampaign, seedContact } from '../support/fixtures.ts';
import { useTestDatabase } from '../support/test-db.ts';

const { db } = useTestDatabase();

describe('abandoned drafts', () => {
  it('expire: the hourly job deletes drafts past their expiry and nothing else', async () => {
    const c = await seedCampaign(db, {
      categories: [{ code: 'needy', kind: 'needy_worker', nameZh: '困难职工', amountYuan: 800 }],
    });
    const { union, person } = await seedContact(db, 42, '测试工会');
    const base = { campaignId: c.id, unionId: union.id, submittedById: person.id };
    const now = new Date('2026-12-01T00:00:00Z');
    await db.nomination.createMany({
      data: [
        { ...base, status: 'draft', fullName: '过期', draftExpiresAt: new Date(now.getTime() - 1000) },
        { ...base, status: 'draft', fullName: '未过期', draftExpiresAt: new Date(now.getTime() + 1000) },
        {
          ...base,
          status: 'submitted',
          fullName: '已提交',
          benefitForm: 'in_kind',
          amountFen: 80_000,
          draftExpiresAt: new Date(now.getTime() - 1000),
        },
      ],
    });
    const outcome = await cleanupDraftsJob.handle(
      { db: db as never, now: () => now },
      {},
      undefined as never,
      undefined as never,
    );
    expect(outcome).toBe('deleted');
    expect((await db.nomination.findMany({ orderBy: { id: 'asc' } })).map((n) => n.fullName)).toEqual([
      '未过期',
      '已提交',
    ]);
    expect(
      await cleanupDraftsJob.handle(
        { db: db as never, now: () => now },
        {},
        undefined as never,
        undefined as never,
      ),
    ).toBe('nothing');
  });
});
