import { UnrecoverableError, Worker, type WorkerOptions } from 'bullmq';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../http/metrics.ts';
import type { AnyJob } from '../../jobs/registry.ts';
import { clusterSafePrefix, QUEUE_NAMES, type QueueName, workerConnection } from './queues.ts';

/**
 * Thin BullMQ workers: validate the payload (ids only), call the job's handler, count outcomes.
 * A payload that does not validate or an unknown job name is UnrecoverableError (retrying cannot help).
 */
export function startWorkers<D>(opts: {
  redisUrl: string;
  prefix: string;
  concurrency: number;
  jobs: AnyJob<D>[];
  deps: D;
  logger: Logger;
  metrics: Metrics;
  /** Extra options for one queue's worker (e.g. a global `limiter` for notifications). */
  perQueue?: Partial<Record<QueueName, Partial<WorkerOptions>>>;
}): Worker[] {
  return QUEUE_NAMES.map((queue) => {
    const jobs = new Map(opts.jobs.filter((j) => j.queue === queue).map((j) => [j.name, j]));
    const worker: Worker = new Worker(
      queue,
      async (job, token) => {
        const def = jobs.get(job.name);
        if (!def) throw new UnrecoverableError(`no handler for job ${queue}/${job.name}`);
        const parsed = def.schema.safeParse(job.data);
        if (!parsed.success) throw new UnrecoverableError(`invalid payload for ${queue}/${job.name}`);
        const outcome = await def.handle(opts.deps, parsed.data, job, {
          worker,
          ...(token ? { token } : {}),
        });
        opts.metrics.inc('warmth_jobs_total', 'Jobs processed', { queue, job: job.name, outcome });
        return outcome;
      },
      {
        connection: workerConnection(opts.redisUrl),
        prefix: clusterSafePrefix(opts.prefix),
        concurrency: opts.concurrency,
        autorun: true,
        ...opts.perQueue?.[queue],
      },
    );
    worker.on('failed', (job, err) => {
      opts.metrics.inc('warmth_jobs_failed_total', 'Job attempts that failed', { queue });
      if (job && job.attemptsMade < (job.opts.attempts ?? 1))
        opts.metrics.inc('warmth_jobs_retried_total', 'Failed job attempts that will be retried', { queue });
      opts.logger.warn({ queue, job: job?.name, jobId: job?.id, err }, 'job attempt failed');
    });
    worker.on('error', (err) => opts.logger.warn({ queue, err }, 'worker error (will reconnect)'));
    return worker;
  });
}
