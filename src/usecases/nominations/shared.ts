import type { Nomination } from '../../generated/prisma/client.ts';
import { nominationOpenWhere } from '../campaigns.ts';
import type { FieldCipher } from '../../adapters/crypto/field-cipher.ts';
import type { Db } from '../../adapters/db/client.ts';
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
