import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.ts';

// The same bot in webhook mode: the emulator POSTs updates to the bot's HTTP server with the secret header.

let h: Harness;
let hookUrl: string;
const METRICS_TOKEN = 'metrics_token_for_the_test_0123';
beforeAll(async () => {
  h = await startHarness({ mode: 'webhook', admins: [5001], env: { METRICS_TOKEN } });
  hookUrl = h.env['WEBHOOK_URL']!;
});
afterAll(async () => {
  await h?.stop();
});

const post = (headers: Record<string, string>, body: unknown) =>
  fetch(hookUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

describe('webhook mode', () => {
  it('handles updates delivered to the webhook', async () => {
    const admin = h.emu.user(5001, { firstName: '王主任', languageCode: 'zh-hans' });
    await admin.send('/start');
    await admin.expectReply(/您好[\s\S]*管理员/);
    await admin.send('/union_add 县人民医院工会');
    await admin.expectReply(/确认新增/);
    await admin.press('确认新增');
    await admin.expectEdit(/已新增基层工会/);
  });

  it('refuses a wrong or missing secret without handling the update', async () => {
    const update = {
      update_id: 999_001,
      message: {
        message_id: 1,
        date: 1,
        chat: { id: 7777, type: 'private' },
        from: { id: 7777, is_bot: false, first_name: 'X' },
        text: '/start',
      },
    };
    expect((await post({ 'x-telegram-bot-api-secret-token': 'wrong_secret_value_123' }, update)).status).toBe(
      401,
    );
    expect((await post({}, update)).status).toBe(401);
    expect(await h.app.db.person.count({ where: { telegramId: 7777n } })).toBe(0);
    expect(h.app.metrics.get('warmth_webhook_rejected_total')).toBe(2);
    // The right secret is accepted (proves the refusal was about the secret, not the body).
    expect((await post({ 'x-telegram-bot-api-secret-token': h.env['WEBHOOK_SECRET']! }, update)).status).toBe(
      200,
    );
    expect(await h.app.db.person.count({ where: { telegramId: 7777n } })).toBe(1);
  });

  it('processes a repeated update once', async () => {
    const u = h.emu.user(6301, { firstName: '重复', languageCode: 'zh-hans' });
    const sent = await u.send('随便说一句');
    await u.expectReply(/收到/);
    const before = (await u.messages()).length;
    await h.emu.client.repeatUpdate(sent.updateId);
    for (let i = 0; i < 100; i++) {
      const deliveries = (await h.emu.client.webhookDeliveries()).filter((d) => d.updateId === sent.updateId);
      if (deliveries.length >= 2 && deliveries.every((d) => d.ok)) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    await u.expectNoReply(300);
    expect((await u.messages()).length).toBe(before);
    expect(h.app.metrics.get('warmth_updates_duplicate_total')).toBe(1);
  });

  it('serves health and Prometheus metrics', async () => {
    const base = `http://127.0.0.1:${h.app.httpPort}`;
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ ok: true, checks: { database: true, redis: true } });
    // The webhook port is public: /metrics needs the token (issue 12, finding 10).
    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    const metrics = await (
      await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
    ).text();
    expect(metrics).toMatch(/# TYPE warmth_updates_total counter/);
    expect(metrics).toMatch(/warmth_updates_total\{type="message"\} \d+/);
    expect(metrics).toMatch(/warmth_queue_jobs\{queue="notifications",state="waiting"\} 0/);
  });
});
