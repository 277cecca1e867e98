import type { FieldCipher } from '../../adapters/crypto/field-cipher.ts';
import type { Db } from '../../adapters/db/client.ts';
import type { Queues } from '../../adapters/queue/queues.ts';

export interface ReviewDeps {
  db: Db;
  cipher: FieldCipher;
  queues: Queues;
  now: () => Date;
}

/** Statuses in which a campaign no longer takes review decisions. */
export const CLOSED_CAMPAIGN_STATUSES = ['archived'] as const;
