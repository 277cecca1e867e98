import { isValidIsoDate } from '../../domain/calendar/index.ts';
import { DomainError } from '../../domain/errors.ts';
import { audit } from '../audit.ts';
import { enqueueNotices } from '../notices.ts';
import { handoverNotices } from './shared.ts';
import type { PaymentDeps } from './shared.ts';

// 实物发放: goods handed over to a recipient (or to a unit for unit-level condolence). approved ->
// handed_over, guarded on the status and version; one Handover row per nomination; audit-logged; the
// recipient is told (Telegram, else SMS).

export interface HandoverInput {
  nominationId: number;
  date: string;
  by: string;
  note?: string;
  photoFileId?: string;
  actorId: number;
}

export async function recordHandover(deps: PaymentDeps, input: HandoverInput): Promise<void> {
  const { db } = deps;
  if (!isValidIsoDate(input.date)) throw new DomainError('handover_bad_date', { date: input.date });
  const by = input.by.trim().slice(0, 100);
  if (!by) throw new DomainError('handover_no_by');
  const n = await db.nomination.findUnique({
    where: { id: input.nominationId },
    include: { campaign: true },
  });
  if (!n) throw new DomainError('nomination_not_found', { id: input.nominationId });
  if (n.benefitForm !== 'in_kind' && n.benefitForm !== 'unit_condolence')
    throw new DomainError('handover_not_in_kind', { id: n.id });
  if (n.status !== 'approved') throw new DomainError('handover_wrong_status', { id: n.id, status: n.status });
  await db.$transaction(async (tx) => {
    const moved = await tx.nomination.updateMany({
      where: { id: n.id, status: 'approved', version: n.version },
      data: { status: 'handed_over', version: { increment: 1 } },
    });
    if (moved.count === 0) throw new DomainError('handover_wrong_status', { id: n.id, status: 'changed' });
    await tx.handover.create({
      data: {
        nominationId: n.id,
        handedOverOn: new Date(`${input.date}T00:00:00Z`),
        handedOverBy: by,
        recordedById: input.actorId,
        photoFileId: input.photoFileId ?? null,
        note: input.note?.trim().slice(0, 300) || null,
      },
    });
    await audit(tx, {
      actorId: input.actorId,
      action: 'nomination.handed_over',
      entity: 'nomination',
      entityId: n.id,
      before: { status: 'approved' },
      after: { status: 'handed_over', date: input.date, by, photo: Boolean(input.photoFileId) },
    });
  });
  await enqueueNotices(db, deps.queues, handoverNotices(deps, n, input.date));
}

export interface HandoverImportResult {
  recorded: number[];
  problems: { line: number; code: string; id?: number }[];
}

/** A long list: each row recorded on its own; problems reported per line, good rows kept. */
export async function importHandovers(
  deps: PaymentDeps,
  input: {
    rows: { line: number; nominationId: number; date: string; by: string; note: string }[];
    actorId: number;
  },
): Promise<HandoverImportResult> {
  const recorded: number[] = [];
  const problems: HandoverImportResult['problems'] = [];
  for (const r of input.rows) {
    try {
      await recordHandover(deps, {
        nominationId: r.nominationId,
        date: r.date,
        by: r.by,
        note: r.note,
        actorId: input.actorId,
      });
      recorded.push(r.nominationId);
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      problems.push({ line: r.line, code: err.code, id: r.nominationId });
    }
  }
  return { recorded, problems };
}
