import type { PrismaClient } from '../../src/generated/prisma/client.ts';
import { recordEntryBlocked } from '../../src/usecases/report/figures.ts';

// The county evaluation report's campaign, seeded with createMany: 8 departments, 58 needy workers,
// 4 needy model workers, 86 new-employment-form workers and 434 frontline workers delivered, amounts
// chosen so the direct spending is the report's 99,900 yuan (+ 50,000 allocated to grassroots unions),
// plus nominations in every other state, decisions, notices, receipts, follow-ups and entry dates.
// `EXPECTED` holds the hand-computed figures.

export const sh = (s: string) => new Date(`${s.replace(' ', 'T')}:00+08:00`);

export const NOW = sh('2026-04-02 10:00');
const SUBMITTED = sh('2026-01-10 10:00');
const LATE = sh('2026-01-21 10:00');
const PAID_EARLY = sh('2026-02-10 15:00'); // deadline 2026-03-30 (30 working days over the Spring Festival)
const PAID_LATE = sh('2026-03-20 15:00'); // deadline 2026-05-07

export const EXPECTED = {
  recipients: {
    department: 8,
    needy_worker: 58,
    needy_model_worker: 4,
    gig_worker: 86,
    frontline_worker: 434,
  },
  amountYuan: {
    department: 10_600,
    needy_worker: 46_400,
    needy_model_worker: 4_000,
    gig_worker: 17_200,
    frontline_worker: 21_700,
  },
  recipientsTotal: 590,
  directFen: 9_990_000,
  unionsFen: 5_000_000,
  spentFen: 14_990_000,
  balanceFen: 10_000,
  approved: 593,
  nominated: 600,
  submission: { num: 595, den: 600 },
  review: { num: 587, den: 597 },
  // Every recipient is entered: 112 paid and 478 handed over (all of those on time).
  entry: {
    required: 590,
    entered: 540,
    enteredOnTime: 538,
    enteredLate: 2,
    due: 10,
    overdue: 40,
    nextDeadline: '2026-05-07',
  },
  reach: { num: 500, den: 590 },
  noticeStatus: { sent: 500, failed: 5, unreachable: 3 },
  followUp: {
    num: 320,
    den: 590,
    confirmedByRecipient: 300,
    confirmedByStaff: 20,
    notReceived: 4,
    openFollowUps: 7,
  },
  returned: {
    decisions: 3,
    nominations: 2,
    byReason: [
      { reason: 'missing_documents', count: 2 },
      { reason: 'info_false', count: 1 },
    ],
  },
  rejected: {
    decisions: 3,
    nominations: 3,
    byReason: [
      { reason: 'duplicate', count: 2 },
      { reason: 'not_eligible', count: 1 },
    ],
  },
  duplicatesBlocked: 4,
  idErrorsCaught: 6,
  flags: [
    { reason: 'earlier_campaign', count: 3 },
    { reason: 'luhn_warning', count: 1 },
    { reason: 'shared_phone', count: 1 },
  ],
};

type Status =
  | 'draft'
  | 'submitted'
  | 'returned'
  | 'approved'
  | 'rejected'
  | 'withdrawn'
  | 'paid'
  | 'payment_failed'
  | 'handed_over';

