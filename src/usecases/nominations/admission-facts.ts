import { type Db, Prisma, type Tx } from '../../adapters/db/client.ts';
import { directRows } from '../../adapters/db/direct-sql.ts';
import type { ContactFacts, PersonFacts, Room } from '../../domain/nomination/admission.ts';
import type { CategoryInfo } from '../../domain/nomination/form.ts';
import { LIVE_STATUSES } from './shared.ts';

// Loads the facts the admission rules (src/domain/nomination/admission.ts) decide on. The dialog asks
// for one person, the spreadsheet for a whole file: both go through the same queries, a few per file
// whatever its size (ID and phone lists are sent as one array parameter each).

type Reader = Db | Tx;

/** Hashes per `= ANY($1)` array (one bind parameter each; chunks keep a statement's size bounded). */
const IN_CHUNK = 20_000;

export function chunks<T>(list: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

export interface CandidateKey {
  idHash: string | null;
  phoneHash: string | null;
  /** Keyed hash of the bank card (nominations stored before it existed have none). */
  cardHash?: string | null;
}

/** Person facts plus what the dialog shows about earlier campaigns (titles and statuses, no personal data). */
export interface LoadedPersonFacts extends PersonFacts {
  earlierCampaigns: { titleZh: string; titleEn: string; status: string }[];
}

/** The calendar year (Asia/Shanghai) a campaign pays in, as UTC bounds. */
function yearBounds(targetPaymentDate: Date) {
  const year = Number(targetPaymentDate.toISOString().slice(0, 4));
  return {
    from: new Date(Date.UTC(year, 0, 1) - 8 * 3600_000),
    to: new Date(Date.UTC(year + 1, 0, 1) - 8 * 3600_000),
  };
}

/**
 * Facts for each candidate, in order. `excludeIds` are the candidates' own nominations (a returned one
 * counts as live and must not block itself).
 */
export async function loadPersonFacts(
  db: Reader,
  input: {
    campaignId: number;
    targetPaymentDate: Date;
    candidates: readonly CandidateKey[];
    excludeIds?: readonly number[];
    /** Union allocations whose reported recipients do not count (a union's report replacing its own). */
    excludeAllocationIds?: readonly number[];
  },
): Promise<LoadedPersonFacts[]> {
  const reader = personFactsReader(db, input);
  reader.ask(input.candidates);
  return reader.factsFor(input);
}

/**
 * Reads the facts of candidates as their keys become known (a long file's, a slice at a time, while the
 * next slice is checked), one read at a time: each read takes every key asked for meanwhile and not
 * read yet (a key is read once: its rows come from one statement, in its order). `factsFor` waits for
 * the reads and returns the facts of the candidates given, in order, as loadPersonFacts; every key of
 * theirs must have been asked for.
 */
export function personFactsReader(
  db: Reader,
  input: { campaignId: number; excludeIds?: readonly number[]; excludeAllocationIds?: readonly number[] },
) {
  const exclude = [...(input.excludeIds ?? [])];
  const excludeAllocations = [...(input.excludeAllocationIds ?? [])];
  const asked = { ids: new Set<string>(), phones: new Set<string>(), cards: new Set<string>() };
  let waiting = { ids: [] as string[], phones: [] as string[], cards: [] as string[] };
  const idRows: IdFactRow[][] = [];
  const ownerRows: OwnerRow[][] = [];
  let reading: Promise<void> | undefined;
  let failure: { error: unknown } | undefined;
  const want = (set: Set<string>, list: string[], key: string | null | undefined) => {
    if (key && !set.has(key)) {
      set.add(key);
      list.push(key);
    }
  };
  const nothingWaiting = () => waiting.ids.length + waiting.phones.length + waiting.cards.length === 0;
  // One batch: every key waiting. Raw SQL with one list parameter: Prisma's `in: [...]` compiled a bind
  // list per hash, which for a 10,000-row file cost more than the query itself. The two statements (ID
  // facts; phone, card and staff-phone owners) are sent at once: on the pool they run side by side, in
  // a transaction one after the other without a round trip between them.
  const read = async () => {
    const { ids: hashes, phones, cards } = waiting;
    waiting = { ids: [], phones: [], cards: [] };
    const [ids, owners] = await Promise.all([
      Promise.all(
        chunks(hashes, IN_CHUNK).map((part) =>
          readIdFacts(db, part, [...LIVE_STATUSES], exclude, excludeAllocations),
        ),
      ),
      Promise.all(
        Array.from(
          { length: Math.max(Math.ceil(phones.length / IN_CHUNK), Math.ceil(cards.length / IN_CHUNK)) },
          (_, i) =>
            readOwners(db, {
              campaignId: input.campaignId,
              phones: phones.slice(i * IN_CHUNK, (i + 1) * IN_CHUNK),
              cards: cards.slice(i * IN_CHUNK, (i + 1) * IN_CHUNK),
              exclude,
            }),
        ),
      ),
    ]);
    idRows.push(...ids);
    ownerRows.push(...owners);
  };
  // The next batch starts when the last one ends (keys asked for meanwhile wait for it).
  const next = () => {
    if (reading || failure || nothingWaiting()) return;
    reading = read().then(
      () => {
        reading = undefined;
        next();
      },
      (error: unknown) => {
        reading = undefined;
        failure = { error };
      },
    );
  };
  return {
    /** Starts reading the facts of these candidates' keys (those not asked for before). */
    ask(candidates: readonly CandidateKey[]): void {
      for (const c of candidates) {
        want(asked.ids, waiting.ids, c.idHash);
        want(asked.phones, waiting.phones, c.phoneHash);
        want(asked.cards, waiting.cards, c.cardHash);
      }
      next();
    },
    async factsFor(q: {
      campaignId: number;
      targetPaymentDate: Date;
      candidates: readonly CandidateKey[];
    }): Promise<LoadedPersonFacts[]> {
      while (reading) await reading;
      if (failure) throw failure.error;
      return personFacts(idRows, ownerRows, q);
    },
  };
}

/** The facts of each candidate, in order, from the rows read for their keys. */
function personFacts(
  idRows: readonly IdFactRow[][],
  ownerRows: readonly OwnerRow[][],
  input: { campaignId: number; targetPaymentDate: Date; candidates: readonly CandidateKey[] },
): LoadedPersonFacts[] {
  const { from, to } = yearBounds(input.targetPaymentDate);
  const live = new Map<
    string,
    {
      id: number;
      campaignId: number;
      unionId: number;
      status: string;
      amountFen: number | null;
      unionName: string;
      titleZh: string;
      titleEn: string;
      paysInYear: boolean;
    }[]
  >();
  // People grassroots unions reported paying from their allocations (see readIdFacts).
  const byUnion = new Map<
    string,
    { campaignId: number; unionId: number; unionName: string; amountFen: number; paysInYear: boolean }[]
  >();

  for (const rows of idRows)
    for (const r of rows) {
      const paysInYear = r.target_payment_date >= from && r.target_payment_date < to;
      if (r.src === 'a') {
        const list = byUnion.get(r.id_number_hash) ?? [];
        list.push({
          campaignId: r.campaign_id,
          unionId: r.union_id,
          unionName: r.union_name,
          amountFen: r.amount_fen ?? 0,
          paysInYear,
        });
        byUnion.set(r.id_number_hash, list);
        continue;
      }
      let list = live.get(r.id_number_hash);
      if (!list) {
        list = [];
        live.set(r.id_number_hash, list);
      }
      list.push({
        id: r.id,
        campaignId: r.campaign_id,
        unionId: r.union_id,
        status: r.status,
        amountFen: r.amount_fen,
        unionName: r.union_name,
        titleZh: r.title_zh,
        titleEn: r.title_en,
        paysInYear,
      });
    }

  // Phone owners: the ID hashes of other live nominations in this campaign with the same phone, plus
  // the candidates themselves (two rows of one file sharing a phone are flagged too). Card owners, the
  // same way: a card another nominee of this campaign also gave is flagged. Staff phones: people
  // holding a staff or contact role whose own phone hash is a candidate's.
  const owners = new Map<string, Set<string>>();
  const cardOwners = new Map<string, Set<string>>();
  const own = (map: Map<string, Set<string>>, key: string | null | undefined, id: string | null) => {
    if (!key) return;
    let set = map.get(key);
    if (!set) {
      set = new Set<string>();
      map.set(key, set);
    }
    set.add(id ?? '');
  };
  const staffPhones = new Set<string>();
  for (const rows of ownerRows)
    for (const r of rows) {
      if (r.kind === 'p') own(owners, r.hash, r.id_number_hash);
      else if (r.kind === 'c') own(cardOwners, r.hash, r.id_number_hash);
      else staffPhones.add(r.hash);
    }
  for (const c of input.candidates) {
    own(owners, c.phoneHash, c.idHash);
    own(cardOwners, c.cardHash, c.idHash);
  }

  return input.candidates.map((c) => {
    const rows = c.idHash ? (live.get(c.idHash) ?? []) : [];
    const here = rows.find((r) => r.campaignId === input.campaignId);
    const unionRows = c.idHash ? (byUnion.get(c.idHash) ?? []) : [];
    const paidHere = unionRows.find((r) => r.campaignId === input.campaignId);
    const earlier = rows.filter((r) => r.campaignId !== input.campaignId);
    const phoneIds = c.phoneHash ? owners.get(c.phoneHash) : undefined;
    const cardIds = c.cardHash ? cardOwners.get(c.cardHash) : undefined;
    return {
      ...(here
        ? {
            blocking: {
              nominationId: here.id,
              status: here.status,
              unionName: here.unionName,
              unionId: here.unionId,
            },
          }
        : {}),
      ...(paidHere
        ? {
            paidByUnion: {
              unionName: paidHere.unionName,
              unionId: paidHere.unionId,
              amountFen: paidHere.amountFen,
            },
          }
        : {}),
      earlier: earlier.length,
      earlierCampaigns: earlier.map((r) => ({ titleZh: r.titleZh, titleEn: r.titleEn, status: r.status })),
      yearlyFen:
        rows.filter((r) => r.paysInYear).reduce((sum, r) => sum + (r.amountFen ?? 0), 0) +
        unionRows.filter((r) => r.paysInYear).reduce((sum, r) => sum + r.amountFen, 0),
      sharedPhone: phoneIds ? [...phoneIds].some((id) => id !== (c.idHash ?? '')) : false,
      sharedCard: cardIds ? [...cardIds].some((id) => id !== (c.idHash ?? '')) : false,
      staffPhone: c.phoneHash ? staffPhones.has(c.phoneHash) : false,
    };
  });
}

/**
 * A list of look-up hashes (hex) or ids as ONE text parameter, split by `string_to_array(…, ',')` in the
 * statement: as an array parameter each of a file's 10,000 values went through Prisma's raw-parameter
 * handling (mapped, cloned, serialised and parsed again) and the driver's array escaping, several times
 * the cost of the look-up itself (profiled). The look-ups go on the client's pool directly
 * (direct-sql.ts); in a transaction (submit) through $queryRaw, where one text is still far cheaper than
 * an array. Neither hashes nor ids contain a comma; '' is the empty list.
 */
const textList = (values: readonly (string | number)[]): string => values.join(',');

interface IdFactRow {
  src: 'n' | 'a';
  id: number;
  id_number_hash: string;
  campaign_id: number;
  union_id: number;
  status: string;
  amount_fen: number | null;
  union_name: string;
  title_zh: string;
  title_en: string;
  target_payment_date: Date;
}

/**
 * Live nominations and union-reported recipients with these ID hashes (any campaign). People grassroots
 * unions reported paying from their allocations: in this campaign they are already helped (the same
 * person must not be paid twice through two routes); in the payment year their amounts count towards
 * the yearly cap, the year taken from the campaign's payment date as for nominations. Read in the same
 * statement as the live nominations (UNION ALL): a dialog answer's statement budget does not grow.
 */
function readIdFacts(
  db: Reader,
  part: string[],
  statuses: string[],
  exclude: number[],
  excludeAllocations: number[],
): Promise<IdFactRow[]> {
  return directRows<IdFactRow>(db, idFactsSql(part, statuses, exclude, excludeAllocations));
}

function idFactsSql(part: string[], statuses: string[], exclude: number[], excludeAllocations: number[]) {
  const hashes = textList(part);
  return Prisma.sql`SELECT * FROM (
      SELECT 'n' AS src, n.id, n.id_number_hash, n.campaign_id, n.union_id, n.status::text AS status,
        n.amount_fen, u.name AS union_name, c.title_zh, c.title_en, c.target_payment_date, n.created_at AS at
      FROM nomination n
      JOIN grassroots_union u ON u.id = n.union_id
      JOIN campaign c ON c.id = n.campaign_id
      WHERE n.id_number_hash = ANY(string_to_array(${hashes}, ',')) AND n.status::text = ANY(${statuses}::text[])
        AND NOT (n.id = ANY(string_to_array(${textList(exclude)}, ',')::int[]))
      UNION ALL
      SELECT 'a' AS src, r.id, r.id_number_hash, a.campaign_id, a.union_id, 'allocation' AS status,
        r.amount_fen, u.name AS union_name, c.title_zh, c.title_en, c.target_payment_date, r.created_at AS at
      FROM allocation_recipient r
      JOIN union_allocation a ON a.id = r.allocation_id
      JOIN grassroots_union u ON u.id = a.union_id
      JOIN campaign c ON c.id = a.campaign_id
      WHERE r.id_number_hash = ANY(string_to_array(${hashes}, ','))
        AND NOT (a.id = ANY(string_to_array(${textList(excludeAllocations)}, ',')::int[]))
    ) x
    ORDER BY x.src DESC, x.at DESC, x.id DESC`;
}

interface OwnerRow {
  kind: 'p' | 'c' | 's';
  hash: string;
  id_number_hash: string | null;
}

/**
 * In one statement: the ID hashes of this campaign's other live nominations giving one of these phones
 * ('p') or cards ('c'), and which phones belong to people holding a staff or contact role ('s').
 */
function readOwners(
  db: Reader,
  q: { campaignId: number; phones: string[]; cards: string[]; exclude: number[] },
): Promise<OwnerRow[]> {
  return directRows<OwnerRow>(db, ownersSql(q));
}

function ownersSql(q: { campaignId: number; phones: string[]; cards: string[]; exclude: number[] }) {
  const phones = textList(q.phones);
  const cards = textList(q.cards);
  const without = textList(q.exclude);
  return Prisma.sql`
    SELECT 'p' AS kind, phone_hash AS hash, id_number_hash FROM nomination
    WHERE campaign_id = ${q.campaignId}::int AND phone_hash = ANY(string_to_array(${phones}, ','))
      AND status NOT IN ('draft', 'withdrawn', 'rejected') AND NOT (id = ANY(string_to_array(${without}, ',')::int[]))
    UNION ALL
    SELECT 'c' AS kind, bank_card_hash AS hash, id_number_hash FROM nomination
    WHERE campaign_id = ${q.campaignId}::int AND bank_card_hash = ANY(string_to_array(${cards}, ','))
      AND status NOT IN ('draft', 'withdrawn', 'rejected') AND NOT (id = ANY(string_to_array(${without}, ',')::int[]))
    UNION ALL
    SELECT DISTINCT 's' AS kind, p.phone_hash AS hash, NULL::text AS id_number_hash
    FROM person p JOIN role_grant g ON g.person_id = p.id
    WHERE p.phone_hash = ANY(string_to_array(${phones}, ',')) AND g.revoked_at IS NULL
      AND g.role IN ('admin', 'reviewer', 'finance', 'contact')`;
}

/** The live statuses as SQL literals (constants of the domain, not input): planned against the indexes. */
const LIVE_SQL = Prisma.raw(LIVE_STATUSES.map((s) => `'${s}'`).join(', '));

interface RoomInput {
  unionId: number;
  campaignId: number;
  budgetFen: bigint;
  cat: CategoryInfo;
  excludeIds?: readonly number[];
}

/**
 * The room's three figures as columns of a SELECT (`used`, `spent`, `excluded`). The campaign's live
 * amounts: the sum of all of them minus the excluded ones' (not one sum with `id NOT IN`): the
 * campaign-wide sum then reads the (campaign_id, status, amount_fen) index alone (an index-only scan)
 * instead of every row of the campaign.
 */
function roomColumns(input: RoomInput): Prisma.Sql {
  const exclude = textList(input.excludeIds ?? []);
  const hasExcluded = (input.excludeIds ?? []).length > 0;
  return Prisma.sql`${
    input.cat.quotaPerUnion === null
      ? Prisma.sql`0::int8`
      : Prisma.sql`(SELECT count(*) FROM nomination WHERE union_id = ${input.unionId}::int
          AND category_id = ${input.cat.id}::int AND status IN (${LIVE_SQL})
          AND NOT (id = ANY(string_to_array(${exclude}, ',')::int[])))`
  } AS used,
    (SELECT COALESCE(sum(amount_fen), 0)::int8 FROM nomination
      WHERE campaign_id = ${input.campaignId}::int AND status IN (${LIVE_SQL})) AS spent,
    ${
      hasExcluded
        ? Prisma.sql`(SELECT COALESCE(sum(amount_fen), 0)::int8 FROM nomination
            WHERE campaign_id = ${input.campaignId}::int AND status IN (${LIVE_SQL})
              AND id = ANY(string_to_array(${exclude}, ',')::int[]))`
        : Prisma.sql`0::int8`
    } AS excluded`;
}

function roomOf(
  input: RoomInput,
  r: { used: bigint | number; spent: bigint | number; excluded: bigint | number },
): Room & { quotaUsed: number } {
  const used = Number(r.used);
  const spentFen = BigInt(r.spent) - BigInt(r.excluded);
  return {
    quotaLeft: input.cat.quotaPerUnion === null ? null : Math.max(0, input.cat.quotaPerUnion - used),
    quotaUsed: used,
    budgetLeftFen: input.budgetFen - spentFen,
  };
}

/**
 * Places left for the union in the category and budget left in the campaign, in one statement (it was
 * three through the model API; a dialog's category answer and every submit read it).
 */
export async function loadRoom(db: Reader, input: RoomInput): Promise<Room & { quotaUsed: number }> {
  const [r] = await directRows<{ used: bigint; spent: bigint; excluded: bigint }>(
    db,
    Prisma.sql`SELECT ${roomColumns(input)}`,
  );
  return roomOf(input, r!);
}

/** A JSON date or timestamp (UTC, written without a zone) as a Date. */
const jsonUtcDate = (v: string) => new Date(v.length === 10 ? `${v}T00:00:00Z` : `${v}Z`);

/**
 * One candidate's facts and the room, in ONE statement: the review card reads them on every Next
 * press (they were three statements; README "Query budgets"). The same queries as loadPersonFacts and
 * loadRoom (the same SQL builders), their rows aggregated as JSON.
 */
export async function loadCandidateFactsAndRoom(
  db: Reader,
  input: {
    campaignId: number;
    targetPaymentDate: Date;
    candidate: CandidateKey;
    excludeIds: readonly number[];
    /** null: no category, no room to read. */
    room: Omit<RoomInput, 'excludeIds' | 'campaignId'> | null;
  },
): Promise<{ person: LoadedPersonFacts; room: (Room & { quotaUsed: number }) | null }> {
  const exclude = [...input.excludeIds];
  const c = input.candidate;
  const room = input.room && { ...input.room, campaignId: input.campaignId, excludeIds: exclude };
  const [r] = await directRows<{
    id_rows: (Omit<IdFactRow, 'target_payment_date'> & { target_payment_date: string })[];
    owner_rows: OwnerRow[];
    used: bigint | null;
    spent: bigint | null;
    excluded: bigint | null;
  }>(
    db,
    Prisma.sql`SELECT
      (SELECT COALESCE(json_agg(f ORDER BY f.src DESC, f.at DESC, f.id DESC), '[]'::json)
        FROM (${idFactsSql(c.idHash ? [c.idHash] : [], [...LIVE_STATUSES], exclude, [])}) f) AS id_rows,
      (SELECT COALESCE(json_agg(o), '[]'::json)
        FROM (${ownersSql({
          campaignId: input.campaignId,
          phones: c.phoneHash ? [c.phoneHash] : [],
          cards: c.cardHash ? [c.cardHash] : [],
          exclude,
        })}) o) AS owner_rows,
      ${room ? roomColumns(room) : Prisma.sql`NULL::int8 AS used, NULL::int8 AS spent, NULL::int8 AS excluded`}`,
  );
  const idRows = r!.id_rows.map((x) => ({ ...x, target_payment_date: jsonUtcDate(x.target_payment_date) }));
  const [person] = personFacts([idRows], [r!.owner_rows], {
    campaignId: input.campaignId,
    targetPaymentDate: input.targetPaymentDate,
    candidates: [c],
  });
  return {
    person: person!,
    room: room ? roomOf(room, { used: r!.used!, spent: r!.spent!, excluded: r!.excluded! }) : null,
  };
}

/** The nominating contact's own details, for the self-nomination flags. */
export async function loadContact(db: Reader, personId: number): Promise<ContactFacts> {
  const p = await db.person.findUniqueOrThrow({
    where: { id: personId },
    select: { displayName: true, phoneHash: true },
  });
  return { displayName: p.displayName, phoneHash: p.phoneHash };
}

/** Advisory-lock namespaces (two-key form): submissions to a campaign, nominations of a person. */
const LOCK_CAMPAIGN = 7_263_101;
const LOCK_PERSON = 7_263_102;

/**
 * Serialises admissions: the caller's transaction holds the campaign's lock (quota and budget are
 * campaign-wide facts) and, for a single nomination, the person's (the yearly cap spans campaigns),
 * until it commits. Taken first, in this order, so the facts read afterwards are the latest committed
 * ones and two submissions never decide on the same stale room. Under SERIALIZABLE, 20 contacts
 * submitting at once conflicted and retried; a lock makes them wait their turn instead.
 */
export async function lockAdmission(
  tx: Tx,
  input: { campaignId: number; idHash?: string | null },
): Promise<void> {
  if (!input.idHash) {
    await tx.$queryRaw`SELECT 1 AS locked FROM (SELECT pg_advisory_xact_lock(${LOCK_CAMPAIGN}::int, ${input.campaignId}::int)) l`;
    return;
  }
  // Both in one statement, still campaign first: the outer lock is taken for the row the inner
  // subquery returns, after the inner one (OFFSET 0 keeps the subquery from being flattened).
  await tx.$queryRaw`SELECT 1 AS locked FROM (
      SELECT pg_advisory_xact_lock(${LOCK_PERSON}::int, hashtext(${input.idHash}))
      FROM (SELECT pg_advisory_xact_lock(${LOCK_CAMPAIGN}::int, ${input.campaignId}::int) OFFSET 0) c
    ) l`;
}
