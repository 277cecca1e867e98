import { randomBytes } from 'node:crypto';
import type { CipherWorker } from '../../adapters/crypto/field-cipher.ts';
import { type Db, Prisma } from '../../adapters/db/client.ts';
import { directRows } from '../../adapters/db/direct-sql.ts';
import { draftExpiresAt } from '../../domain/nomination/intake.ts';
import type { NominationDeps } from './shared.ts';
import { storedFields } from './stored-fields.ts';
import type { ImportedValues, ImportValidation } from './validate-import.ts';

// Spreadsheet import, step 2: the valid rows are stored as drafts of one batch (source 'upload', every
// step answered, draftStep 'import:<batchId>'), replacing the contact's earlier unconfirmed batches.
// The stored fields come from the same mapping as the dialog's answers (stored-fields.ts).

const INSERT_CHUNK = 1000;
/** INSERT statements in flight at once (each on its own connection of the pool). */
const WRITERS = 2;
/** Chunks mapped and handed to the encryption worker ahead of the one being written. */
const MAPPED_AHEAD = 2;
const IMPORT_MARK = 'import:';

export const importMarker = (batchId: string) => `${IMPORT_MARK}${batchId}`;

export async function storeImportDrafts(
  deps: NominationDeps,
  validation: ImportValidation,
  opts: { worker?: CipherWorker } = {},
): Promise<{ batchId: string; stored: number }> {
  const batchId = randomBytes(6).toString('base64url');
  const now = deps.now();
  const valid = validation.rows.filter((r) => r.ok && r.value);
  // The encryptions run on a worker thread (FieldCipher.worker), chunk by chunk, and the
  // INSERTs in PostgreSQL, WRITERS of them at once on the pool's connections (PostgreSQL's work, the
  // larger part, then uses both cores), while this thread maps and sends the rows. Ids follow the file
  // (the quota's "in file order" at submit relies on it): they are drawn from the sequence up front, in
  // file order, and written explicitly, so the order the chunks finish in does not matter.
  // The caller's (checkImport's, booted with the check), or one booted while the campaign is read.
  const worker = opts.worker ?? deps.cipher.worker();
  let writing: Promise<unknown> = Promise.resolve();
  const inserts: Promise<unknown>[] = [];
  try {
    const campaign = await deps.db.campaign.findUniqueOrThrow({ where: { id: validation.campaignId } });
    const shared: Shared = {
      campaignId: validation.campaignId,
      categoryId: validation.categoryId,
      unionId: validation.unionId,
      personId: validation.personId,
      marker: importMarker(batchId),
      expires: draftExpiresAt(campaign.settings, now),
      now,
    };
    // The contact's earlier unconfirmed batches go first (before any new row exists: they match the
    // same filter), then the chunks.
    writing = inFlight(
      deps.db.nomination.deleteMany({
        where: { submittedById: validation.personId, status: 'draft', source: 'upload' },
      }),
    );
    const ids = inFlight(reserveIds(deps.db, valid.length)) as Promise<number[]>;
    // A chunk is mapped (clear columns; the values to encrypt listed) and handed to the worker a few
    // chunks ahead of its INSERT: the worker answers in order, and this thread maps while the
    // statements in flight run.
    const chunkCount = Math.ceil(valid.length / INSERT_CHUNK);
    const parts: ({ rows: DraftRow[]; sealed: Promise<string[]> } | undefined)[] = [];
    const prepare = (k: number) => {
      if (k >= chunkCount) return;
      const plain: string[] = [];
      const rows: DraftRow[] = [];
      for (let i = k * INSERT_CHUNK; i < Math.min(valid.length, (k + 1) * INSERT_CHUNK); i++)
        rows.push(draftRow(deps, valid[i]!.value!, plain));
      const sealed = worker.encrypt(plain);
      sealed.catch(() => {}); // awaited below, or abandoned when an INSERT fails first
      parts[k] = { rows, sealed };
    };
    for (let k = 0; k < MAPPED_AHEAD; k++) prepare(k);
    await writing;
    const idList = await ids;
    for (let k = 0; k < chunkCount; k++) {
      prepare(k + MAPPED_AHEAD);
      const part = parts[k]!;
      const sealed = await part.sealed;
      for (const r of part.rows) {
        if (r.idNumberEnc !== null) r.idNumberEnc = sealed[Number(r.idNumberEnc)]!;
        if (r.phoneEnc !== null) r.phoneEnc = sealed[Number(r.phoneEnc)]!;
        if (r.bankCardEnc !== null) r.bankCardEnc = sealed[Number(r.bankCardEnc)]!;
      }
      if (inserts.length >= WRITERS) await inserts.shift();
      const from = k * INSERT_CHUNK;
      part.rows.forEach((r, i) => {
        r.id = idList[from + i]!;
      });
      inserts.push(inFlight(insertDrafts(deps.db, shared, part.rows)));
      parts[k] = undefined; // its rows are the statement's now
    }
    await Promise.all(inserts);
  } finally {
    await writing.catch(() => {});
    await Promise.allSettled(inserts);
    if (worker !== opts.worker) await worker.close();
  }
  return { batchId, stored: valid.length };
}

