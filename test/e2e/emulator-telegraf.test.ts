import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Input, Markup, Telegraf } from 'telegraf';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestEmulator, type TestEmulator } from '../support/conversation.ts';

const TOKEN = '7000001:telegraf-e2e';

let emu: TestEmulator;
let bot: Telegraf;
let errors: unknown[];

function buildBot(webhookReply: boolean): Telegraf {
  const bot = new Telegraf(TOKEN, { telegram: { apiRoot: emu.apiRoot, webhookReply } });
  bot.catch((err) => {
    errors.push(err);
  });
  bot.start((ctx) =>
    ctx.reply(
      `欢迎 ${ctx.from.first_name}! payload=${ctx.payload}`,
      Markup.inlineKeyboard([
        Markup.button.callback('确认', 'confirm'),
        Markup.button.callback('取消', 'cancel'),
      ]),
    ),
  );
  bot.action('confirm', async (ctx) => {
    await ctx.answerCbQuery('好的');
    await ctx.editMessageText('已确认 ✅');
  });
  bot.command('report', (ctx) =>
    ctx.replyWithDocument(Input.fromBuffer(Buffer.from('name,amount\n张三,500\n'), '报表.csv'), {
      caption: '本期名单',
    }),
  );
  bot.on('document', async (ctx) => {
    const link = await ctx.telegram.getFileLink(ctx.message.document.file_id);
    const body = await (await fetch(link)).text();
    await ctx.reply(`收到 ${ctx.message.document.file_name}: ${body.length} chars`);
  });
  return bot;
}

beforeEach(async () => {
  // About the emulator's method and update shapes with a plain telegraf bot, which has no pacing of its
  // own: limits off (the limits have their own tests in emulator.test.ts and ordering.test.ts).
  emu = await startTestEmulator({ timeoutMs: 15_000, limits: { perChatPerSecond: 0, globalPerSecond: 0 } });
  errors = [];
});

afterEach(async () => {
  await emu.close();
  expect(errors).toEqual([]);
});

describe('a real telegraf bot (polling) against the emulator', () => {
  beforeEach(() => {
    bot = buildBot(false);
    void bot.launch().catch((err: unknown) => errors.push(err));
  });
  afterEach(() => {
    bot.stop('test over');
  });

  it('handles /start, a button press with answer + edit, and documents both ways', async () => {
    const alice = emu.user(1001, { firstName: '张三', languageCode: 'zh-hans' });
    await alice.send('/start invite42');
    const welcome = await alice.expectReply(/欢迎 张三/);
    expect(welcome.text).toBe('欢迎 张三! payload=invite42');
    expect(welcome.buttons.map((b) => b.text)).toEqual(['确认', '取消']);

    await alice.press('确认');
    const answer = await alice.expectAnswer('好的');
    expect(answer.data).toBe('confirm');
    const edited = await alice.expectEdit(/已确认/);
    expect(edited.messageId).toBe(welcome.messageId);
    expect(edited.edits.map((v) => v.text)).toEqual([welcome.text]);
    expect(edited.buttons).toEqual([]);

    await alice.send('/report');
    const doc = await alice.expectDocument('报表.csv');
    expect(doc.caption).toBe('本期名单');
    expect((await alice.download(doc)).toString()).toContain('张三,500');

    await alice.upload({ fileName: 'list.csv', bytes: Buffer.from('a,b\n1,2\n') });
    await alice.expectReply('收到 list.csv: 8 chars');
  });

  it('fails expectReply with a transcript of what the chat received', async () => {
    const bob = emu.user(1002, { firstName: 'Bob' });
    await bob.send('/start');
    await bob.expectReply(/欢迎/);
    const failure = await bob.expectReply(/never sent/, { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toMatch(/timed out after 300 ms/);
    expect((failure as Error).message).toContain('user  #1: /start');
    expect((failure as Error).message).toContain('欢迎 Bob! payload=  [确认] [取消]');
  });
});

describe('a real telegraf bot (webhook) against the emulator', () => {
  it('receives updates on its webhook and its webhook replies are executed', async () => {
    const bot = buildBot(true);
    const server = createServer(bot.webhookCallback('/hook', { secretToken: 'hook_secret' }));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
      await bot.telegram.setWebhook(url, { secret_token: 'hook_secret' });
      const carol = emu.user(1003, { firstName: 'Carol' });
      await carol.send('/start');
      await carol.expectReply(/欢迎 Carol/);
      await carol.press('确认');
      // answerCbQuery goes back in the webhook HTTP response (webhookReply) and the emulator executes it
      expect((await carol.expectAnswer('好的')).data).toBe('confirm');
      await carol.expectEdit('已确认 ✅');
      const deliveries = await emu.client.webhookDeliveries();
      expect(deliveries.length).toBeGreaterThanOrEqual(2);
      expect(deliveries.every((d) => d.ok)).toBe(true);
    } finally {
      server.close();
    }
  });
});
