import { Prisma, uniqueViolation } from '../../adapters/db/client.ts';
import { formatYuan } from '../../domain/campaign/money.ts';
import type { Refusal } from '../../domain/nomination/admission.ts';
import { DomainError } from '../../domain/errors.ts';

// How an admission refusal is told, in one place. A contact learns what they need and no more: a
// duplicate of their own union's nomination names its number and status; one by another union says
// only that the person is already nominated (who and how far it got is not theirs to know).

export interface Told {
  code: string;
  params: Record<string, string | number>;
}

/** The refusal as the dialog tells it (locale `errors.<code>`). */
export function refusalMessage(r: Refusal, contactUnionId: number): Told {
  const p = r.params;
  switch (r.reason) {
    case 'duplicate':
      return p['unionId'] === contactUnionId
        ? { code: 'nomination_duplicate', params: { id: p['nominationId']!, status: p['status']! } }
        : { code: 'nomination_duplicate_other', params: {} };
    case 'yearly_cap':
      return {
        code: 'nomination_yearly_cap',
        params: { cap: formatYuan(Number(p['capFen'])), already: formatYuan(Number(p['alreadyFen'])) },
      };
    case 'quota':
      return { code: 'nomination_quota_full', params: { quota: p['quota']! } };
    case 'budget':
      return {
        code: 'nomination_budget_exhausted',
        params: { remaining: formatYuan(Number(p['remainingFen'])) },
      };
  }
}

/** The refusal as a spreadsheet row's problem (locale `upload.issue.<code>`). */
export function refusalIssue(r: Refusal, contactUnionId: number): Told {
  const p = r.params;
  switch (r.reason) {
    case 'duplicate':
      return p['unionId'] === contactUnionId
        ? { code: 'duplicate_existing', params: { id: p['nominationId']!, status: p['status']! } }
        : { code: 'duplicate_other', params: {} };
    case 'yearly_cap':
      return {
        code: 'yearly_cap',
        params: { cap: formatYuan(Number(p['capFen'])), already: formatYuan(Number(p['alreadyFen'])) },
      };
    case 'quota':
      return { code: 'quota_exceeded', params: { quota: p['quota']!, remaining: p['remaining'] ?? 0 } };
    case 'budget':
      return {
        code: 'budget_exceeded',
        params: { remaining: formatYuan(Number(p['remainingFen'])), places: p['places'] ?? 0 },
      };
  }
}

export function refusalError(r: Refusal, contactUnionId: number): DomainError {
  const t = refusalMessage(r, contactUnionId);
  return new DomainError(t.code, t.params);
}

/**
 * PostgreSQL serialization failure or deadlock: Prisma's P2034, or (when it surfaces at commit) the
 * driver adapter's TransactionWriteConflict with the original 40001 / 40P01 as its cause.
 */
export function serializationFailure(err: unknown): boolean {
  for (
    let e = err as { code?: unknown; message?: unknown; cause?: unknown } | undefined, depth = 0;
    e && depth < 5;
    depth++
  ) {
    if (e instanceof Prisma.PrismaClientKnownRequestError && e.code === 'P2034') return true;
    const text = `${String(e.code ?? '')} ${String((e as { originalCode?: unknown }).originalCode ?? '')} ${String(e.message ?? '')} ${String((e as { kind?: unknown }).kind ?? '')}`;
    if (/\b40001\b|\b40P01\b|could not serialize|deadlock detected|TransactionWriteConflict/i.test(text))
      return true;
    e = e.cause as typeof e;
  }
  return false;
}

/**
 * Runs a serializable transaction body again when PostgreSQL says another transaction got in the way
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
        serializationFailure(err) || (opts.alsoUnique === true && uniqueViolation(err) !== undefined);
      if (!again || attempt >= attempts) throw err;
      // A short, growing, jittered pause so the colliding transactions do not meet again at once.
      await new Promise((r) => setTimeout(r, Math.random() * 20 * attempt));
    }
  }
}
