// A no-op telegraf bot in a process of its own, for the baselines of benchmarks that run the real bot in
// a process of its own (`--bot-process`): what a bot costs that does nothing but the Bot API traffic.
// Env: NOOP_TOKEN, NOOP_API_ROOT. Mode (argv[2]) 'review': /start → a card with one button; a press
// answers the callback and edits the card. Prints "noop ready" once polling.
//
//   node --import tsx bench/noop-bot.ts review
import { Telegraf } from 'telegraf';

const bot = new Telegraf(process.env['NOOP_TOKEN']!, {
  telegram: { apiRoot: process.env['NOOP_API_ROOT']!, webhookReply: false },
});
const mode = process.argv[2];
if (mode !== 'review') throw new Error(`unknown mode ${mode}`);
let n = 0;
const kb = { reply_markup: { inline_keyboard: [[{ text: 'go', callback_data: 'go' }]] } };
bot.command('start', (ctx) => ctx.reply('card', kb));
bot.on('callback_query', async (ctx) => {
  await ctx.answerCbQuery();
  await ctx.editMessageText(`done ${++n}`, kb);
});
void bot.launch({ dropPendingUpdates: true }, () => console.log('noop ready'));
process.once('SIGTERM', () => bot.stop('SIGTERM'));
