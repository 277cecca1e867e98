import type { Db, Tx } from '../adapters/db/client.ts';
import { cachedRead } from '../adapters/db/read-cache.ts';

// Rows read on (almost) every update, served from the per-process cache checked once per update
// (src/adapters/db/read-cache.ts; README "Caches and invalidation"). The returned objects are shared:
// read them, never change them.

export function campaignRow(db: Db | Tx, id: number) {
  return cachedRead(`campaign:${id}`, () => db.campaign.findUnique({ where: { id } }));
}

export function categoryRow(db: Db | Tx, id: number) {
  return cachedRead(`category:${id}`, () => db.campaignCategory.findUnique({ where: { id } }));
}
