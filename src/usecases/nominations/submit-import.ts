import type { Prisma } from '../../adapters/db/client.ts';
import { DomainError } from '../../domain/errors.ts';
import { admitAll, type RefusalReason } from '../../domain/nomination/admission.ts';
import { fieldsAtSubmit, payableGaps } from '../../domain/nomination/intake.ts';
import { chunks, loadContact, loadPersonFacts, loadRoom, lockAdmission } from './admission-facts.ts';
import { retryConflicts } from './refusals.ts';
import { type NominationDeps, revisionSnapshot, toCategoryInfo } from './shared.ts';
import { importMarker } from './store-import-drafts.ts';

// Spreadsheet import, step 3: every draft of a batch is submitted in one transaction under the
// campaign's admission lock,
// admitted again under the same rules as a dialog submission (others may have submitted since the file
// was checked). Rows that no longer fit are refused and their drafts removed.

const CHUNK = 1000;
const IN_CHUNK = 5000;

export interface ImportSubmitResult {
  submitted: number;
  /** Rows refused at submit time (someone else was faster, or the quota / budget filled meanwhile). */
  refused: {
    duplicate_existing: number;
    quota_exceeded: number;
    budget_exceeded: number;
    yearly_cap: number;
  };
  flagged: number;
  amountFen: number;
}

const REFUSED_AS: Record<RefusalReason, keyof ImportSubmitResult['refused']> = {
  duplicate: 'duplicate_existing',
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
      const drafts = await tx.nomination.findMany({
        where: { submittedById: input.personId, status: 'draft', source: 'upload', draftStep: marker },
        orderBy: { id: 'asc' },
      });
      if (drafts.length === 0) throw new DomainError('upload_batch_gone');
      const [persons, room] = await Promise.all([
        loadPersonFacts(tx, {
          campaignId: campaign.id,
          targetPaymentDate: campaign.targetPaymentDate,
          candidates: drafts.map((d) => ({
            idHash: d.idNumberHash,
            phoneHash: d.phoneHash,
            cardHash: d.bankCardHash,
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
          fullName: d.fullName,
          idHash: d.idNumberHash,
          phoneHash: d.phoneHash,
          answerFlags: d.flags,
        })),
        persons,
        room,
        contact,
      );

      const refused = { duplicate_existing: 0, quota_exceeded: 0, budget_exceeded: 0, yearly_cap: 0 };
      const accepted: { draft: (typeof drafts)[number]; flags: string[] }[] = [];
      const rejectedIds: number[] = [];
      drafts.forEach((d, i) => {
        const decision = decisions[i]!;
        if (decision.ok) accepted.push({ draft: d, flags: decision.flags });
        else {
          refused[REFUSED_AS[decision.refusal.reason]]++;
          rejectedIds.push(d.id);
        }
      });

      // The fields a submitted nomination carries, and the payable invariant, as for the dialog.
      const finals = new Map<number, ReturnType<typeof fieldsAtSubmit>>();
      for (const { draft } of accepted) {
        const final = fieldsAtSubmit(cat, draft.benefitForm);
        const gaps = payableGaps({
          benefitForm: final.benefitForm,
          amountFen: final.amountFen,
          bankName: draft.bankName,
          hasBankCard: draft.bankCardEnc !== null,
          employer: draft.employer,
        });
        if (gaps.length > 0) throw new Error(`imported draft ${draft.id} is not payable (${gaps.join(',')})`);
        finals.set(draft.id, final);
      }

      // One update per distinct benefit form and flag set (a handful), then the dedup keys in one statement.
      const groups = new Map<string, number[]>();
      for (const a of accepted) {
        const key = `${finals.get(a.draft.id)!.benefitForm}|${a.flags.join(',')}`;
        groups.set(key, [...(groups.get(key) ?? []), a.draft.id]);
      }
      for (const [key, ids] of groups) {
        const [form, flags] = key.split('|') as [string, string];
        for (const part of chunks(ids, IN_CHUNK)) {
          const res = await tx.nomination.updateMany({
            where: { id: { in: part }, status: 'draft' },
            data: {
              status: 'submitted',
              revision: 1,
              version: { increment: 1 },
              benefitForm: form as 'transfer' | 'in_kind' | 'unit_condolence',
              amountFen: cat.standardAmountFen,
              flags: flags === '' ? [] : flags.split(','),
              submittedAt: now,
              draftExpiresAt: null,
              draftStep: null,
            },
          });
          if (res.count !== part.length) throw new DomainError('upload_batch_gone');
        }
      }
      const acceptedIds = accepted.map((a) => a.draft.id);
      for (const part of chunks(acceptedIds, IN_CHUNK)) {
        await tx.$executeRaw`UPDATE nomination SET dedup_key = campaign_id::text || ':' || id_number_hash
          WHERE id = ANY(${part}::int[]) AND id_number_hash IS NOT NULL`;
      }
      for (const part of chunks(rejectedIds, IN_CHUNK))
        await tx.nomination.deleteMany({ where: { id: { in: part } } });

      const revisions: Prisma.NominationRevisionCreateManyInput[] = [];
      const audits: Prisma.AuditLogCreateManyInput[] = [];
      for (const { draft: n, flags } of accepted) {
        const final = finals.get(n.id)!;
        const after = { ...n, benefitForm: final.benefitForm };
        revisions.push({
          nominationId: n.id,
          revision: 1,
          createdById: input.personId,
          snapshot: { ...revisionSnapshot(after, cat, flags), source: 'upload' },
        });
        // The nomination id identifies the record; no ID number, masked or not, in the audit log.
        audits.push({
          actorId: input.personId,
          action: 'nomination.submit',
          entity: 'nomination',
          entityId: String(n.id),
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
      }
      for (const part of chunks(revisions, CHUNK)) await tx.nominationRevision.createMany({ data: part });
      for (const part of chunks(audits, CHUNK)) await tx.auditLog.createMany({ data: part });
      return {
        submitted: accepted.length,
        refused,
        flagged: accepted.filter((a) => a.flags.length > 0).length,
        amountFen: accepted.length * cat.standardAmountFen,
      };
    },
    { isolationLevel: 'ReadCommitted', timeout: 120_000, maxWait: 10_000 },
  );
}
