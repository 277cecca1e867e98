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
    // The check read the campaign moments ago (a validation built elsewhere has its campaign read here).
    const settings =
      'campaignSettings' in validation
        ? validation.campaignSettings
        : (await deps.db.campaign.findUniqueOrThrow({ where: { id: validation.campaignId } })).settings;
    const shared: Shared = {
      campaignId: validation.campaignId,
      categoryId: validation.categoryId,
      unionId: validation.unionId,
      personId: validation.personId,
      marker: importMarker(batchId),
      expires: draftExpiresAt(settings, now),
      now,
    };
    // The contact's earlier unconfirmed batches go first (before any new row exists: they match the
    // same filter), then the chunks.
    // Sent directly (direct-sql.ts), as the INSERTs: through Prisma a first import after a start also
    // waited for this statement's query plan to compile.
    writing = inFlight(
      directRows(
        deps.db,
        Prisma.sql`DELETE FROM nomination
          WHERE submitted_by_id = ${validation.personId}::int AND status = 'draft' AND source = 'upload'`,
      ),
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
      inserts.push(
        inFlight(insertDrafts(deps.db, shared, part.rows, idList.slice(from, from + part.rows.length))),
      );
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
  const rows = await directRows<{ ids: number[] }>(
    db,
    Prisma.sql`SELECT ARRAY(SELECT nextval(pg_get_serial_sequence('nomination', 'id'))::int
      FROM generate_series(1, ${n}::int) g ORDER BY g) AS ids`,
  );
  return rows[0]!.ids;
}

/**
 * One INSERT ... SELECT FROM unnest(...) per chunk: column arrays instead of Prisma's createMany, which
 * in Prisma 7 took ~1.5 s and several hundred MB per 1,000 rows of this table (see bench/). Sent on the
 * client's pool directly (direct-sql.ts): through $executeRaw each array element passed Prisma's
 * raw-parameter handling (mapped, serialised, compiled and parsed again), the larger part of this
 * thread's time in the store (CPU profile); the driver only escapes them. (One JSON text per chunk for
 * json_to_recordset instead cost PostgreSQL ~40% more CPU than unnest, measured: the store waits on it.)
 */
async function insertDrafts(
  db: Db,
  s: Shared,
  rows: readonly DraftRow[],
  ids: readonly number[],
): Promise<void> {
  const col = <K extends keyof DraftRow>(k: K) => rows.map((r) => r[k]);
  // Columns whose values never hold a comma and are never '' (codes, hex hashes, "<version>:<base64>"
  // ciphertexts, digits) go as ONE text each, split in the statement ('' standing for NULL): the
  // driver's array escaping of every element was most of this thread's time in the store (CPU
  // profile). Free text and the list columns stay arrays.
  const wide = <K extends keyof DraftRow>(k: K) => commaList(rows, k);
  await directRows(
    db,
    Prisma.sql`
    INSERT INTO nomination (
      id, campaign_id, category_id, union_id, submitted_by_id, status, source, full_name, id_number_enc,
      id_number_hash, birth_date, sex, phone_enc, phone_hash, employer, work_status, model_worker_level,
      hardship_tier, main_cause, secondary_causes, description, benefit_form, bank_name, bank_card_enc,
      bank_card_last4, bank_card_hash, flags, draft_step, draft_answered, draft_expires_at, created_at, updated_at)
    SELECT v.id, ${s.campaignId}::int, ${s.categoryId}::int, ${s.unionId}::int, ${s.personId}::int,
      'draft'::"NominationStatus", 'upload', v.full_name, v.id_enc, v.id_hash, v.birth_date::date,
      v.sex::"Sex", v.phone_enc, v.phone_hash, v.employer, v.work_status, v.model_worker_level,
      v.hardship_tier, v.main_cause, string_to_array(v.secondary_causes, ','), v.description,
      v.benefit_form::"BenefitForm", v.bank_name, v.card_enc, v.card_last4, v.card_hash, string_to_array(v.flags, ','),
      ${s.marker}, string_to_array(v.answered, ','), ${s.expires}::timestamp(3), ${s.now}::timestamp(3),
      ${s.now}::timestamp(3)
    FROM unnest(
      string_to_array(${ids.join(',')}, ',')::int[], ${col('fullName')}::text[],
      string_to_array(${wide('idNumberEnc')}, ',', ''), string_to_array(${wide('idNumberHash')}, ',', ''),
      string_to_array(${wide('birthDate')}, ',', ''), string_to_array(${wide('sex')}, ',', ''),
      string_to_array(${wide('phoneEnc')}, ',', ''), string_to_array(${wide('phoneHash')}, ',', ''),
      ${col('employer')}::text[], string_to_array(${wide('workStatus')}, ',', ''),
      string_to_array(${wide('modelWorkerLevel')}, ',', ''), string_to_array(${wide('hardshipTier')}, ',', ''),
      string_to_array(${wide('mainCause')}, ',', ''), ${col('secondaryCauses')}::text[],
      ${col('description')}::text[], string_to_array(${wide('benefitForm')}, ',', ''), ${col('bankName')}::text[],
      string_to_array(${wide('bankCardEnc')}, ',', ''), string_to_array(${wide('bankCardLast4')}, ',', ''),
      string_to_array(${wide('bankCardHash')}, ',', ''), ${col('flags')}::text[],
      ${col('draftAnswered')}::text[]
    ) AS v(id, full_name, id_enc, id_hash, birth_date, sex, phone_enc, phone_hash, employer, work_status,
      model_worker_level, hardship_tier, main_cause, secondary_causes, description, benefit_form,
      bank_name, card_enc, card_last4, card_hash, flags, answered)`,
  );
}

/**
 * One column of a chunk as one text: values joined with ',', NULL as ''. Only for values that never
 * hold a comma and are never '' (checked: such a value would shift every later row's column).
 */
function commaList(rows: readonly DraftRow[], k: keyof DraftRow): string {
  let out = '';
  for (let i = 0; i < rows.length; i++) {
    const v = rows[i]![k];
    if (v !== null && (v === '' || v.includes(','))) throw new Error(`${k}: a value not fit for a list`);
    out += i === 0 ? (v ?? '') : `,${v ?? ''}`;
  }
  return out;
}
