import type { CategoryInfo } from './form.ts';

// Admission: may a candidate nomination take a place in the campaign, and which review flags does it
// carry? One pure decision for the chat dialog (one answer at a time), the spreadsheet (a whole file),
// the resubmission after a return and the review card's automatic checks. Only how the facts are
// loaded differs (src/usecases/nominations/admission-facts.ts); the rules live here.
//
// Order of the refusals: duplicate in this campaign, already paid by a union from its allocation in
// this campaign, yearly cap per person, the union's quota for the
// category, the campaign budget. Places (quota, budget) are taken in order, so a file whose rows do not
// all fit keeps its first rows.

/** Facts about the person behind one candidate (every count excludes the candidate itself). */
export interface PersonFacts {
  /** A live nomination of the same ID number in this campaign (any union). */
  blocking?: { nominationId: number; status: string; unionName: string; unionId: number } | undefined;
  /**
   * A grassroots union already reported this ID number as paid from its allocation in this campaign
   * (the other route of the same money: nobody is helped twice).
   */
  paidByUnion?: { unionName: string; unionId: number; amountFen: number } | undefined;
  /** Live nominations of the same ID number in earlier campaigns. */
  earlier: number;
  /**
   * Amount already granted to this ID number in the payment year (fen), for categories with a cap:
   * live nominations plus what unions reported paying the person from their allocations.
   */
  yearlyFen: number;
  /** Someone else's live nomination in this campaign uses the same phone number. */
  sharedPhone: boolean;
  /** Someone else's live nomination in this campaign uses the same bank card (compared by keyed hash). */
  sharedCard?: boolean;
  /** The phone is a staff member's own (a contact, reviewer, finance officer or admin; keyed hash). */
  staffPhone?: boolean;
}

/** The room left in the campaign before this candidate (or this file). */
export interface Room {
  /** Places left for the union in the category (null: the category has no quota). */
  quotaLeft: number | null;
  /** Budget left in the campaign (fen), may be negative. */
  budgetLeftFen: bigint;
}

/** Who is nominating: for the self-nomination flags. */
export interface ContactFacts {
  displayName: string;
  phoneHash: string | null;
}

export interface Candidate {
  fullName: string | null;
  idHash: string | null;
  phoneHash: string | null;
  /** Flags the answers carry already (e.g. 'luhn_warning' confirmed by the contact). */
  answerFlags: readonly string[];
}

export type RefusalReason = 'duplicate' | 'paid_by_union' | 'yearly_cap' | 'quota' | 'budget';
export interface Refusal {
  reason: RefusalReason;
  params: Record<string, string | number>;
}

export type Admission = { ok: true; flags: string[] } | { ok: false; refusal: Refusal };

/** Names compared for self-nomination: width-folded, no spaces or middle dots, case-insensitive. */
export function normaliseName(s: string): string {
  return s
    .normalize('NFKC')
    .replace(/[\s·•\u00B7]/g, '')
    .toLowerCase();
}

/** The flags reviewFlags decides (recomputed on every check; other answer flags are kept). */
export const ADMISSION_FLAGS = [
  'earlier_campaign',
  'self_nomination',
  'self_phone',
  'shared_phone',
  'shared_card',
  'staff_phone',
] as const;

/**
 * Flags a candidate carries into review (sorted). Answer flags other than these are kept.
 * Conflict of interest: the nominating contact's own name or phone (self_*), a phone or bank card
 * another nominee of the campaign also gave (shared_*), a phone that belongs to a staff member
 * (staff_phone). Phones and cards are compared by their keyed hashes (blind index), never in clear.
 */
export function reviewFlags(candidate: Candidate, person: PersonFacts, contact: ContactFacts): string[] {
  const decided: readonly string[] = ADMISSION_FLAGS;
  const flags = new Set(candidate.answerFlags.filter((f) => !decided.includes(f)));
  if (person.earlier > 0) flags.add('earlier_campaign');
  if (candidate.fullName && normaliseName(candidate.fullName) === normaliseName(contact.displayName))
    flags.add('self_nomination');
  if (candidate.phoneHash && contact.phoneHash === candidate.phoneHash) flags.add('self_phone');
  if (person.sharedPhone) flags.add('shared_phone');
  if (person.sharedCard) flags.add('shared_card');
  if (person.staffPhone && !flags.has('self_phone')) flags.add('staff_phone');
  return [...flags].sort();
}

