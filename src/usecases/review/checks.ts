import { formatYuan } from '../../domain/campaign/money.ts';
import { shanghaiDateOf } from '../../domain/calendar/date.ts';
import { validateIdNumber } from '../../domain/identity/id-number.ts';
import { stepsFor } from '../../domain/nomination/form.ts';
import type { Db } from '../../adapters/db/client.ts';
import type { FieldCipher } from '../../adapters/crypto/field-cipher.ts';
import { personRefusals, roomFor } from '../../domain/nomination/admission.ts';
import { type PayableGap, payableGaps } from '../../domain/nomination/intake.ts';
import { loadCandidateFactsAndRoom } from '../nominations/admission-facts.ts';
import { toCategoryInfo } from '../nominations/shared.ts';

// Automatic checks shown on the review card before any decision. They re-run the entry checks against
// today's data (others may have been submitted since) and add what a reviewer needs to see at a glance.
// Each check is a locale key (review.check.<code>) with a level and non-sensitive parameters.

export type CheckLevel = 'ok' | 'warn' | 'fail';
export interface CheckResult {
  code: string;
  level: CheckLevel;
  params: Record<string, string | number>;
}

/** Nomination columns each required field of a category needs. */
const FIELD_COLUMNS: Record<string, string[]> = {
  name: ['fullName'],
  id_number: ['idNumberEnc'],
  phone: ['phoneEnc'],
  employer: ['employer'],
  work_status: ['workStatus'],
  model_worker_level: ['modelWorkerLevel'],
  hardship: ['hardshipTier', 'mainCause'],
  description: ['description'],
  bank_name: ['bankName'],
  bank_card: ['bankCardEnc'],
};

/** What the checks read of a nomination, its campaign and its category (loadForChecks, or a card's row). */
export interface NominationForChecks {
  id: number;
  campaignId: number;
  unionId: number;
  fullName: string | null;
  idNumberEnc: string | null;
  idNumberHash: string | null;
  phoneEnc: string | null;
  phoneHash: string | null;
  employer: string | null;
  workStatus: string | null;
  modelWorkerLevel: string | null;
  hardshipTier: string | null;
  mainCause: string | null;
  description: string | null;
  benefitForm: string | null;
  bankName: string | null;
  bankCardEnc: string | null;
  bankCardHash: string | null;
  amountFen: number | null;
  flags: string[];
  campaign: { targetPaymentDate: Date; budgetTotalFen: bigint };
  category: Parameters<typeof toCategoryInfo>[0] | null;
}

export function loadForChecks(db: Db, id: number) {
  return db.nomination.findUnique({
    where: { id },
    include: { campaign: true, category: true, union: { select: { name: true } } },
  });
}

/**
 * `idNumber`: the ID number already decrypted by the caller (the card masks it too), so it is
 * decrypted once per card.
 */
export async function automaticChecks(
  deps: { db: Db; cipher: FieldCipher; now: () => Date },
  n: NominationForChecks,
  idNumber?: string | null,
): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  const { db } = deps;
  // The admission facts and the room in one statement, read while the ID number is checked.
  const cat = n.category ? toCategoryInfo(n.category) : null;
  const factsRead = loadCandidateFactsAndRoom(db, {
    campaignId: n.campaignId,
    targetPaymentDate: n.campaign.targetPaymentDate,
    candidate: { idHash: n.idNumberHash, phoneHash: n.phoneHash, cardHash: n.bankCardHash },
    excludeIds: [n.id],
    room: cat ? { unionId: n.unionId, budgetFen: n.campaign.budgetTotalFen, cat } : null,
  });
  // Awaited below; a failure is not reported as unhandled meanwhile.
  factsRead.catch(() => {});
  // 1. ID number rules (check digit, region, birth date) on the decrypted value; never shown in clear.
  if (n.idNumberEnc) {
    const clear = idNumber ?? deps.cipher.decrypt(n.idNumberEnc);
    const r = validateIdNumber(clear, { today: shanghaiDateOf(deps.now()) });
    if (r.ok) out.push({ code: 'id_ok', level: 'ok', params: { age: r.age } });
    else out.push({ code: 'id_invalid', level: 'fail', params: { rule: r.code } });
  }
  // 2-4. The admission rules of submit, against today's data (others may have been submitted since).
  const { person, room } = await factsRead;
  if (n.idNumberHash) {
    if (person.blocking)
      out.push({
        code: 'duplicate_here',
        level: 'fail',
        params: {
          id: person.blocking.nominationId,
          union: person.blocking.unionName,
          status: `@status.${person.blocking.status}`,
        },
      });
    else out.push({ code: 'no_duplicate', level: 'ok', params: {} });
    // Reported by a union as paid from its allocation in this campaign: the other route of the money.
    if (person.paidByUnion)
      out.push({
        code: 'paid_by_union',
        level: 'fail',
        params: { union: person.paidByUnion.unionName, amount: formatYuan(person.paidByUnion.amountFen) },
      });
    if (person.earlier > 0) out.push({ code: 'earlier', level: 'warn', params: { n: person.earlier } });
  }
  // Flags raised at entry (self-nomination, shared phone, card checksum …).
  for (const f of n.flags) out.push({ code: 'flag', level: 'warn', params: { flag: `@flags.${f}` } });
  if (!cat || !room) {
    out.push({ code: 'missing', level: 'fail', params: { fields: '@field.category' } });
    return out;
  }
  const roomRefusal = roomFor(cat, room);
  if (room.quotaLeft !== null)
    out.push({
      code: 'quota',
      level: roomRefusal?.reason === 'quota' ? 'fail' : 'ok',
      params: { used: room.quotaUsed, quota: cat.quotaPerUnion ?? 0 },
    });
  out.push({
    code: 'budget',
    level: roomRefusal?.reason === 'budget' ? 'fail' : 'ok',
    params: { left: formatYuan(Number(room.budgetLeftFen > 0n ? room.budgetLeftFen : 0n)) },
  });
  for (const r of personRefusals(cat, person))
    if (r.reason === 'yearly_cap')
      out.push({
        code: 'yearly_cap',
        level: 'fail',
        params: {
          cap: formatYuan(Number(r.params['capFen'])),
          already: formatYuan(Number(r.params['alreadyFen'])),
        },
      });
  // 5. Required fields (the card's "documents"), and what the benefit form needs to be paid.
  const steps = stepsFor(cat, n.benefitForm);
  const fields = [...cat.requiredFields, ...(steps.includes('bank_card') ? ['bank_name', 'bank_card'] : [])];
  const missing = [...new Set(fields)].filter((f) =>
    (FIELD_COLUMNS[f] ?? []).some((col) => {
      const v = (n as unknown as Record<string, unknown>)[col];
      return v === null || v === undefined || v === '';
    }),
  );
  const gaps = payableGaps({ ...n, hasBankCard: n.bankCardEnc !== null }).map((g) => GAP_FIELD[g]);
  const all = [...new Set([...missing, ...gaps])];
  out.push(
    all.length
      ? { code: 'missing', level: 'fail', params: { fields: all.map((f) => `@field.${f}`).join(',') } }
      : { code: 'complete', level: 'ok', params: {} },
  );
  return out;
}

/** The field (locale `field.<name>`) a payable gap names. */
const GAP_FIELD: Record<PayableGap, string> = {
  benefit_form: 'benefit_form',
  amount: 'amount',
  bank_name: 'bank_name',
  bank_card: 'bank_card',
  unit: 'department',
};
