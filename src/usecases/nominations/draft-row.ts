import { sqlRows } from '../../adapters/db/direct-sql.ts';
import { Prisma } from '../../adapters/db/client.ts';
import type { Nomination } from '../../generated/prisma/client.ts';
import { type AuditEntry, auditInsert } from '../audit.ts';
import { EDITABLE_STATUSES, type NominationDeps } from './shared.ts';

// The dialog's draft, read and written on the pool directly (direct-sql.ts): every answer reads the
// draft and writes it once, and a statement through Prisma's model API costs the bot several times the
// CPU of a direct one (bench/README.md, direct-sql). The rows are Prisma's `Nomination` exactly (every scalar field, camelCase,
// same types: Date for dates and timestamps, string arrays, null), so the callers and the row kept for
// the next prompt (rememberWritten) do not change; test/integration/draft-row.test.ts holds the two
// paths to the same rows, field by field.

/** Prisma's column of a field: every Nomination field maps to its snake_case name (schema.prisma). */
const columnOf = (field: string) => field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** Every scalar field of Nomination, in Prisma's order. */
export const NOMINATION_FIELDS = Object.keys(Prisma.NominationScalarFieldEnum) as (keyof Nomination)[];

/** The list fields: Prisma creates a row without them as NULL columns and reads NULL as []. */
const LIST_FIELDS: ReadonlySet<string> = new Set(['secondaryCauses', 'flags', 'draftAnswered']);

/** `n.id AS "id", n.campaign_id AS "campaignId", …`: the row as Prisma's model API returns it. */
const SELECT_ROW = Prisma.raw(
  NOMINATION_FIELDS.map((f) =>
    LIST_FIELDS.has(f) ? `COALESCE(n."${columnOf(f)}", '{}') AS "${f}"` : `n."${columnOf(f)}" AS "${f}"`,
  ).join(', '),
);

/** `n.status IN ('draft', 'returned')` (constants of the code, not input). */
const EDITABLE = Prisma.raw(`n.status IN (${EDITABLE_STATUSES.map((s) => `'${s}'`).join(', ')})`);

/** What editableDraftRow reads beside the row when asked. */
export interface DraftExtras {
  recentLookups?: number;
  submitterName?: string;
  submitterPhoneHash?: string | null;
}

/**
 * The contact's editable draft (a draft, or a nomination returned for correction), or null. With
 * `lookupsSince`, the same statement counts the contact's ID look-ups since then (the ID answer's rate
 * check, `recentLookups`), instead of a statement of its own.
 */
export async function editableDraftRow(
  deps: Pick<NominationDeps, 'db'>,
  input: {
    nominationId: number;
    personId: number;
    lookupsSince?: { action: string; since: Date };
    /** Also the submitter's name and phone hash (the submit's self-nomination checks). */
    submitter?: boolean;
  },
): Promise<(Nomination & DraftExtras) | null> {
  const count = input.lookupsSince
    ? Prisma.sql`, (SELECT count(*)::int FROM audit_log a WHERE a.actor_id = ${input.personId}
        AND a.action = ${input.lookupsSince.action} AND a.at >= ${input.lookupsSince.since}) AS "recentLookups"`
    : Prisma.empty;
  const submitter = input.submitter
    ? Prisma.sql`, (SELECT p.display_name FROM person p WHERE p.id = n.submitted_by_id) AS "submitterName",
        (SELECT p.phone_hash FROM person p WHERE p.id = n.submitted_by_id) AS "submitterPhoneHash"`
    : Prisma.empty;
  const [row] = await sqlRows<Nomination & DraftExtras>(deps.db)`
    SELECT ${SELECT_ROW}${count}${submitter} FROM nomination n
    WHERE n.id = ${input.nominationId} AND n.submitted_by_id = ${input.personId}
      AND ${EDITABLE}`;
  return row ?? null;
}

/** The fields a draft's answer may set (Prisma's names); the guard and the bookkeeping are added here. */
export type DraftChanges = Partial<
  Omit<Nomination, 'id' | 'version' | 'createdAt' | 'updatedAt' | 'status' | 'submittedById'>
>;

/**
 * Writes `changes` to the draft if it is still at `version` and editable, bumps the version and
 * `updatedAt` (as Prisma's @updatedAt does), and returns the row as written; null when the guard
 * matched nothing (changed or submitted meanwhile). Undefined values are left out, as Prisma does.
 */
export async function updateDraftRow(
  deps: Pick<NominationDeps, 'db'>,
  input: {
    id: number;
    version: number;
    changes: DraftChanges;
    /** Also appends this audit row, in the same statement (a data-modifying CTE runs in any case). */
    audit?: AuditEntry;
  },
): Promise<Nomination | null> {
  const sets: Prisma.Sql[] = [];
  for (const [field, value] of Object.entries(input.changes)) {
    if (value === undefined) continue;
    if (!(field in Prisma.NominationScalarFieldEnum)) throw new Error(`not a nomination field: ${field}`);
    // Parameters are sent untyped: PostgreSQL takes each one's type from its column (enums, arrays).
    sets.push(Prisma.sql`${Prisma.raw(`"${columnOf(field)}"`)} = ${value}`);
  }
  sets.push(Prisma.sql`"version" = n.version + 1`, Prisma.sql`"updated_at" = ${new Date()}`);
  const withAudit = input.audit ? Prisma.sql`WITH recorded AS (${auditInsert(input.audit)}) ` : Prisma.empty;
  const [row] = await sqlRows<Nomination>(deps.db)`
    ${withAudit}UPDATE nomination n SET ${Prisma.join(sets)}
    WHERE n.id = ${input.id} AND n.version = ${input.version} AND ${EDITABLE}
    RETURNING ${SELECT_ROW}`;
  return row ?? null;
}

/**
 * A new dialog draft, inserted only if its campaign takes nominations at `now` (not archived, opened,
 * not closed: campaigns.ts nominationOpenWhere); the row as Prisma's create returns it, or null.
 */
export async function insertDraftRow(
  deps: Pick<NominationDeps, 'db'>,
  input: { personId: number; unionId: number; campaignId: number; draftExpiresAt: Date; now: Date },
): Promise<Nomination | null> {
  // created_at and updated_at as Prisma's create sets them (the time of the write, not the test clock).
  const at = new Date();
  const [row] = await sqlRows<Nomination>(deps.db)`
    INSERT INTO nomination AS n (campaign_id, union_id, submitted_by_id, status, draft_expires_at,
      created_at, updated_at)
    SELECT c.id, ${input.unionId}, ${input.personId}, 'draft', ${input.draftExpiresAt}, ${at}, ${at}
    FROM campaign c
    WHERE c.id = ${input.campaignId} AND c.status <> 'archived' AND c.nomination_opens_at <= ${input.now}
      AND c.nomination_closes_at > ${input.now}
    RETURNING ${SELECT_ROW}`;
  return row ?? null;
}
