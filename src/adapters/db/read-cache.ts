import { currentQueryScope } from './query-scope.ts';

// What every update would otherwise read again and again (a campaign's row and settings, its categories,
// a union's name), kept in memory per bot process and checked against ONE version number per update
// (README "Caches and invalidation"). The version is the row of `cache_version`, bumped by triggers on
// campaign, campaign_category, grassroots_union and role_grant in the writer's own transaction
// (migration 20261202080000_cache_version): a change by the bot, the admin CLI or direct SQL is seen
// by the next update of every bot process. It costs no statement of its own: touchPerson reads it in
// the statement that loads the person and their grants, and notes it in the update's scope.
//
// Correctness: an entry is tagged with the newest version this cache had read from the database before
// the entry was loaded, so its data is at least that new. It is used only when its tag equals that
// newest version, which is at least the version the current update read at its start: an update never
// sees data older than what was committed when it began. Work outside an update (workers, CLI), or an
// update whose version is unknown (a first contact), reads the database directly.

const MAX_ENTRIES = 2_000;

/** One bot process's cache (bot.ts puts it in every update's query scope). */
export class ReadCache {
  private readonly entries = new Map<string, { tag: bigint; value: unknown }>();
  private newest = -1n;
  hits = 0;
  misses = 0;

  observe(v: bigint): void {
    if (v > this.newest) {
      this.newest = v;
      this.entries.clear();
    }
  }

  async read<T>(key: string, load: () => Promise<T>): Promise<T> {
    const tag = this.newest;
    const hit = this.entries.get(key);
    if (hit && hit.tag === tag) {
      this.hits++;
      return hit.value as T;
    }
    this.misses++;
    const value = await load();
    if (value === null || value === undefined || tag !== this.newest) return value;
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    this.entries.set(key, { tag, value });
    return value;
  }
}

/** The version read at the start of this update (touchPerson): the cache may be used from here on. */
export function noteCacheVersion(version: bigint | number | string | null | undefined): void {
  const scope = currentQueryScope();
  if (!scope?.cache || version === null || version === undefined) return;
  const v = BigInt(version);
  scope.cacheVersion = v;
  scope.cache.observe(v);
}

/**
 * The value under `key`: from this process's cache when loaded at the current version, else from
 * `load` (then kept). The value is shared between updates: callers must not change it.
 */
export function cachedRead<T>(key: string, load: () => Promise<T>): Promise<T> {
  const scope = currentQueryScope();
  if (!scope?.cache || scope.cacheVersion === undefined) return load();
  return scope.cache.read(key, load);
}