/**
 * Starts a statement now (Prisma's promises are lazy) and marks its failure handled until it is
 * awaited: it may fail while the next chunk is being encrypted.
 */
function inFlight(p: PromiseLike<unknown>): Promise<unknown> {
  const started = Promise.resolve(p);
  started.catch(() => {});
  return started;
}

/**
 * A draft's columns from a valid row, through the mapping the dialog uses (storedFields). The values to
 * encrypt are appended to `plain`; their columns hold their index there until the worker has sealed them.
 */
function draftRow(deps: NominationDeps, v: ImportedValues, plain: string[]): DraftRow {
  const later = {
    encrypt: (value: string) => String(plain.push(value) - 1),
    hash: deps.cipher.hash.bind(deps.cipher),
  };
  const s = storedFields(later, v.fields, v);
  return {
    id: 0,
    fullName: s.fullName ?? null,
    idNumberEnc: s.idNumberEnc ?? null,
    idNumberHash: s.idNumberHash ?? null,
    birthDate: null, // never stored (see stored-fields.ts)
    sex: s.sex ?? null,
    phoneEnc: s.phoneEnc ?? null,
    phoneHash: s.phoneHash ?? null,
    employer: s.employer ?? null,
    workStatus: s.workStatus ?? null,
    modelWorkerLevel: s.modelWorkerLevel ?? null,
    hardshipTier: s.hardshipTier ?? null,
    mainCause: s.mainCause ?? null,
    secondaryCauses: (s.secondaryCauses ?? []).join(','),
    description: s.description ?? null,
    benefitForm: s.benefitForm ?? null,
    bankName: s.bankName ?? null,
    bankCardEnc: s.bankCardEnc ?? null,
    bankCardLast4: s.bankCardLast4 ?? null,
    bankCardHash: s.bankCardHash ?? null,
    flags: v.flags.join(','),
    draftAnswered: v.steps.join(','),
  };
}

interface Shared {
  campaignId: number;
  categoryId: number;
  unionId: number;
  personId: number;
  marker: string;
  expires: Date;
  now: Date;
}

interface DraftRow {
  /** Drawn from the sequence in file order (0 until then). */
  id: number;
  fullName: string | null;
  idNumberEnc: string | null;
  idNumberHash: string | null;
  birthDate: string | null;
  sex: string | null;
  phoneEnc: string | null;
  phoneHash: string | null;
  employer: string | null;
  workStatus: string | null;
  modelWorkerLevel: string | null;
  hardshipTier: string | null;
  mainCause: string | null;
  /** Codes joined with ',' (codes never contain one). */
  secondaryCauses: string;
  description: string | null;
  benefitForm: string | null;
  bankName: string | null;
  bankCardEnc: string | null;
  bankCardLast4: string | null;
  bankCardHash: string | null;
  flags: string;
  draftAnswered: string;
}

