import { DomainError } from '../../domain/errors.ts';
import type { CampaignCategory } from '../../generated/prisma/client.ts';
import {
  HARDSHIP_CAUSES,
  HARDSHIP_TIERS,
  MODEL_WORKER_LEVELS,
  WORK_STATUSES,
} from '../../domain/identity/hardship.ts';
import { personRefusal, roomFor } from '../../domain/nomination/admission.ts';
import { type TextStep, validateAnswer } from '../../domain/nomination/answers.ts';
import { MAX_SECONDARY_CAUSES, nextStep, type Step, stepsFor } from '../../domain/nomination/form.ts';
import {
  type BenefitFormCode,
  fieldsForCategory,
  fieldsForTextAnswer,
} from '../../domain/nomination/intake.ts';
import { type AuditEntry, auditAlone } from '../audit.ts';
import { campaignRow, categoryRow } from '../cached-reads.ts';
import { recordEntryBlocked } from '../report/figures.ts';
import { loadPersonFacts, loadRoom } from './admission-facts.ts';
import { editableDraftRow, updateDraftRow } from './draft-row.ts';
import { saveAnswer } from './drafts.ts';
import { refusalMessage } from './refusals.ts';
import { type NominationDeps, toCategoryInfo } from './shared.ts';
import { storedFields } from './stored-fields.ts';

// The nomination dialog's answers, one at a time. Each function validates the answer, applies the
// admission rules that can already be decided (room in the category when it is chosen; duplicate and
// yearly cap when the ID number is given), stores it, and says where the dialog goes next, with the
// side notes (locale keys, no personal data) folded into the next question.

/** A line for the contact: a locale key and its parameters. */
export interface Note {
  key: string;
  params: Record<string, string | number>;
}

/** Where the dialog goes: a form step, the summary, or a confirmation of the answer just given. */
export type DialogPosition = Step | 'summary' | 'id_confirm' | 'card_confirm';

export type AnswerOutcome =
  | { kind: 'next'; next: DialogPosition; notes: Note[] }
  | { kind: 'invalid'; notes: Note[] }
  | { kind: 'gone' };

/** At most this many ID numbers typed per contact and hour: each tells whether a person is nominated. */
export const ID_LOOKUPS_PER_HOUR = 30;
const ID_LOOKUP_ACTION = 'nomination.id_lookup';
/** The look-ups counted against ID_LOOKUPS_PER_HOUR: this contact's in the last hour. */
const lookupWindow = (now: Date) => ({ action: ID_LOOKUP_ACTION, since: new Date(now.getTime() - 3600_000) });

/** Coded answers given with buttons, and the column each fills. */
export const CODED_STEPS = {
  work_status: { vocab: 'work_status', codes: WORK_STATUSES.map((v) => v.code), column: 'workStatus' },
  model_worker_level: {
    vocab: 'model_worker_level',
    codes: MODEL_WORKER_LEVELS.map((v) => v.code),
    column: 'modelWorkerLevel',
  },
  hardship_tier: { vocab: 'hardship_tier', codes: HARDSHIP_TIERS.map((v) => v.code), column: 'hardshipTier' },
  main_cause: { vocab: 'hardship_cause', codes: HARDSHIP_CAUSES.map((v) => v.code), column: 'mainCause' },
} as const;
export type CodedStep = keyof typeof CODED_STEPS;
export const isCodedStep = (s: string): s is CodedStep => s in CODED_STEPS;

/**
 * The draft (one statement, on the pool directly: draft-row.ts), with its campaign and category from the
 * per-update-checked cache. `lookupsSince`: the contact's ID look-ups since then, counted in the same
 * statement (`recentLookups`).
 */
async function editable(
  deps: NominationDeps,
  personId: number,
  nominationId: number,
  lookupsSince?: { action: string; since: Date },
) {
  const d = await editableDraftRow(deps, {
    nominationId,
    personId,
    ...(lookupsSince ? { lookupsSince } : {}),
  });
  if (!d) return null;
  const [campaign, category] = await Promise.all([
    campaignRow(deps.db, d.campaignId),
    d.categoryId === null ? null : categoryRow(deps.db, d.categoryId),
  ]);
  if (!campaign) return null;
  return { ...d, campaign, category };
}
type Editable = NonNullable<Awaited<ReturnType<typeof editable>>>;

/** The first unanswered step of the form as it now stands, or the summary (from what was just stored). */
function next(
  category: CampaignCategory | null,
  benefitForm: string | null,
  answered: readonly string[],
  notes: Note[] = [],
): AnswerOutcome {
  const steps = stepsFor(category ? toCategoryInfo(category) : undefined, benefitForm);
  return { kind: 'next', next: nextStep(steps, answered), notes };
}

const invalid = (...notes: Note[]): AnswerOutcome => ({ kind: 'invalid', notes });

