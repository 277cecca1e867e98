import type { Nomination } from '../../generated/prisma/client.ts';
import { nominationOpenWhere } from '../campaigns.ts';
import type { FieldCipher } from '../../adapters/crypto/field-cipher.ts';
import { type Db, Prisma } from '../../adapters/db/client.ts';
import type { CategoryInfo } from '../../domain/nomination/form.ts';

export interface NominationDeps {
  db: Db;
  cipher: FieldCipher;
  now: () => Date;
  /** Called after a submission or resubmission committed (queues the review task); must not throw. */
  onSubmitted?: (r: { id: number; revision: number }) => Promise<void>;
}

/** Statuses that hold a place: they count for duplicates, quotas, budget and yearly caps. */
export const LIVE_STATUSES = [
  'submitted',
  'returned',
  'pending_second_approval',
  'approved',
  'in_batch',
  'paid',
  'payment_failed',
  'handed_over',
] as const;

export const EDITABLE_STATUSES = ['draft', 'returned'] as const;

export function toCategoryInfo(c: {
  id: number;
  code: string;
  kind: string;
  nameZh: string;
  nameEn: string;
  standardAmountFen: number;
  benefitForms: string[];
  requiredFields: string[];
  quotaPerUnion: number | null;
  yearlyCapFen: number | null;
}): CategoryInfo {
  return {
    id: c.id,
    code: c.code,
    kind: c.kind,
    nameZh: c.nameZh,
    nameEn: c.nameEn,
    standardAmountFen: c.standardAmountFen,
    benefitForms: [...c.benefitForms],
    requiredFields: [...c.requiredFields],
    quotaPerUnion: c.quotaPerUnion,
    yearlyCapFen: c.yearlyCapFen,
  };
}

/** Campaigns open for nomination at `now`. */
export async function openCampaigns(db: Db, now: Date) {
  return db.campaign.findMany({
    where: nominationOpenWhere(now),
    include: { categories: { orderBy: [{ sortOrder: 'asc' }, { id: 'asc' }] } },
    orderBy: { nominationClosesAt: 'asc' },
  });
}

/** The fields of a nomination a revision snapshot keeps (sensitive ones stay encrypted). */
export type SnapshotSource = Pick<
  Nomination,
  | 'fullName'
  | 'idNumberEnc'
  | 'sex'
  | 'phoneEnc'
  | 'employer'
  | 'workStatus'
  | 'modelWorkerLevel'
  | 'hardshipTier'
  | 'mainCause'
  | 'secondaryCauses'
  | 'description'
  | 'benefitForm'
  | 'bankName'
  | 'bankCardEnc'
  | 'bankCardLast4'
>;

/** What is stored in NominationRevision.snapshot at each submission (dialog and spreadsheet alike). */
export function revisionSnapshot(n: SnapshotSource, cat: CategoryInfo, flags: string[]) {
  return {
    categoryId: cat.id,
    fullName: n.fullName,
    idNumberEnc: n.idNumberEnc,
    sex: n.sex,
    phoneEnc: n.phoneEnc,
    employer: n.employer,
    workStatus: n.workStatus,
    modelWorkerLevel: n.modelWorkerLevel,
    hardshipTier: n.hardshipTier,
    mainCause: n.mainCause,
    secondaryCauses: n.secondaryCauses,
    description: n.description,
    benefitForm: n.benefitForm,
    bankName: n.bankName,
    bankCardEnc: n.bankCardEnc,
    bankCardLast4: n.bankCardLast4,
    amountFen: cat.standardAmountFen,
    flags,
  };
}

/**
 * `revisionSnapshot` in SQL, for set-based submits: the snapshot of nomination row `n` (after its
 * submit update set the benefit form and flags), plus `extra`. Same keys and values as
 * `revisionSnapshot` (test/integration/nomination-import.test.ts compares them).
 */
export function revisionSnapshotSql(cat: CategoryInfo, extra: Record<string, string>): Prisma.Sql {
  const more = Object.entries(extra).map(([k, v]) => Prisma.sql`, ${k}::text, ${v}::text`);
  return Prisma.sql`jsonb_build_object('categoryId', ${cat.id}::int, 'fullName', n.full_name,
    'idNumberEnc', n.id_number_enc, 'sex', n.sex, 'phoneEnc', n.phone_enc, 'employer', n.employer,
    'workStatus', n.work_status, 'modelWorkerLevel', n.model_worker_level, 'hardshipTier', n.hardship_tier,
    'mainCause', n.main_cause, 'secondaryCauses', to_jsonb(n.secondary_causes), 'description', n.description,
    'benefitForm', n.benefit_form, 'bankName', n.bank_name, 'bankCardEnc', n.bank_card_enc,
    'bankCardLast4', n.bank_card_last4, 'amountFen', ${cat.standardAmountFen}::int,
    'flags', to_jsonb(n.flags)${Prisma.join(more, '')})`;
}