/**
 * `n` new nomination ids, increasing in the order returned (one backend calls nextval in
 * generate_series order; the sequence only ever goes up).
 */
async function reserveIds(db: Db, n: number): Promise<number[]> {
  if (n === 0) return [];
  const rows = await db.$queryRaw<{ ids: number[] }[]>`
    SELECT ARRAY(SELECT nextval(pg_get_serial_sequence('nomination', 'id'))::int
      FROM generate_series(1, ${n}::int) g ORDER BY g) AS ids`;
  return rows[0]!.ids;
}

/**
 * The chunk's rows as one JSON text, for json_to_recordset. The pg driver writes a string as UTF-8, a
 * lone surrogate as U+FFFD; JSON.stringify writes one as an escape (`\ud800`-`\udfff`) PostgreSQL
 * refuses, so a chunk whose JSON holds `\ud` (such an escape, or a backslash typed before "ud") has its
 * texts re-encoded first, as the driver would have. A plain search: a regular expression over a
 * chunk's ~700 KB cost several times the JSON.stringify.
 */
function rowsJson(rows: readonly DraftRow[]): string {
  const json = JSON.stringify(rows);
  if (!json.includes('\\ud')) return json;
  return JSON.stringify(rows, (_k, v) =>
    typeof v === 'string' ? Buffer.from(v, 'utf8').toString('utf8') : v,
  );
}

/**
 * One INSERT ... SELECT FROM json_to_recordset(...) per chunk: the chunk's rows go as ONE text parameter,
 * sent on the client's pool directly (direct-sql.ts). Through $executeRaw a raw statement's parameters
 * pass Prisma's query compiler, serialised and parsed again, ~50 ns a byte: ~0.4 s of this thread for a
 * 10,000-row file's 7 MB (profiled), as column arrays for unnest (each element mapped and escaped) or as
 * one JSON text alike. Prisma's createMany took ~1.5 s and several hundred MB per 1,000 rows of this
 * table (see bench/).
 */
async function insertDrafts(db: Db, s: Shared, rows: readonly DraftRow[]): Promise<void> {
  await directRows(
    db,
    Prisma.sql`
    INSERT INTO nomination (
      id, campaign_id, category_id, union_id, submitted_by_id, status, source, full_name, id_number_enc,
      id_number_hash, birth_date, sex, phone_enc, phone_hash, employer, work_status, model_worker_level,
      hardship_tier, main_cause, secondary_causes, description, benefit_form, bank_name, bank_card_enc,
      bank_card_last4, bank_card_hash, flags, draft_step, draft_answered, draft_expires_at, created_at, updated_at)
    SELECT v.id, ${s.campaignId}::int, ${s.categoryId}::int, ${s.unionId}::int, ${s.personId}::int,
      'draft'::"NominationStatus", 'upload', v."fullName", v."idNumberEnc", v."idNumberHash",
      v."birthDate"::date, v.sex::"Sex", v."phoneEnc", v."phoneHash", v.employer, v."workStatus",
      v."modelWorkerLevel", v."hardshipTier", v."mainCause", string_to_array(v."secondaryCauses", ','),
      v.description, v."benefitForm"::"BenefitForm", v."bankName", v."bankCardEnc", v."bankCardLast4",
      v."bankCardHash", string_to_array(v.flags, ','), ${s.marker}, string_to_array(v."draftAnswered", ','),
      ${s.expires}::timestamp(3), ${s.now}::timestamp(3), ${s.now}::timestamp(3)
    FROM json_to_recordset(${rowsJson(rows)}::json) AS v(id int, "fullName" text, "idNumberEnc" text,
      "idNumberHash" text, "birthDate" text, sex text, "phoneEnc" text, "phoneHash" text, employer text,
      "workStatus" text, "modelWorkerLevel" text, "hardshipTier" text, "mainCause" text,
      "secondaryCauses" text, description text, "benefitForm" text, "bankName" text, "bankCardEnc" text,
      "bankCardLast4" text, "bankCardHash" text, flags text, "draftAnswered" text)`,
  );
}
