import { formatYuan } from '../../domain/campaign/money.ts';
import { shanghaiDateOf } from '../../domain/calendar/date.ts';
import { validateIdNumber } from '../../domain/identity/id-number.ts';
import { stepsFor } from '../../domain/nomination/form.ts';
import type { Db } from '../../adapters/db/client.ts';
import type { FieldCipher } from '../../adapters/crypto/field-cipher.ts';
import {
  budgetRemaining,
  duplicateFacts,
  quotaRemaining,
  yearlyAmount,
} from '../nominations/entry-checks.ts';
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

type NominationForChecks = NonNullable<Awaited<ReturnType<typeof loadForChecks>>>;

export function loadForChecks(db: Db, id: number) {
  return db.nomination.findUnique({
    where: { id },
    include: { campaign: true, category: true, union: { select: { name: true } } },
  });
}

export async function automaticChecks(
  deps: { db: Db; cipher: FieldCipher; now: () => Date },
  n: NominationForChecks,
): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  const { db } = deps;
  // 1. ID number rules (check digit, region, birth date) on the decrypted value; never shown in clear.
  if (n.idNumberEnc) {
    const r = validateIdNumber(deps.cipher.decrypt(n.idNumberEnc), { today: shanghaiDateOf(deps.now()) });
    if (r.ok) out.push({ code: 'id_ok', level: 'ok', params: { age: r.age } });
    else out.push({ code: 'id_invalid', level: 'fail', params: { rule: r.code } });
  }
  // 2. Duplicates in this campaign (any union) and earlier campaigns.
  if (n.idNumberHash) {
    const dup = await duplicateFacts(db, {
      campaignId: n.campaignId,
      idHash: n.idNumberHash,
      excludeId: n.id,
    });
    if (dup.blocking)
      out.push({
        code: 'duplicate_here',
        level: 'fail',
        params: {
          id: dup.blocking.nominationId,
          union: dup.blocking.unionName,
          status: `@status.${dup.blocking.status}`,
        },
      });
    else out.push({ code: 'no_duplicate', level: 'ok', params: {} });
    if (dup.earlier.length > 0)
      out.push({ code: 'earlier', level: 'warn', params: { n: dup.earlier.length } });
  }
  // 3. Flags raised at entry (self-nomination, shared phone, card checksum …).
  for (const f of n.flags) out.push({ code: 'flag', level: 'warn', params: { flag: `@flags.${f}` } });
  // 4. Quota and budget position, yearly cap.
  if (n.category) {
    const cat = n.category;
    const quota = await quotaRemaining(db, {
      unionId: n.unionId,
      categoryId: cat.id,
      quota: cat.quotaPerUnion,
      excludeId: n.id,
    });
    if (quota !== null)
      out.push({
        code: 'quota',
        level: quota < 1 ? 'fail' : 'ok',
        params: { used: (cat.quotaPerUnion ?? 0) - quota, quota: cat.quotaPerUnion ?? 0 },
      });
    const budget = await budgetRemaining(db, {
      campaignId: n.campaignId,
      budgetFen: n.campaign.budgetTotalFen,
      excludeId: n.id,
    });
    const amount = BigInt(n.amountFen ?? cat.standardAmountFen);
    out.push({
      code: 'budget',
      level: budget < amount ? 'fail' : 'ok',
      params: { left: formatYuan(Number(budget > 0n ? budget : 0n)) },
    });
    if (cat.yearlyCapFen !== null && n.idNumberHash) {
      const year = Number(n.campaign.targetPaymentDate.toISOString().slice(0, 4));
      const already = await yearlyAmount(db, { idHash: n.idNumberHash, year, excludeId: n.id });
      if (already + Number(amount) > cat.yearlyCapFen)
        out.push({
          code: 'yearly_cap',
          level: 'fail',
          params: { cap: formatYuan(cat.yearlyCapFen), already: formatYuan(already) },
        });
    }
    // 5. Required fields (the card's "documents"): anything the category needs that is empty.
    const steps = stepsFor(toCategoryInfo(cat), n.benefitForm);
    const fields = [
      ...cat.requiredFields,
      ...(steps.includes('bank_card') ? ['bank_name', 'bank_card'] : []),
    ];
    const missing = [...new Set(fields)].filter((f) =>
      (FIELD_COLUMNS[f] ?? []).some((col) => {
        const v = (n as unknown as Record<string, unknown>)[col];
        return v === null || v === undefined || v === '';
      }),
    );
    out.push(
      missing.length
        ? { code: 'missing', level: 'fail', params: { fields: missing.map((f) => `@field.${f}`).join(',') } }
        : { code: 'complete', level: 'ok', params: {} },
    );
  } else out.push({ code: 'missing', level: 'fail', params: { fields: '@field.category' } });
  return out;
}
