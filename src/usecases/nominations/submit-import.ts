import { type AuditEntry, auditMany } from '../audit.ts';
import { DomainError } from '../../domain/errors.ts';
import { admitAll, type RefusalReason } from '../../domain/nomination/admission.ts';
import { fieldsAtSubmit, payableGaps } from '../../domain/nomination/intake.ts';
import { chunks, loadContact, loadPersonFacts, loadRoom, lockAdmission } from './admission-facts.ts';
import { retryConflicts } from './refusals.ts';
import { type NominationDeps, revisionSnapshotSql, toCategoryInfo } from './shared.ts';
import { importMarker } from './store-import-drafts.ts';

// Spreadsheet import, step 3: every draft of a batch is submitted in one transaction under the
// campaign's admission lock, admitted again under the same rules as a dialog submission (others may
// have submitted since the file was checked). Rows that no longer fit are refused and their drafts
// removed. Set-based: one read of the batch, the admission facts in a few queries (admission-facts.ts),
// then one UPDATE, one INSERT of revisions, one DELETE and one INSERT of audit rows, whatever the size.

/** Rows per statement (array parameters: one bind each, whatever the size). */
const IN_CHUNK = 20_000;

export interface ImportSubmitResult {
  submitted: number;
  /** Rows refused at submit time (someone else was faster, or the quota / budget filled meanwhile). */
  refused: {
    duplicate_existing: number;
    paid_by_union: number;
    quota_exceeded: number;
    budget_exceeded: number;
    yearly_cap: number;
  };
  flagged: number;
  amountFen: number;
}

const REFUSED_AS: Record<RefusalReason, keyof ImportSubmitResult['refused']> = {
  duplicate: 'duplicate_existing',
  paid_by_union: 'paid_by_union',
  quota: 'quota_exceeded',
  budget: 'budget_exceeded',
  yearly_cap: 'yearly_cap',
};

export async function submitImport(
  deps: NominationDeps,
  input: { personId: number; batchId: string },
): Promise<ImportSubmitResult> {
  const r = await retryConflicts(() => submitOnce(deps, input), { alsoUnique: true });
  return r;
}