/** A typed answer to a text step. */
export async function answerText(
  deps: NominationDeps,
  input: { personId: number; nominationId: number; step: TextStep; text: string },
): Promise<AnswerOutcome> {
  // The ID answer's rate check is read with the draft (one statement fewer).
  const d = await editable(
    deps,
    input.personId,
    input.nominationId,
    input.step === 'id_number' ? lookupWindow(deps.now()) : undefined,
  );
  if (!d) return { kind: 'gone' };
  const r = validateAnswer(input.step, input.text, deps.now());
  if (!r.ok) {
    // Counted in the evaluation's data-accuracy figures (no personal data recorded).
    if (input.step === 'id_number')
      await recordEntryBlocked(deps.db, {
        campaignId: d.campaignId,
        actorId: input.personId,
        reason: 'id_invalid',
        source: 'dialog',
      });
    return invalid(
      { key: `validation.${r.code}`, params: r.params },
      { key: `nominate.hint_${input.step}`, params: {} },
    );
  }
  const notes: Note[] = r.warnings
    .filter((w) => w.code !== 'card.luhn_warning')
    .map((w) => ({ key: `validation.${w.code}`, params: w.params }));
  const data = storedFields(deps.cipher, fieldsForTextAnswer(input.step, r));

  if (input.step === 'id_number') {
    const checked = await checkPerson(deps, d, input.personId, data.idNumberHash!, notes);
    if ('refused' in checked) return checked.refused;
    // The look-up's record goes in the answer's own statement (one statement fewer).
    await saveAnswer(deps, { draft: d, step: input.step, data, answered: false, audit: checked.record });
    return { kind: 'next', next: 'id_confirm', notes };
  }
  if (input.step === 'bank_card') {
    const luhn = r.warnings.some((w) => w.code === 'card.luhn_warning');
    const flags = d.flags.filter((f) => f !== 'luhn_warning');
    const answered = await saveAnswer(deps, {
      draft: d,
      step: input.step,
      data: { ...data, flags: luhn ? [...flags, 'luhn_warning'] : flags },
      answered: !luhn,
    });
    if (luhn) return { kind: 'next', next: 'card_confirm', notes };
    return next(d.category, d.benefitForm, answered, notes);
  }
  const answered = await saveAnswer(deps, { draft: d, step: input.step, data });
  return next(d.category, d.benefitForm, answered, notes);
}

/**
 * The ID number just typed: refused when the person is already nominated in this campaign or over the
 * yearly cap; earlier campaigns are noted. Each look-up is audited and limited per contact and hour: a
 * refused one is recorded here, a clear one's record is returned to be written with the answer.
 */
async function checkPerson(
  deps: NominationDeps,
  d: Editable,
  personId: number,
  idHash: string,
  notes: Note[],
): Promise<{ refused: AnswerOutcome } | { record: AuditEntry }> {
  const recent = d.recentLookups ?? 0;
  if (recent >= ID_LOOKUPS_PER_HOUR)
    return { refused: invalid({ key: 'nominate.lookup_limit', params: { max: ID_LOOKUPS_PER_HOUR } }) };
  const [facts] = await loadPersonFacts(deps.db, {
    campaignId: d.campaignId,
    targetPaymentDate: d.campaign.targetPaymentDate,
    candidates: [{ idHash, phoneHash: null }],
    excludeIds: [d.id],
  });
  if (!d.category) return { refused: invalid({ key: 'errors.nomination_incomplete', params: {} }) };
  const refusal = personRefusal(toCategoryInfo(d.category), facts!);
  const record: AuditEntry = {
    actorId: personId,
    action: ID_LOOKUP_ACTION,
    entity: 'nomination',
    entityId: d.id,
    after: { outcome: refusal?.reason ?? (facts!.earlier > 0 ? 'earlier' : 'clear') },
  };
  if (refusal) {
    // A record of its own (no other change goes with it): one statement, its own transaction.
    await auditAlone(deps.db, record);
    // A person already helped by a union from its allocation is a duplicate through the other route.
    if (refusal.reason === 'duplicate' || refusal.reason === 'paid_by_union')
      await recordEntryBlocked(deps.db, {
        campaignId: d.campaignId,
        actorId: personId,
        reason: 'duplicate',
        source: 'dialog',
      });
    const told = refusalMessage(refusal, d.unionId);
    const params = {
      ...told.params,
      ...(told.params['status'] ? { status: `@status.${told.params['status']}` } : {}),
    };
    return {
      refused: invalid(
        { key: `errors.${told.code}`, params },
        { key: 'nominate.duplicate_hint', params: {} },
      ),
    };
  }
  for (const e of facts!.earlierCampaigns.slice(0, 3))
    notes.push({
      key: 'nominate.earlier',
      params: { campaignZh: e.titleZh, campaignEn: e.titleEn, status: `@status.${e.status}` },
    });
  return { record };
}

