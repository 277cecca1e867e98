import type { Job, Worker } from 'bullmq';
import type { z } from 'zod';
import type { QueueName } from '../adapters/queue/queues.ts';

/**
 * One job = a name, the queue it runs on, a zod schema of its payload (ids only) and a handler that
 * calls one use case. Handlers must be idempotent: delivery is at least once, so any side effect is
 * guarded by a row claimed in PostgreSQL before it happens.
 */
export interface JobDefinition<S extends z.ZodType, D> {
  queue: QueueName;
  name: string;
  schema: S;
  /** `run.worker` is there for `worker.rateLimit()` on a 429 (then throw `Worker.RateLimitError()`). */
  /** `run.token` is the job's lock token (for `job.moveToDelayed(ts, token)` + `DelayedError`). */
  handle: (deps: D, data: z.infer<S>, job: Job, run: { worker: Worker; token?: string }) => Promise<string>;
}

// biome-ignore lint/suspicious/noExplicitAny: a registry holds definitions of every payload type
export type AnyJob<D> = JobDefinition<any, D>;

export function defineJob<S extends z.ZodType, D>(def: JobDefinition<S, D>): JobDefinition<S, D> {
  return def;
}
