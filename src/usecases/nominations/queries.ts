import { cachedRead } from '../../adapters/db/read-cache.ts';
import { writtenInThisUpdate } from '../../adapters/db/query-scope.ts';
import type { Nomination } from '../../generated/prisma/client.ts';
import { maskBankCard, maskIdNumber, maskPhone } from '../../domain/masking.ts';
import { birthDateOfIdNumber } from '../../domain/identity/id-number.ts';
import { effectiveForm, stepsFor } from '../../domain/nomination/form.ts';
import { editableDraftRow } from './draft-row.ts';
import { EDITABLE_STATUSES, type NominationDeps, toCategoryInfo } from './shared.ts';

// Read models for contacts. Sensitive fields leave this module masked only.

/**
 * The answers of a nomination as a contact may see them: ID number and phone masked, the birth year
 * (from the encrypted ID number: the birth date itself is not stored), the rest as given.
 */
function maskedAnswers(
  deps: Pick<NominationDeps, 'cipher'>,
  n: {
    fullName: string | null;
    idNumberEnc: string | null;
    sex: string | null;
    phoneEnc: string | null;
    employer: string | null;
    workStatus: string | null;
    modelWorkerLevel: string | null;
    hardshipTier: string | null;
    mainCause: string | null;
    secondaryCauses: string[];
  },
  /** The ID number, when the caller has already decrypted it. */
  idNumber?: string | null,
) {
  const id = n.idNumberEnc ? (idNumber ?? deps.cipher.decrypt(n.idNumberEnc)) : null;
  const birth = id ? birthDateOfIdNumber(id) : null;
  return {
    fullName: n.fullName,
    idNumberMasked: id ? maskIdNumber(id) : null,
    birthYear: birth ? Number(birth.slice(0, 4)) : null,
    sex: n.sex,
    phoneMasked: n.phoneEnc ? maskPhone(deps.cipher.decrypt(n.phoneEnc)) : null,
    employer: n.employer,
    workStatus: n.workStatus,
    modelWorkerLevel: n.modelWorkerLevel,
    hardshipTier: n.hardshipTier,
    mainCause: n.mainCause,
    secondaryCauses: n.secondaryCauses,
  };
}

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
  /** The year only: the full date beside a masked ID number would rebuild it. */
  birthYear: number | null;
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
  return toNominationView(deps, n, {
    unionName: n.union.name,
    campaign: n.campaign,
    category: n.category,
  });
}

/** The row of a nomination the view is drawn from (the review card reads it in a statement of its own). */
export type ViewedNomination = Pick<
  Nomination,
  | 'id'
  | 'status'
  | 'revision'
  | 'unionId'
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
  | 'bankCardLast4'
  | 'amountFen'
  | 'flags'
  | 'submittedById'
>;

/**
 * The masked view of a nomination row with its union's name, campaign titles and category. `idNumber`:
 * the ID number when the caller has already decrypted it (decrypted once per card).
 */
export function toNominationView(
  deps: Pick<NominationDeps, 'cipher'>,
  n: ViewedNomination,
  of: {
    unionName: string;
    campaign: { titleZh: string; titleEn: string };
    category: { nameZh: string; nameEn: string; standardAmountFen: number } | null;
  },
  idNumber?: string | null,
): NominationView {
  return {
    id: n.id,
    status: n.status,
    revision: n.revision,
    unionId: n.unionId,
    unionName: of.unionName,
    campaignTitleZh: of.campaign.titleZh,
    campaignTitleEn: of.campaign.titleEn,
    categoryZh: of.category?.nameZh ?? '',
    categoryEn: of.category?.nameEn ?? '',
    ...maskedAnswers(deps, n, idNumber),
    description: n.description,
    benefitForm: n.benefitForm,
    bankName: n.bankName,
    bankCardMasked: n.bankCardLast4 ? maskBankCard(n.bankCardLast4) : null,
    amountFen: n.amountFen ?? of.category?.standardAmountFen ?? null,
    flags: n.flags,
    submittedById: n.submittedById,
  };
}

/**
 * The nomination dialog's view of a draft (or a nomination returned for correction) of this contact:
 * what the questions and the summary show, sensitive values masked, the birth date as a year only.
 */