/** The category chosen: refused when the union's quota or the campaign budget has no room for it. */
export async function chooseCategory(
  deps: NominationDeps,
  input: { personId: number; nominationId: number; categoryId: number },
): Promise<AnswerOutcome> {
  const d = await editable(deps, input.personId, input.nominationId);
  if (!d) return { kind: 'gone' };
  // From the per-update-checked cache (the category prompt read the same row): no statement.
  const found = await categoryRow(deps.db, input.categoryId);
  const row = found?.campaignId === d.campaignId ? found : null;
  if (!row) return invalid({ key: 'nominate.category_unknown', params: {} });
  const cat = toCategoryInfo(row);
  const room = await loadRoom(deps.db, {
    unionId: d.unionId,
    campaignId: d.campaignId,
    budgetFen: d.campaign.budgetTotalFen,
    cat,
    excludeIds: [d.id],
  });
  const refusal = roomFor(cat, room);
  if (refusal) {
    const told = refusalMessage(refusal, d.unionId);
    return invalid({ key: `errors.${told.code}`, params: told.params });
  }
  const fields = fieldsForCategory(cat, d.benefitForm);
  const answered = await saveAnswer(deps, {
    draft: d,
    step: 'category',
    data: fields,
    // A form chosen for another category is asked again when this one offers several.
    forget: fields.benefitForm === d.benefitForm && d.categoryId === cat.id ? [] : ['benefit_form'],
  });
  const notes: Note[] =
    room.quotaLeft !== null ? [{ key: 'nominate.quota_left', params: { left: room.quotaLeft - 1 } }] : [];
  return next(row, fields.benefitForm, answered, notes);
}

/** A coded answer given with a button (work status, model-worker level, hardship tier, main cause, benefit form). */
export async function chooseOption(
  deps: NominationDeps,
  input: { personId: number; nominationId: number; step: string; code: string },
): Promise<AnswerOutcome> {
  const d = await editable(deps, input.personId, input.nominationId);
  if (!d) return { kind: 'gone' };
  if (input.step === 'benefit_form') {
    if (!d.category?.benefitForms.includes(input.code as never))
      return invalid({ key: 'dialog.use_buttons', params: {} });
    const answered = await saveAnswer(deps, {
      draft: d,
      step: 'benefit_form',
      data: { benefitForm: input.code as BenefitFormCode },
    });
    return next(d.category, input.code, answered);
  }
  if (!isCodedStep(input.step) || !(CODED_STEPS[input.step].codes as readonly string[]).includes(input.code))
    return invalid({ key: 'dialog.use_buttons', params: {} });
  const data: Record<string, unknown> = { [CODED_STEPS[input.step].column]: input.code };
  if (input.step === 'main_cause')
    data['secondaryCauses'] = d.secondaryCauses.filter((c) => c !== input.code);
  const answered = await saveAnswer(deps, { draft: d, step: input.step, data });
  return next(d.category, d.benefitForm, answered);
}

/** Ticks or unticks a secondary cause; the dialog stays on the same question. */
export async function toggleSecondaryCause(
  deps: NominationDeps,
  input: { personId: number; nominationId: number; code: string },
): Promise<
  { ok: true; chosen: string[]; mainCause: string | null } | { ok: false; note: Note } | { gone: true }
> {
  const d = await editable(deps, input.personId, input.nominationId);
  if (!d) return { gone: true };
  if (!HARDSHIP_CAUSES.some((c) => c.code === input.code) || input.code === d.mainCause)
    return { ok: false, note: { key: 'dialog.use_buttons', params: {} } };
  const chosen = d.secondaryCauses.includes(input.code)
    ? d.secondaryCauses.filter((c) => c !== input.code)
    : [...d.secondaryCauses, input.code];
  if (chosen.length > MAX_SECONDARY_CAUSES)
    return {
      ok: false,
      note: {
        key: 'validation.hardship.too_many_secondary',
        params: { max: MAX_SECONDARY_CAUSES, count: chosen.length },
      },
    };
  const row = await updateDraftRow(deps, {
    id: d.id,
    version: d.version,
    changes: { secondaryCauses: chosen },
  });
  if (!row) throw new DomainError('nomination_changed');
  return { ok: true, chosen, mainCause: d.mainCause };
}

/** Confirms an answer that waited for it: the ID's derived details, a card failing its checksum, the secondary causes. */
export async function confirmAnswer(
  deps: NominationDeps,
  input: { personId: number; nominationId: number; step: 'id_number' | 'bank_card' | 'secondary_causes' },
): Promise<AnswerOutcome> {
  const d = await editable(deps, input.personId, input.nominationId);
  if (!d) return { kind: 'gone' };
  if (input.step === 'id_number' && !d.idNumberEnc) return next(d.category, d.benefitForm, d.draftAnswered);
  if (input.step === 'bank_card' && !d.bankCardEnc) return next(d.category, d.benefitForm, d.draftAnswered);
  const answered = await saveAnswer(deps, { draft: d, step: input.step, data: {} });
  return next(d.category, d.benefitForm, answered);
}
