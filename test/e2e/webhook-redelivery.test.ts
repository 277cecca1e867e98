import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../support/harness.ts';
import { TcpProxy } from '../support/tcp-proxy.ts';
import { postUpdate, textUpdate } from '../support/webhook.ts';

// Webhook de-duplication records an update as done only AFTER it was handled: an update that failed
// because PostgreSQL was unreachable is answered 503 (Telegram delivers it again) and, delivered again
// once the database is back, it is handled instead of being dropped as a repeat. (Emulator limits off:
// this test is about redelivery; the test posts to the webhook itself, as Telegram would.)

let h: Harness;
const pgProxy = new TcpProxy('127.0.0.1', 5432);
beforeAll(async () => {
  await pgProxy.start();
  h = await startHarness({
    mode: 'webhook',
    databaseUrlFor: (url) => {
      const u = new URL(url);
      u.port = String(pgProxy.port);
      return u.toString();
    },
  });
});
afterAll(async () => {
  pgProxy.restore();
  await h?.stop();
  await pgProxy.close();
});

const post = (update: object) => postUpdate(h.env['WEBHOOK_URL']!, h.env['WEBHOOK_SECRET']!, update);

describe('webhook redelivery', () => {
  it('an update that failed for an outage is handled when delivered again', async () => {
    const u = h.emu.user(873_001, { firstName: '重投', languageCode: 'zh-hans' });
    await u.handle.register();
    const update = textUpdate(u.id, '重投', '/whoami');
    pgProxy.cutConnections();
    const first = await post(update);
    expect(first.status).toBe(503);
    await u.expectReply(/系统暂时无法处理/);
    pgProxy.restore();
    // Telegram delivers it again (a pool connection may be found broken once more: then again).
    for (let attempt = 1; ; attempt++) {
      const again = await post(update);
      if (again.status === 200) break;
      expect(attempt).toBeLessThan(20);
      await new Promise((r) => setTimeout(r, 250));
    }
    await u.expectReply(/Telegram 编号/);
    // Handled now: a further delivery of the same update is a repeat and dropped.
    expect((await post(update)).status).toBe(200);
    await u.expectNoReply(300);
  });
});