/** Whether the category still has room for one more (the dialog asks this when a category is chosen). */
export function roomFor(cat: CategoryInfo, room: Room): Refusal | undefined {
  if (room.quotaLeft !== null && room.quotaLeft < 1)
    return { reason: 'quota', params: { quota: cat.quotaPerUnion ?? 0, remaining: 0 } };
  if (room.budgetLeftFen < BigInt(cat.standardAmountFen))
    return {
      reason: 'budget',
      params: { remainingFen: Number(room.budgetLeftFen > 0n ? room.budgetLeftFen : 0n), places: 0 },
    };
  return undefined;
}

/** The refusal that concerns the person alone (duplicate, yearly cap), if any. */
export function personRefusal(cat: CategoryInfo, person: PersonFacts): Refusal | undefined {
  return personRefusals(cat, person)[0];
}

/**
 * The person already has a live nomination in this campaign: the same person must not be helped twice,
 * whichever route (a nomination, a union's report of its allocation) the second attempt takes.
 */
export function duplicateRefusal(person: Pick<PersonFacts, 'blocking'>): Refusal | undefined {
  if (!person.blocking) return undefined;
  return {
    reason: 'duplicate',
    params: {
      union: person.blocking.unionName,
      unionId: person.blocking.unionId,
      status: person.blocking.status,
      nominationId: person.blocking.nominationId,
    },
  };
}

/**
 * A grassroots union already reported paying the person from its allocation in this campaign: the
 * federation must not pay them again (the reverse of the union report's check against nominations).
 */
export function paidByUnionRefusal(person: Pick<PersonFacts, 'paidByUnion'>): Refusal | undefined {
  if (!person.paidByUnion) return undefined;
  return {
    reason: 'paid_by_union',
    params: {
      union: person.paidByUnion.unionName,
      unionId: person.paidByUnion.unionId,
      amountFen: person.paidByUnion.amountFen,
    },
  };
}

/** Every refusal that concerns the person alone, in order (the review card shows them all). */
export function personRefusals(cat: CategoryInfo, person: PersonFacts): Refusal[] {
  const out: Refusal[] = [];
  const dup = duplicateRefusal(person);
  if (dup) out.push(dup);
  const paid = paidByUnionRefusal(person);
  if (paid) out.push(paid);
  if (cat.yearlyCapFen !== null && person.yearlyFen + cat.standardAmountFen > cat.yearlyCapFen)
    out.push({ reason: 'yearly_cap', params: { capFen: cat.yearlyCapFen, alreadyFen: person.yearlyFen } });
  return out;
}

/**
 * Decides every candidate in order against one room: each admitted candidate takes a place and its
 * amount from the budget. `persons[i]` are the facts of `candidates[i]`.
 */
export function admitAll(
  cat: CategoryInfo,
  candidates: readonly Candidate[],
  persons: readonly PersonFacts[],
  room: Room,
  contact: ContactFacts,
): Admission[] {
  let quotaLeft = room.quotaLeft;
  let budgetLeft = room.budgetLeftFen;
  const amount = BigInt(cat.standardAmountFen);
  return candidates.map((c, i) => {
    const person = persons[i]!;
    const refusal = personRefusal(cat, person) ?? roomFor(cat, { quotaLeft, budgetLeftFen: budgetLeft });
    if (refusal) {
      if (refusal.reason === 'quota') refusal.params['remaining'] = room.quotaLeft ?? 0;
      if (refusal.reason === 'budget') {
        const left = room.budgetLeftFen > 0n ? room.budgetLeftFen : 0n;
        refusal.params['remainingFen'] = Number(left);
        refusal.params['places'] = amount > 0n ? Number(left / amount) : 0;
      }
      return { ok: false, refusal };
    }
    if (quotaLeft !== null) quotaLeft--;
    budgetLeft -= amount;
    return { ok: true, flags: reviewFlags(c, person, contact) };
  });
}

/** One candidate (the dialog's submit, a resubmission, the review card). */
export function admit(
  cat: CategoryInfo,
  candidate: Candidate,
  person: PersonFacts,
  room: Room,
  contact: ContactFacts,
): Admission {
  return admitAll(cat, [candidate], [person], room, contact)[0]!;
}