async function submitOnce(
  deps: NominationDeps,
  input: { personId: number; batchId: string },
): Promise<ImportSubmitResult> {
  const now = deps.now();
  const marker = importMarker(input.batchId);
  const first = await deps.db.nomination.findFirst({
    where: { submittedById: input.personId, status: 'draft', source: 'upload', draftStep: marker },
    include: { campaign: true, category: true },
  });
  if (!first?.category) throw new DomainError('upload_batch_gone');
  const campaign = first.campaign;
  const cat = toCategoryInfo(first.category);
  if (now < campaign.nominationOpensAt || now >= campaign.nominationClosesAt)
    throw new DomainError('upload_closed');
  const contact = await loadContact(deps.db, input.personId);

  return deps.db.$transaction(
    async (tx) => {
      await lockAdmission(tx, { campaignId: campaign.id });
      const drafts = await tx.$queryRaw<DraftRow[]>`
        SELECT id, full_name, id_number_hash, phone_hash, bank_card_hash, employer, benefit_form::text AS benefit_form,
          bank_name, bank_card_enc IS NOT NULL AS has_card, flags
        FROM nomination
        WHERE submitted_by_id = ${input.personId}::int AND status = 'draft' AND source = 'upload'
          AND draft_step = ${marker}
        ORDER BY id`;
      if (drafts.length === 0) throw new DomainError('upload_batch_gone');
      const [persons, room] = await Promise.all([
        loadPersonFacts(tx, {
          campaignId: campaign.id,
          targetPaymentDate: campaign.targetPaymentDate,
          candidates: drafts.map((d) => ({
            idHash: d.id_number_hash,
            phoneHash: d.phone_hash,
            cardHash: d.bank_card_hash,
          })),
        }),
        loadRoom(tx, {
          unionId: first.unionId,
          campaignId: campaign.id,
          budgetFen: campaign.budgetTotalFen,
          cat,
        }),
      ]);
      const decisions = admitAll(
        cat,
        drafts.map((d) => ({
          fullName: d.full_name,
          idHash: d.id_number_hash,
          phoneHash: d.phone_hash,
          answerFlags: d.flags,
        })),
        persons,
        room,
        contact,
      );

      const refused = {
        duplicate_existing: 0,
        paid_by_union: 0,
        quota_exceeded: 0,
        budget_exceeded: 0,
        yearly_cap: 0,
      };
      const rejectedIds: number[] = [];
      // Accepted rows as columns for one UPDATE ... FROM unnest(...), their audit entries for one INSERT
      // and their revisions for one INSERT ... SELECT (set-based: the former per-group updateMany and
      // createMany calls spent seconds in Prisma's query building for 10,000 rows).
      const ids: number[] = [];
      const forms: (string | null)[] = [];
      const flagLists: string[] = [];
      const audits: AuditEntry[] = [];
      let flagged = 0;
      const finals = new Map<string | null, ReturnType<typeof fieldsAtSubmit>>();
      drafts.forEach((d, i) => {
        const decision = decisions[i]!;
        if (!decision.ok) {
          refused[REFUSED_AS[decision.refusal.reason]]++;
          rejectedIds.push(d.id);
          return;
        }
        const flags = decision.flags;
        // The fields a submitted nomination carries, and the payable invariant, as for the dialog.
        let final = finals.get(d.benefit_form);
        if (!final) {
          final = fieldsAtSubmit(cat, d.benefit_form);
          finals.set(d.benefit_form, final);
        }
        const gaps = payableGaps({
          benefitForm: final.benefitForm,
          amountFen: final.amountFen,
          bankName: d.bank_name,
          hasBankCard: d.has_card,
          employer: d.employer,
        });
        if (gaps.length > 0) throw new Error(`imported draft ${d.id} is not payable (${gaps.join(',')})`);
        if (flags.length > 0) flagged++;
        ids.push(d.id);
        forms.push(final.benefitForm);
        flagLists.push(flags.join(','));
        // The nomination id identifies the record; no ID number, masked or not, in the audit log.
        audits.push({
          actorId: input.personId,
          action: 'nomination.submit',
          entity: 'nomination',
          entityId: d.id,
          before: { status: 'draft', revision: 0 },
          after: {
            status: 'submitted',
            revision: 1,
            category: cat.code,
            benefitForm: final.benefitForm,
            amountFen: final.amountFen,
            flags,
            source: 'upload',
            batch: input.batchId,
          },
        });
      });

      for (const part of chunks(
        ids.map((_, i) => i),
        IN_CHUNK,
      )) {
        const pick = <T>(xs: T[]) => part.map((i) => xs[i]!);
        const count = await tx.$executeRaw`
          UPDATE nomination n SET status = 'submitted', revision = 1, version = n.version + 1,
            benefit_form = v.form::"BenefitForm", amount_fen = ${cat.standardAmountFen}::int,
            flags = string_to_array(v.flags, ','), submitted_at = ${now}::timestamp(3),
            draft_expires_at = NULL, draft_step = NULL, updated_at = ${now}::timestamp(3),
            dedup_key = CASE WHEN n.id_number_hash IS NULL THEN n.dedup_key
              ELSE n.campaign_id::text || ':' || n.id_number_hash END
          FROM unnest(${pick(ids)}::int[], ${pick(forms)}::text[], ${pick(flagLists)}::text[]) AS v(id, form, flags)
          WHERE n.id = v.id AND n.status = 'draft'`;
        if (count !== part.length) throw new DomainError('upload_batch_gone');
        // The revision snapshot is built from the updated row in SQL (revisionSnapshotSql): the
        // encrypted columns never travel to the bot and back.
        await tx.$executeRaw`
          INSERT INTO nomination_revision (nomination_id, revision, created_by_id, snapshot)
          SELECT n.id, 1, ${input.personId}::int, ${revisionSnapshotSql(cat, { source: 'upload' })}
          FROM nomination n WHERE n.id = ANY(${pick(ids)}::int[])`;
      }
      for (const part of chunks(rejectedIds, IN_CHUNK))
        await tx.$executeRaw`DELETE FROM nomination WHERE id = ANY(${part}::int[])`;
      await auditMany(tx, audits);
      return {
        submitted: ids.length,
        refused,
        flagged,
        amountFen: ids.length * cat.standardAmountFen,
      };
    },
    { isolationLevel: 'ReadCommitted', timeout: 120_000, maxWait: 10_000 },
  );
}

interface DraftRow {
  id: number;
  full_name: string | null;
  id_number_hash: string | null;
  phone_hash: string | null;
  bank_card_hash: string | null;
  employer: string | null;
  benefit_form: string | null;
  bank_name: string | null;
  has_card: boolean;
  flags: string[];
}
