import { maskBankCard, maskIdNumber, maskPhone } from '../../domain/masking.ts';
import type { NominationDeps } from './shared.ts';

// Read models for contacts. Sensitive fields leave this module masked only.

export const PAGE_SIZE = 8;

export async function listMine(deps: NominationDeps, input: { personId: number; page: number }) {
  const where = { submittedById: input.personId, status: { not: 'draft' as const } };
  const [total, rows] = await Promise.all([
    deps.db.nomination.count({ where }),
    deps.db.nomination.findMany({
      where,
      orderBy: { id: 'desc' },
      skip: input.page * PAGE_SIZE,
      take: PAGE_SIZE,
      include: { category: { select: { nameZh: true, nameEn: true } }, campaign: { select: { code: true } } },
    }),
  ]);
  return {
    total,
    pages: Math.max(1, Math.ceil(total / PAGE_SIZE)),
    items: rows.map((r) => ({
      id: r.id,
      fullName: r.fullName ?? '',
      status: r.status,
      categoryZh: r.category?.nameZh ?? '',
      categoryEn: r.category?.nameEn ?? '',
      amountFen: r.amountFen,
    })),
  };
}

export interface NominationView {
  id: number;
  status: string;
  revision: number;
  unionId: number;
  unionName: string;
  campaignTitleZh: string;
  campaignTitleEn: string;
  categoryZh: string;
  categoryEn: string;
  fullName: string | null;
  idNumberMasked: string | null;
  birthDate: string | null;
  sex: string | null;
  phoneMasked: string | null;
  employer: string | null;
  workStatus: string | null;
  modelWorkerLevel: string | null;
  hardshipTier: string | null;
  mainCause: string | null;
  secondaryCauses: string[];
  description: string | null;
  benefitForm: string | null;
  bankName: string | null;
  bankCardMasked: string | null;
  amountFen: number | null;
  flags: string[];
  submittedById: number;
}

/** One nomination with sensitive fields masked (ID 110105********002X, phone 138****5678, card last 4). */
export async function nominationView(deps: NominationDeps, id: number): Promise<NominationView | null> {
  const n = await deps.db.nomination.findUnique({
    where: { id },
    include: { union: true, campaign: true, category: true },
  });
  if (!n) return null;
  return {
    id: n.id,
    status: n.status,
    revision: n.revision,
    unionId: n.unionId,
    unionName: n.union.name,
    campaignTitleZh: n.campaign.titleZh,
    campaignTitleEn: n.campaign.titleEn,
    categoryZh: n.category?.nameZh ?? '',
    categoryEn: n.category?.nameEn ?? '',
    fullName: n.fullName,
    idNumberMasked: n.idNumberEnc ? maskIdNumber(deps.cipher.decrypt(n.idNumberEnc)) : null,
    birthDate: n.birthDate ? n.birthDate.toISOString().slice(0, 10) : null,
    sex: n.sex,
    phoneMasked: n.phoneEnc ? maskPhone(deps.cipher.decrypt(n.phoneEnc)) : null,
    employer: n.employer,
    workStatus: n.workStatus,
    modelWorkerLevel: n.modelWorkerLevel,
    hardshipTier: n.hardshipTier,
    mainCause: n.mainCause,
    secondaryCauses: n.secondaryCauses,
    description: n.description,
    benefitForm:
      n.benefitForm ?? (n.category?.benefitForms.length === 1 ? n.category.benefitForms[0]! : null),
    bankName: n.bankName,
    bankCardMasked: n.bankCardLast4 ? maskBankCard(n.bankCardLast4) : null,
    amountFen: n.amountFen ?? n.category?.standardAmountFen ?? null,
    flags: n.flags,
    submittedById: n.submittedById,
  };
}
