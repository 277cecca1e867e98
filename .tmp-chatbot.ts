import { Input, Markup, Telegraf } from 'telegraf';
const bot = new Telegraf('42:demo', { telegram: { apiRoot: process.env.API!, webhookReply: false } });
bot.start((ctx) => ctx.reply(`欢迎 ${ctx.from.first_name}`, Markup.inlineKeyboard([Markup.button.callback('确认', 'ok'), Markup.button.callback('取消', 'no')])));
bot.action('ok', async (ctx) => { await ctx.answerCbQuery('好的', { show_alert: true }); await ctx.editMessageText('已确认'); });
bot.command('doc', (ctx) => ctx.replyWithDocument(Input.fromBuffer(Buffer.from('a,b\n'), 'r.csv')));
bot.on('text', (ctx) => ctx.reply(`echo: ${ctx.message.text}`));
bot.on('document', (ctx) => ctx.reply(`got ${ctx.message.document.file_name}`));
void bot.launch();
process.on('SIGTERM', () => { bot.stop(); process.exit(0); });
