// The no-op telegraf bot of the review benchmark's baseline: what a bot costs that does nothing but the
// Bot API traffic. /start → a card with one button; a press answers the callback and edits the card.
// In the bench's process (`noopReviewBot`), or in a process of its own for `BOT_PROCESS=1`:
//
//   NOOP_TOKEN=… NOOP_API_ROOT=… node --import tsx bench/noop-bot.ts review   (prints "noop ready")
import { fileURLToPath } from 'node:url';
import { Telegraf } from 'telegraf';

export function noopReviewBot(token: string, apiRoot: string): Telegraf {
  const bot = new Telegraf(token, { telegram: { apiRoot, webhookReply: false } });
  let n = 0;
  const kb = { reply_markup: { inline_keyboard: [[{ text: 'go', callback_data: 'go' }]] } };
  bot.command('start', (ctx) => ctx.reply('card', kb));
  bot.on('callback_query', async (ctx) => {
    await ctx.answerCbQuery();
    await ctx.editMessageText(`done ${++n}`, kb);
  });
  return bot;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv[2] !== 'review') throw new Error(`unknown mode ${process.argv[2]}`);
  const bot = noopReviewBot(process.env['NOOP_TOKEN']!, process.env['NOOP_API_ROOT']!);
  void bot.launch({ dropPendingUpdates: true }, () => console.log('noop ready'));
  process.once('SIGTERM', () => bot.stop('SIGTERM'));
}
