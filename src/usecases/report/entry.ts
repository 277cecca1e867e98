import type { FieldCipher } from '../../adapters/crypto/field-cipher.ts';
import type { Db } from '../../adapters/db/client.ts';
import {
  type LedgerQuery,
  type LedgerRead,
  type LedgerRow,
  ledgerRead,
  readInThisProcess,
} from './ledger.ts';

// 录入省帮扶系统: the list of delivered records (paid, or goods handed over) not yet entered (full values: only admins and finance staff
// get it, and each list is audit-logged), and marking records as entered, by command or by sending the
// list back. Deadlines (N working days after payment) come from domain/reminders `entryDeadline`, the
// same function the reminders use; /entry_status reads `campaignFigures(...).timeliness.entry`.

/** Delivered, not yet entered: the provincial entry list's rows (full values). */
export function entryListQuery(campaignId: number): LedgerQuery {
  return { campaignId, access: 'full', filters: { statuses: ['paid', 'handed_over'], notEntered: true } };
}

/** Streams the entry list into `sink` in this process, then audit-logs (as exportEntryListVia). */
export function exportEntryList(
  db: Db,
  cipher: FieldCipher,
  input: {
    campaignId: number;
    actorId: number;
    sink: (pages: AsyncIterable<LedgerRow[]>) => Promise<unknown>;
  },
): Promise<number> {
  return exportEntryListVia(db, { ...input, run: readInThisProcess(cipher, input.sink) });
}

/** As the staff job runs it: `run` reads and writes the rows elsewhere (the export's child process). */
export async function exportEntryListVia(
  db: Db,
  input: { campaignId: number; actorId: number; run: (read: LedgerRead) => Promise<number> },
): Promise<number> {
  const rows = await input.run(await ledgerRead(db, entryListQuery(input.campaignId)));
  await auditEntryListExport(db, input, rows);
  return rows;
}

/** `entry.list_export` with the row count. */
async function auditEntryListExport(db: Db, input: { campaignId: number; actorId: number }, rows: number) {
  await db.auditLog.create({
    data: {
      actorId: input.actorId,
      action: 'entry.list_export',
      entity: 'campaign',
      entityId: String(input.campaignId),
      after: { rows },
    },
  });
}

export interface MarkResult {
  marked: number[];
  alreadyEntered: number[];
  /** Exists but is not paid (or belongs to another campaign when one was given). */
  notPaid: number[];
  unknown: number[];
  /** Campaigns touched (for re-syncing their reminders). */
  campaignIds: number[];
}

const MAX_MARK = 100_000;
const MARK_PAGE = 10_000;

/**
 * Marks paid nominations as entered into the provincial system at `now`, one audit row per record
 * (`nomination.entered_provincial`). Idempotent: records already entered are reported, not changed.
 */
export async function markEntered(
  db: Db,
  input: { actorId: number; nominationIds: number[]; now: Date; campaignId?: number },
): Promise<MarkResult> {
  const ids = [...new Set(input.nominationIds)]
    .filter((n) => Number.isSafeInteger(n) && n > 0)
    .slice(0, MAX_MARK);
  const result: MarkResult = { marked: [], alreadyEntered: [], notPaid: [], unknown: [], campaignIds: [] };
  if (ids.length === 0) return result;
  const campaigns = new Set<number>();
  await db.$transaction(
    async (tx) => {
      // In pages: `/entry_mark <campaign> all` names every delivered record of a province (100,000 and
      // more), beyond PostgreSQL's 32,767 bind parameters per query.
      const rows = [];
      for (let i = 0; i < ids.length; i += MARK_PAGE)
        rows.push(
          ...(await tx.nomination.findMany({
            where: { id: { in: ids.slice(i, i + MARK_PAGE) } },
            select: { id: true, status: true, campaignId: true, enteredProvincialAt: true },
          })),
        );
      const byId = new Map(rows.map((r) => [r.id, r]));
      const candidates: number[] = [];
      for (const id of ids) {
        const r = byId.get(id);
        if (!r) result.unknown.push(id);
        else if (input.campaignId !== undefined && r.campaignId !== input.campaignId) result.notPaid.push(id);
        else if (r.enteredProvincialAt) result.alreadyEntered.push(id);
        else if (r.status !== 'paid' && r.status !== 'handed_over') result.notPaid.push(id);
        else candidates.push(id);
      }
      if (candidates.length === 0) return;
      // Guarded update: a concurrent mark of the same rows changes nothing the second time.
      const updated = [];
      for (let i = 0; i < candidates.length; i += MARK_PAGE)
        updated.push(
          ...(await tx.nomination.updateManyAndReturn({
            where: {
              id: { in: candidates.slice(i, i + MARK_PAGE) },
              status: { in: ['paid', 'handed_over'] },
              enteredProvincialAt: null,
            },
            data: { enteredProvincialAt: input.now },
            select: { id: true, campaignId: true },
          })),
        );
      const done = new Set(updated.map((u) => u.id));
      for (const id of candidates) (done.has(id) ? result.marked : result.alreadyEntered).push(id);
      for (const u of updated) campaigns.add(u.campaignId);
      for (let i = 0; i < updated.length; i += MARK_PAGE)
        await tx.auditLog.createMany({
          data: updated.slice(i, i + MARK_PAGE).map((u) => ({
            actorId: input.actorId,
            action: 'nomination.entered_provincial',
            entity: 'nomination',
            entityId: String(u.id),
            after: { enteredProvincialAt: input.now.toISOString() },
          })),
        });
    },
    { timeout: 60_000 },
  );
  result.campaignIds = [...campaigns];
  result.marked.sort((a, b) => a - b);
  return result;
}

/** `12 13 20-25`, `12,13，14` → ids (ranges up to 10,000 long); null when a token is not an id or range. */
export function parseIdList(text: string): number[] | null {
  const out: number[] = [];
  for (const token of text.split(/[\s,，、]+/).filter(Boolean)) {
    const range = /^(\d{1,9})[-–~](\d{1,9})$/.exec(token);
    if (range) {
      const [a, b] = [Number(range[1]), Number(range[2])];
      if (b < a || b - a > 10_000) return null;
      for (let i = a; i <= b; i++) out.push(i);
    } else if (/^\d{1,9}$/.test(token)) out.push(Number(token));
    else return null;
  }
  return out;
}

/** Delivered (paid or handed over) nominations of a campaign not yet entered: `/entry_mark <campaign> all`. */
export async function notEnteredIds(db: Db, campaignId: number): Promise<number[]> {
  const rows = await db.nomination.findMany({
    where: { campaignId, status: { in: ['paid', 'handed_over'] }, enteredProvincialAt: null },
    select: { id: true },
  });
  return rows.map((r) => r.id);
}
