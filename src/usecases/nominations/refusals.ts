import { isSerializationFailure, uniqueViolation } from '../../adapters/db/client.ts';
import { formatYuan } from '../../domain/campaign/money.ts';
import type { Refusal } from '../../domain/nomination/admission.ts';
import { DomainError } from '../../domain/errors.ts';

// How an admission refusal is told, in one place. A contact learns what they need and no more: a
// duplicate of their own union's nomination names its number and status; one by another union says
// only that the person is already nominated (who and how far it got is not theirs to know). The same
// for a person a union reported paying from its allocation.

export interface Told {
  code: string;
  params: Record<string, string | number>;
}

/** The locale codes a refusal is told with, in the dialog (`errors.*`) and in a sheet (`upload.row.*`). */
const CODES = {
  dialog: {
    duplicate: 'nomination_duplicate',
    duplicate_other: 'nomination_duplicate_other',
    paid_by_union: 'nomination_paid_by_union',
    paid_by_union_other: 'nomination_paid_by_union_other',
    yearly_cap: 'nomination_yearly_cap',
    quota: 'nomination_quota_full',
    budget: 'nomination_budget_exhausted',
  },
  sheet: {
    duplicate: 'duplicate_existing',
    duplicate_other: 'duplicate_other',
    paid_by_union: 'paid_by_union',
    paid_by_union_other: 'paid_by_union_other',
    yearly_cap: 'yearly_cap',
    quota: 'quota_exceeded',
    budget: 'budget_exceeded',
  },
} as const;

function tell(r: Refusal, contactUnionId: number, codes: (typeof CODES)[keyof typeof CODES]): Told {
  const p = r.params;
  switch (r.reason) {
    case 'duplicate':
      return p['unionId'] === contactUnionId
        ? { code: codes.duplicate, params: { id: p['nominationId']!, status: p['status']! } }
        : { code: codes.duplicate_other, params: {} };
    case 'paid_by_union':
      // The contact's own union reported it: they may see the amount; another union's: only the fact.
      return p['unionId'] === contactUnionId
        ? { code: codes.paid_by_union, params: { amount: formatYuan(Number(p['amountFen'])) } }
        : { code: codes.paid_by_union_other, params: {} };
    case 'yearly_cap':
      return {
        code: codes.yearly_cap,
        params: { cap: formatYuan(Number(p['capFen'])), already: formatYuan(Number(p['alreadyFen'])) },
      };
    case 'quota':
      return { code: codes.quota, params: { quota: p['quota']!, remaining: p['remaining'] ?? 0 } };
    case 'budget':
      return {
        code: codes.budget,
        params: { remaining: formatYuan(Number(p['remainingFen'])), places: p['places'] ?? 0 },
      };
  }
}

/** The refusal as the dialog tells it (locale `errors.<code>`). */
export const refusalMessage = (r: Refusal, contactUnionId: number): Told =>
  tell(r, contactUnionId, CODES.dialog);

/** The refusal as a spreadsheet row's problem (locale `upload.row.<code>`). */
export const refusalIssue = (r: Refusal, contactUnionId: number): Told =>
  tell(r, contactUnionId, CODES.sheet);

export function refusalError(r: Refusal, contactUnionId: number): DomainError {
  const t = refusalMessage(r, contactUnionId);
  return new DomainError(t.code, t.params);
}

/**
 * Runs a transaction body again when PostgreSQL says another transaction got in the way (a serialization
 * failure or a deadlock)
 * (and, when asked, on a unique violation: the racing row is then seen by the re-check). At most eight
 * attempts; the last error is thrown.
 */
export async function retryConflicts<T>(
  work: () => Promise<T>,
  opts: { alsoUnique?: boolean; attempts?: number } = {},
): Promise<T> {
  const attempts = opts.attempts ?? 8;
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      const again =
        isSerializationFailure(err) || (opts.alsoUnique === true && uniqueViolation(err) !== undefined);
      if (!again || attempt >= attempts) throw err;
      // A short, growing, jittered pause so the colliding transactions do not meet again at once.
      await new Promise((r) => setTimeout(r, Math.random() * 20 * attempt));
    }
  }
}
