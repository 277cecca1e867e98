import type { Update } from 'telegraf/types';
import type { Logger } from '../logger.ts';
import type { BotApp } from './bot.ts';

// Long polling that does not wait for a batch to finish before fetching the next one. telegraf's own
// loop awaits every update of a getUpdates batch before it asks again, so one update waiting for its
// send slot (or a slow one) holds up every other chat. Here each update is handed to the bot as soon
// as it arrives; the shell's chat ordering (chat-order.ts) keeps one chat's updates in order, and at
// most `maxInFlight` updates are handled at once. As with telegraf, an update is confirmed to Telegram
// (the next offset) once it was fetched: an update in progress when the process dies is not delivered
// again (webhook mode, the production set-up, redelivers it).

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function startPolling(
  app: BotApp,
  logger: Logger,
  opts: { maxInFlight?: number; timeoutSec?: number } = {},
): { stop: () => Promise<void> } {
  const maxInFlight = opts.maxInFlight ?? 500;
  const abort = new AbortController();
  let stopped = false;
  const loop = (async () => {
    await app.bot.telegram.deleteWebhook({ drop_pending_updates: false }).catch((err: unknown) => {
      logger.warn({ err }, 'deleteWebhook failed before polling');
    });
    let offset = 0;
    let failures = 0;
    while (!stopped) {
      while (app.inFlight() >= maxInFlight && !stopped) await sleep(20);
      let updates: Update[];
      try {
        updates = await app.bot.telegram.callApi(
          'getUpdates',
          { offset, timeout: opts.timeoutSec ?? 30, allowed_updates: [] },
          // biome-ignore lint/suspicious/noExplicitAny: telegraf types the signal with a polyfill's AbortSignal
          { signal: abort.signal as any },
        );
        failures = 0;
      } catch (err) {
        if (stopped) break;
        failures++;
        logger.warn({ err, failures }, 'getUpdates failed; polling again shortly');
        await sleep(Math.min(5_000, 250 * 2 ** Math.min(failures, 5)));
        continue;
      }
      for (const u of updates) {
        offset = Math.max(offset, u.update_id + 1);
        // Not awaited: handleUpdate enters the shell's chat ordering synchronously, in this order.
        void app.bot.handleUpdate(u).catch((err: unknown) => logger.error({ err }, 'update failed'));
      }
    }
  })();
  return {
    async stop() {
      stopped = true;
      abort.abort();
      await loop.catch(() => {});
    },
  };
}
