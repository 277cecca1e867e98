import { queueReviewTask } from '../../../usecases/review/tasks.ts';
import type { BotDeps } from '../kit.ts';

/**
 * `NominationDeps.onSubmitted` for chat submissions: queues the review task of the new revision. A
 * failure (Redis down) is logged, not shown: the nomination is submitted and in /queue either way, and
 * `ensureReviewTasks` at worker start queues any task that is missing.
 */
export const reviewTaskHook =
  (deps: Pick<BotDeps, 'queues' | 'logger'>) =>
  async (r: { id: number; revision: number }): Promise<void> => {
    try {
      await queueReviewTask(deps.queues, { nominationId: r.id, revision: r.revision });
    } catch (err) {
      deps.logger.warn({ err, nominationId: r.id }, 'review task not queued (ensureReviewTasks will add it)');
    }
  };