/** `cipher` encrypts the bank cards of transfer nominations (past the draft they must carry one). */
export async function seedCountyCampaign(
  db: PrismaClient,
  code: string,
  cipher: { encrypt(value: string): string },
) {
  const card = cipher.encrypt('6228480012345678907');
  const fed =
    (await db.federation.findFirst()) ?? (await db.federation.create({ data: { name: '富民县总工会' } }));
  const union = await db.union.create({ data: { federationId: fed.id, name: `县总工会直属工会-${code}` } });
  const person = await db.person.create({ data: { displayName: '联系人' } });
  const campaign = await db.campaign.create({
    data: {
      code,
      federationId: fed.id,
      titleZh: '2026年元旦春节送温暖活动',
      titleEn: 'New Year and Spring Festival 2026 Send Warmth',
      organiser: '富民县总工会',
      status: 'closed',
      budgetTotalFen: 15_000_000n,
      budgetUnionsFen: 5_000_000n,
      nominationOpensAt: sh('2026-01-02 09:00'),
      nominationClosesAt: sh('2026-01-20 18:00'),
      reviewDeadline: sh('2026-01-27 18:00'),
      targetPaymentDate: new Date('2026-02-10T00:00:00Z'),
      entryWorkingDays: 30,
      settings: { reviewSlaHours: 48 },
    },
  });
  const cat = async (
    code: string,
    kind: 'department' | 'needy_worker' | 'needy_model_worker' | 'gig_worker' | 'frontline_worker',
    nameZh: string,
    yuan: number,
    order: number,
  ) =>
    db.campaignCategory.create({
      data: {
        campaignId: campaign.id,
        code,
        nameZh,
        nameEn: code,
        kind,
        standardAmountFen: yuan * 100,
        benefitForms:
          kind === 'department'
            ? ['unit_condolence']
            : kind === 'frontline_worker'
              ? ['in_kind']
              : ['transfer'],
        requiredFields: ['name'],
        sortOrder: order,
      },
    });
  const dept = await cat('department', 'department', '节日期间坚守公共服务保障的部门', 1325, 0);
  const needy = await cat('needy_worker', 'needy_worker', '困难职工', 800, 1);
  const model = await cat('needy_model_worker', 'needy_model_worker', '困难劳模', 1000, 2);
  const gig = await cat('gig_worker', 'gig_worker', '新就业形态劳动者', 200, 3);
  const front = await cat(
    'frontline_worker',
    'frontline_worker',
    '春节期间应急值守的公共服务行业一线职工',
    50,
    4,
  );

  let seq = 0;
  const add = async (
    n: number,
    k: { id: number; standardAmountFen: number },
    status: Status,
    form: 'transfer' | 'in_kind' | 'unit_condolence',
    extra: { submittedAt?: Date | null; decidedAt?: Date | null; flags?: string[] } = {},
  ): Promise<number[]> => {
    const tag = `seed-${code}-${seq++}`;
    const submittedAt = extra.submittedAt === undefined ? SUBMITTED : extra.submittedAt;
    const decided =
      extra.decidedAt !== undefined
        ? extra.decidedAt
        : ['submitted', 'draft', 'withdrawn'].includes(status) || !submittedAt
          ? null
          : new Date(submittedAt.getTime() + 24 * 3600_000);
    await db.nomination.createMany({
      data: Array.from({ length: n }, (_, i) => ({
        campaignId: campaign.id,
        categoryId: k.id,
        unionId: union.id,
        submittedById: person.id,
        status,
        fullName: `受慰问${seq}-${i}`,
        benefitForm: form,
        amountFen: k.standardAmountFen,
        ...(form === 'transfer'
          ? { bankName: '中国农业银行', bankCardEnc: card, bankCardLast4: '8907' }
          : {}),
        ...(form === 'unit_condolence' ? { employer: `受慰问部门${seq}-${i}` } : {}),
        submittedAt,
        decidedAt: decided,
        flags: extra.flags ?? [],
        source: tag,
      })),
    });
    const rows = await db.nomination.findMany({
      where: { source: tag },
      select: { id: true },
      orderBy: { id: 'asc' },
    });
    return rows.map((r) => r.id);
  };

  const depts = await add(8, dept, 'handed_over', 'unit_condolence');
  const needyPaid = await add(58, needy, 'paid', 'transfer');
  const modelPaid = await add(4, model, 'paid', 'transfer');
  const gigPaid = await add(50, gig, 'paid', 'transfer');
  const gigGoods = await add(36, gig, 'handed_over', 'in_kind');
  const frontGoods = await add(434, front, 'handed_over', 'in_kind');
  const unpaid = await add(2, needy, 'approved', 'transfer');
  const failed = await add(1, needy, 'payment_failed', 'transfer');
  const rejected = await add(3, needy, 'rejected', 'transfer', { submittedAt: LATE });
  const returned = await add(1, needy, 'returned', 'transfer');
  await add(1, needy, 'withdrawn', 'transfer');
  await add(2, needy, 'submitted', 'transfer', { submittedAt: LATE });
  await add(1, needy, 'draft', 'transfer', { submittedAt: null });
  // Review outside the 48 h SLA for 10 frontline items.
  await db.nomination.updateMany({
    where: { id: { in: frontGoods.slice(0, 10) } },
    data: { decidedAt: new Date(SUBMITTED.getTime() + 72 * 3600_000) },
  });
  // Flags raised at entry.
  await db.nomination.updateMany({
    where: { id: { in: unpaid.concat(failed) } },
    data: { flags: ['earlier_campaign'] },
  });
  await db.nomination.update({
    where: { id: returned[0]! },
    data: { flags: ['luhn_warning', 'shared_phone'] },
  });

  // Payments: 102 paid before the Spring Festival, 10 in March.
  const paid = [...needyPaid, ...modelPaid, ...gigPaid];
  const amountOf = new Map<number, number>();
  for (const id of needyPaid) amountOf.set(id, 80_000);
  for (const id of modelPaid) amountOf.set(id, 100_000);
  for (const id of gigPaid) amountOf.set(id, 20_000);
  const batch = await db.paymentBatch.create({
    data: { campaignId: campaign.id, code: `batch-${code}`, status: 'reconciled', createdById: person.id },
  });
  await db.payment.createMany({
    data: paid.map((id, i) => ({
      batchId: batch.id,
      nominationId: id,
      amountFen: amountOf.get(id)!,
      status: 'paid' as const,
      paidAt: i < 102 ? PAID_EARLY : PAID_LATE,
    })),
  });
  // A failed attempt before the successful one changes nothing.
  const batch2 = await db.paymentBatch.create({
    data: { campaignId: campaign.id, code: `batch2-${code}`, status: 'reconciled', createdById: person.id },
  });
  await db.payment.create({
    data: {
      batchId: batch2.id,
      nominationId: needyPaid[0]!,
      amountFen: 80_000,
      status: 'failed',
      failureReason: 'x',
    },
  });
  await db.payment.create({
    data: {
      batchId: batch2.id,
      nominationId: failed[0]!,
      amountFen: 80_000,
      status: 'failed',
      failureReason: 'x',
    },
  });
  // Goods and unit condolences were handed over on 10 Feb and entered on time, like most payments.
  const handedOver = [...depts, ...gigGoods, ...frontGoods];
  await db.handover.createMany({
    data: handedOver.map((nominationId) => ({
      nominationId,
      handedOverOn: new Date('2026-02-10T00:00:00Z'),
      handedOverBy: '县总工会',
      recordedById: person.id,
    })),
  });
  await db.nomination.updateMany({
    where: { id: { in: handedOver } },
    data: { enteredProvincialAt: sh('2026-03-05 16:00') },
  });
  // Provincial entry of payments: 60 on time, 2 late (deadline 2026-03-30), 40 overdue, 10 (paid in
  // March) due.
  await db.nomination.updateMany({
    where: { id: { in: paid.slice(0, 60) } },
    data: { enteredProvincialAt: sh('2026-03-05 16:00') },
  });
  await db.nomination.updateMany({
    where: { id: { in: paid.slice(60, 62) } },
    data: { enteredProvincialAt: sh('2026-03-31 09:00') },
  });

  // Notices: 100 payment + 400 handover sent; 5 failed, 3 unreachable (other recipients).
  const delivered = [...depts, ...paid, ...gigGoods, ...frontGoods];
  const goods = [...depts, ...gigGoods, ...frontGoods];
  const notice = (id: number, kind: 'payment' | 'handover', status: 'sent' | 'failed' | 'unreachable') => ({
    uniqueKey: `${kind}-${id}`,
    kind,
    nominationId: id,
    status,
    template: 'x',
  });
  await db.notice.createMany({
    data: [
      ...paid.slice(0, 100).map((id) => notice(id, 'payment', 'sent')),
      ...goods.slice(0, 400).map((id) => notice(id, 'handover', 'sent')),
      ...paid.slice(100, 105).map((id) => notice(id, 'payment', 'failed')),
      ...goods.slice(400, 403).map((id) => notice(id, 'handover', 'unreachable')),
      // Not about delivery: ignored.
      {
        uniqueKey: `decision-${unpaid[0]}`,
        kind: 'decision' as const,
        nominationId: unpaid[0]!,
        status: 'sent' as const,
        template: 'x',
      },
    ],
  });
  // Receipts: 300 confirmed by the recipient, 4 "not received"; 20 more confirmed by staff follow-up;
  // 2 closed follow-ups on already-confirmed ones count once; 7 open follow-ups.
  const audit = (id: number, action: string) => ({
    action,
    entity: 'nomination',
    entityId: String(id),
    actorId: null,
  });
  await db.auditLog.createMany({
    data: [
      ...delivered.slice(0, 300).map((id) => audit(id, 'receipt.received')),
      ...delivered.slice(300, 304).map((id) => audit(id, 'receipt.not_received')),
    ],
  });
  const fu = (id: number, status: 'open' | 'closed', kind: 'no_answer' | 'not_received' = 'no_answer') => ({
    nominationId: id,
    kind,
    status,
    ...(status === 'closed' ? { outcome: '电话回访，已确认收到', closedAt: NOW } : {}),
  });
  await db.followUp.createMany({
    data: [
      ...delivered.slice(310, 330).map((id) => fu(id, 'closed')),
      ...delivered.slice(0, 2).map((id) => fu(id, 'closed')),
      ...delivered.slice(300, 304).map((id) => fu(id, 'open', 'not_received')),
      ...delivered.slice(340, 343).map((id) => fu(id, 'open')),
    ],
  });
  // Review decisions: returns and rejections with reasons.
  await db.reviewDecision.createMany({
    data: [
      {
        nominationId: returned[0]!,
        revision: 1,
        kind: 'return',
        reviewerId: person.id,
        reason: 'missing_documents',
      },
      {
        nominationId: returned[0]!,
        revision: 2,
        kind: 'return',
        reviewerId: person.id,
        reason: 'missing_documents',
      },
      {
        nominationId: needyPaid[1]!,
        revision: 1,
        kind: 'return',
        reviewerId: person.id,
        reason: 'info_false',
      },
      { nominationId: needyPaid[1]!, revision: 2, kind: 'approve', reviewerId: person.id },
      { nominationId: rejected[0]!, revision: 1, kind: 'reject', reviewerId: person.id, reason: 'duplicate' },
      { nominationId: rejected[1]!, revision: 1, kind: 'reject', reviewerId: person.id, reason: 'duplicate' },
      {
        nominationId: rejected[2]!,
        revision: 1,
        kind: 'reject',
        reviewerId: person.id,
        reason: 'not_eligible',
      },
    ],
  });
  // Entries refused at entry.
  for (let i = 0; i < 4; i++)
    await recordEntryBlocked(db, {
      campaignId: campaign.id,
      actorId: person.id,
      reason: 'duplicate',
      source: 'dialog',
    });
  for (let i = 0; i < 6; i++)
    await recordEntryBlocked(db, {
      campaignId: campaign.id,
      actorId: person.id,
      reason: 'id_invalid',
      source: 'sheet',
    });

  return { campaign, union, person, categories: { dept, needy, model, gig, front }, paid, delivered, unpaid };
}