export async function dialogDraft(deps: NominationDeps, input: { nominationId: number; personId: number }) {
  // Read before every prompt of the dialog (README "Query budgets"): the draft (one statement), then
  // its campaign, union and the campaign's categories in one, from the per-update-checked cache.
  // After an answer, the row its write returned (same update, same chat turn); else one statement (on
  // the pool directly: draft-row.ts).
  const justWritten = writtenInThisUpdate<Nomination>(`nomination:${input.nominationId}`);
  const d =
    justWritten &&
    justWritten.submittedById === input.personId &&
    (EDITABLE_STATUSES as readonly string[]).includes(justWritten.status)
      ? justWritten
      : await editableDraftRow(deps, input);
  if (!d) return null;
  const around = await cachedRead(`dialog-around:${d.campaignId}:${d.unionId}`, () =>
    dialogSurroundings(deps, d.campaignId, d.unionId),
  );
  if (!around) return null;
  const categories = around.categories.map((c) =>
    toCategoryInfo({
      id: c.id,
      code: c.code,
      kind: c.kind,
      nameZh: c.name_zh,
      nameEn: c.name_en,
      standardAmountFen: c.standard_amount_fen,
      benefitForms: c.benefit_forms,
      requiredFields: c.required_fields,
      quotaPerUnion: c.quota_per_union,
      yearlyCapFen: c.yearly_cap_fen,
    }),
  );
  const cat = categories.find((c) => c.id === d.categoryId);
  const returned =
    d.status === 'returned'
      ? await returnedNomination(deps, { nominationId: d.id, personId: input.personId })
      : null;
  return {
    returnComment: returned ? (returned.comment ?? '—') : null,
    id: d.id,
    status: d.status,
    campaign: { id: d.campaignId, titleZh: around.title_zh, titleEn: around.title_en },
    categories,
    category: cat,
    unionName: around.union_name,
    ...maskedAnswers(deps, d),
    description: d.description,
    benefitForm: cat ? (effectiveForm(cat, d.benefitForm) ?? null) : null,
    bankName: d.bankName,
    bankCardLast4: d.bankCardLast4,
    flags: d.flags,
    steps: stepsFor(cat, d.benefitForm),
    answered: d.draftAnswered,
  };
}

/** The campaign's titles, the union's name and the campaign's categories, in one statement. */
async function dialogSurroundings(deps: NominationDeps, campaignId: number, unionId: number) {
  const [around] = await deps.db.$queryRaw<
    {
      title_zh: string;
      title_en: string;
      union_name: string;
      categories: {
        id: number;
        code: string;
        kind: string;
        name_zh: string;
        name_en: string;
        standard_amount_fen: number;
        benefit_forms: string[];
        required_fields: string[];
        quota_per_union: number | null;
        yearly_cap_fen: number | null;
      }[];
    }[]
  >`SELECT c.title_zh, c.title_en, u.name AS union_name,
      COALESCE((SELECT json_agg(cc ORDER BY cc.sort_order, cc.id) FROM campaign_category cc
        WHERE cc.campaign_id = c.id), '[]'::json) AS categories
    FROM campaign c JOIN grassroots_union u ON u.id = ${unionId}::int
    WHERE c.id = ${campaignId}::int`;
  return around ?? null;
}

export type DialogDraft = NonNullable<Awaited<ReturnType<typeof dialogDraft>>>;

/** A nomination of this contact returned for correction, with the reviewer's comment (else null). */
export async function returnedNomination(
  deps: NominationDeps,
  input: { nominationId: number; personId: number },
) {
  const n = await deps.db.nomination.findFirst({
    where: { id: input.nominationId, submittedById: input.personId, status: 'returned' },
    select: { id: true, revision: true },
  });
  if (!n) return null;
  const ret = await deps.db.reviewDecision.findUnique({
    where: { nominationId_revision_kind: { nominationId: n.id, revision: n.revision, kind: 'return' } },
    select: { comment: true },
  });
  return { id: n.id, comment: ret?.comment ?? null };
}

/** Where a nomination belongs (union and campaign), for access checks and follow-up work. */
export async function nominationPlace(deps: Pick<NominationDeps, 'db'>, id: number) {
  return deps.db.nomination.findUnique({
    where: { id },
    select: { id: true, unionId: true, campaignId: true },
  });
}
