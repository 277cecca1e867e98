/**
 * Differences between two revision snapshots of a nomination (what the contact changed after a return).
 * Sensitive fields are stored encrypted with a random IV, so ciphertexts always differ: the caller passes
 * `reveal`, which turns such a value into a comparable display form (decrypted, then masked).
 */

/** Snapshot keys in display order → field name used for labels (locale field.<name>). */
export const SNAPSHOT_FIELDS = [
  ['categoryId', 'category'],
  ['fullName', 'name'],
  ['idNumberEnc', 'id_number'],
  ['birthDate', 'birth_date'],
  ['sex', 'sex'],
  ['phoneEnc', 'phone'],
  ['employer', 'employer'],
  ['workStatus', 'work_status'],
  ['modelWorkerLevel', 'model_worker_level'],
  ['hardshipTier', 'hardship_tier'],
  ['mainCause', 'main_cause'],
  ['secondaryCauses', 'secondary_causes'],
  ['description', 'description'],
  ['benefitForm', 'benefit_form'],
  ['bankName', 'bank_name'],
  ['bankCardLast4', 'bank_card'],
  ['amountFen', 'amount'],
] as const;

export const ENCRYPTED_SNAPSHOT_FIELDS = ['idNumberEnc', 'phoneEnc'] as const;

export interface FieldChange {
  field: string;
  before: string;
  after: string;
}

const show = (v: unknown): string => {
  if (v === null || v === undefined || v === '') return '—';
  if (Array.isArray(v)) return v.length ? v.map(String).join('、') : '—';
  return String(v);
};

export function diffSnapshots(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
  /** Decrypts an encrypted value: `value` is compared, `display` (masked) is shown. */
  reveal: (key: string, value: unknown) => { value: string; display: string },
): FieldChange[] {
  const out: FieldChange[] = [];
  const none = { value: '', display: '—' };
  for (const [key, field] of SNAPSHOT_FIELDS) {
    if ((ENCRYPTED_SNAPSHOT_FIELDS as readonly string[]).includes(key)) {
      const a = before[key] ? reveal(key, before[key]) : none;
      const b = after[key] ? reveal(key, after[key]) : none;
      if (a.value !== b.value) out.push({ field, before: a.display, after: b.display });
      continue;
    }
    const a = show(before[key]);
    const b = show(after[key]);
    if (a !== b) out.push({ field, before: a, after: b });
  }
  return out;
}
