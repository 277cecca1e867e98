import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueueNotice } from '../../src/usecases/notices.ts';
import { startHarness, type Harness } from '../support/harness.ts';

// The notice pipeline through the real worker: one row per key, claimed before the send.

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

async function waitFor<T>(fn: () => Promise<T | undefined | null | false>, tries = 200): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const v = await fn();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('condition not reached');
}

describe('notices', () => {
  it('sends once per key, rendered in the recipient language', async () => {
    const u = h.emu.user(9101, { firstName: 'Ann', languageCode: 'en' });
    await u.send('/start');
    await u.expectReply(/Hello/);
    const person = await h.app.db.person.findUniqueOrThrow({ where: { telegramId: 9101n } });
    const req = {
      uniqueKey: 'test-9101-a',
      kind: 'decision' as const,
      personId: person.id,
      template: 'admin.granted',
      params: { id: '9101', role: '@roles.reviewer' },
    };
    await Promise.all([
      enqueueNotice(h.app.db, h.app.queues, req),
      enqueueNotice(h.app.db, h.app.queues, req),
    ]).catch(() => enqueueNotice(h.app.db, h.app.queues, req));
    await u.expectReply(/9101 is now reviewer\./);
    await enqueueNotice(h.app.db, h.app.queues, req);
    await u.expectNoReply(500);
    const rows = await h.app.db.notice.findMany({
      where: { uniqueKey: 'test-9101-a' },
      include: { deliveries: true },
    });
    expect(rows).toHaveLength(1);
    expect(rows[0]!.status).toBe('sent');
    expect(rows[0]!.deliveries.map((d) => d.outcome)).toEqual(['sent']);
  });

  it('marks a chat that blocked the bot unreachable, without retrying', async () => {
    const u = h.emu.user(9102, { firstName: '小王', languageCode: 'zh-hans' });
    await u.send('/start');
    await u.expectReply(/您好/);
    await u.handle.block();
    const person = await h.app.db.person.findUniqueOrThrow({ where: { telegramId: 9102n } });
    const row = await enqueueNotice(h.app.db, h.app.queues, {
      uniqueKey: 'test-9102',
      kind: 'decision',
      personId: person.id,
      template: 'dialog.cancelled',
    });
    const done = await waitFor(async () => {
      const n = await h.app.db.notice.findUnique({ where: { id: row.id } });
      return n?.status === 'unreachable' ? n : undefined;
    });
    expect(done.attempts).toBe(1);
    expect(
      (await h.app.db.person.findUniqueOrThrow({ where: { id: person.id } })).blockedBotAt,
    ).not.toBeNull();
  });
});
