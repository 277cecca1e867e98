import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.ts';

// Registration and roles through the real bot over HTTP against the emulator, in polling and in
// webhook mode (the same conversations; the harness differs only in BOT_MODE).

const ADMIN = 5001;
let h: Harness;

async function createUnion(name: string): Promise<number> {
  const admin = h.emu.user(ADMIN, { firstName: '王主任', languageCode: 'zh-hans' });
  await admin.send(`/union_add ${name}`);
  await admin.expectReply(new RegExp(`确认新增基层工会“${name}”`));
  await admin.press('确认新增');
  const edited = await admin.expectEdit(/已新增基层工会/);
  return Number(/：(\d+)\./.exec(edited.text ?? '')![1]);
}

async function inviteLink(unionId: number, uses = 1): Promise<string> {
  const admin = h.emu.user(ADMIN, { firstName: '王主任', languageCode: 'zh-hans' });
  await admin.send(`/invite ${unionId} ${uses}`);
  const msg = await admin.expectReply(/邀请链接/);
  return /start=(inv_[A-Za-z0-9_-]+)/.exec(msg.text ?? '')![1]!;
}

describe.each(['polling', 'webhook'] as const)('%s mode', (mode) => {
  beforeAll(async () => {
    h = await startHarness({ admins: [ADMIN], mode });
  });
  afterAll(async () => {
    await h?.stop();
  });

  describe('registration by invite', () => {
    it('an admin creates a union and an invite; a contact joins after confirming', async () => {
      const unionId = await createUnion('县人民医院工会');
      const payload = await inviteLink(unionId);

      const contact = h.emu.user(6001, { firstName: '张联系', languageCode: 'zh-hans' });
      await contact.command('/start', payload);
      await contact.expectReply(/受邀成为“县人民医院工会”的联系人/);
      await contact.press('确认加入');
      await contact.expectEdit(/已加入“县人民医院工会”/);
      await contact.send('/whoami');
      await contact.expectReply(/基层工会联系人[\s\S]*县人民医院工会/);

      const audit = await h.app.db.auditLog.findMany({ orderBy: { id: 'asc' } });
      expect(audit.map((a) => a.action)).toEqual(
        expect.arrayContaining(['union.create', 'invite.create', 'invite.redeem', 'role.grant']),
      );
      const grant = await h.app.db.roleGrant.findFirst({
        where: { person: { telegramId: 6001n }, role: 'contact' },
      });
      expect(grant?.unionId).toBe(unionId);
    });

    it('refuses wrong, used and expired codes with a clear message', async () => {
      const unionId = await createUnion('县邮政快递行业工会');
      const stranger = h.emu.user(6002, { firstName: '陌生人', languageCode: 'zh-hans' });
      await stranger.command('/start', 'inv_AAAAAAAAAAAAAAAAAAAAAAAA');
      await stranger.expectReply(/邀请链接无效/);
      await stranger.command('/start', 'inv_short');
      await stranger.expectReply(/邀请链接无效/);

      const single = await inviteLink(unionId, 1);
      const first = h.emu.user(6003, { firstName: '甲', languageCode: 'zh-hans' });
      await first.command('/start', single);
      await first.expectReply(/确认加入吗/);
      await first.press('确认加入');
      await first.expectEdit(/已加入/);
      const second = h.emu.user(6004, { firstName: '乙', languageCode: 'zh-hans' });
      await second.command('/start', single);
      await second.expectReply(/已被使用/);

      const late = await inviteLink(unionId, 1);
      await h.app.db.invite.updateMany({
        where: { uses: 0 },
        data: { expiresAt: new Date(Date.now() - 1000) },
      });
      await second.command('/start', late);
      await second.expectReply(/已过期/);
      expect(await h.app.db.roleGrant.count({ where: { person: { telegramId: 6004n } } })).toBe(0);
    });

    it('two people racing for the last use of a link: exactly one joins', async () => {
      const unionId = await createUnion('县供电局工会');
      const payload = await inviteLink(unionId, 1);
      const a = h.emu.user(6011, { firstName: '甲', languageCode: 'zh-hans' });
      const b = h.emu.user(6012, { firstName: '乙', languageCode: 'zh-hans' });
      await a.command('/start', payload);
      await a.expectReply(/确认加入吗/);
      await b.command('/start', payload);
      await b.expectReply(/确认加入吗/);
      await Promise.all([a.press('确认加入'), b.press('确认加入')]);
      await Promise.all([a.expectAnswer(), b.expectAnswer()]);
      await new Promise((r) => setTimeout(r, 300));
      const grants = await h.app.db.roleGrant.count({ where: { unionId, role: 'contact', revokedAt: null } });
      expect(grants).toBe(1);
    });
  });

  describe('roles are checked on the server', () => {
    it('a contact trying admin commands is refused, and the menu shows only their commands', async () => {
      const user = h.emu.user(6001, { firstName: '张联系', languageCode: 'zh-hans' });
      await user.send('/grant 6001 admin');
      await user.expectReply(/没有办理此项业务的权限/);
      await user.send('/unions');
      await user.expectReply(/没有办理此项业务的权限/);
      expect(
        await h.app.db.roleGrant.count({ where: { person: { telegramId: 6001n }, role: 'admin' } }),
      ).toBe(0);
      await user.send('/start');
      await user.expectReply(/您好/);
      const menu = (await user.commands()).map((c) => c.command);
      expect(menu).toContain('help');
      expect(menu).not.toContain('grant');
    });

    it('admins grant and revoke staff roles, audited; the last admin cannot be revoked', async () => {
      const admin = h.emu.user(ADMIN, { firstName: '王主任', languageCode: 'zh-hans' });
      await admin.send('/grant 7001 reviewer');
      await admin.expectReply(/已授予 7001 “审核人员”身份/);
      await admin.send('/grant 7001 审核员');
      await admin.expectReply(/无需重复授予/);
      await admin.send('/revoke 7001 reviewer');
      await admin.expectReply(/已撤销 7001 的“审核人员”身份/);
      await admin.send(`/revoke ${ADMIN} admin`);
      await admin.expectReply(/不能撤销自己的管理员身份/);
      await admin.send('/grant nobody');
      await admin.expectReply(/用法：\/grant/);
      // Contacts are not granted: they join through their union's invite link.
      await admin.send('/grant 7001 联系人');
      await admin.expectReply(/通过邀请链接加入/);
      const actions = (await h.app.db.auditLog.findMany({ where: { action: { startsWith: 'role.' } } })).map(
        (a) => a.action,
      );
      expect(actions.filter((a) => a === 'role.revoke')).toHaveLength(1);
    });

    it('forged or foreign button data is refused', async () => {
      const admin = h.emu.user(ADMIN, { firstName: '王主任', languageCode: 'zh-hans' });
      await admin.send('/union_add 县教育局工会');
      const card = await admin.expectReply(/确认新增/);
      const realData = card.buttons.find((b) => b.text === '确认新增')!.callbackData!;

      // A modified client can send any callback data: inject such presses as raw updates.
      let n = 0;
      const forge = async (fromId: number, data: string) => {
        const id = `forged-${fromId}-${++n}`;
        await h.emu.client.injectRawUpdate({
          callback_query: {
            id,
            from: { id: fromId, is_bot: false, first_name: 'X', language_code: 'zh-hans' },
            message: card.raw,
            chat_instance: 'ci',
            data,
          },
        });
        for (let i = 0; i < 200; i++) {
          const answers = [
            ...(await admin.handle.callbackAnswers()),
            ...(await h.emu.user(fromId).handle.callbackAnswers()),
          ];
          const ans = answers.find((a) => a.callbackQueryId === id);
          if (ans) return ans.text ?? '';
          await new Promise((r) => setTimeout(r, 25));
        }
        throw new Error(`no answer to forged callback: ${h.logs.slice(-5).join('')}`);
      };
      expect(await forge(ADMIN, realData.replace(/\|[^|]+$/, '|AAAAAAAAAA'))).toMatch(/按钮已失效或无法识别/);
      expect(await forge(ADMIN, 'union_ok||')).toMatch(/按钮已失效或无法识别/);
      // The admin's genuine button data sent by someone else: refused (the MAC covers the user).
      const other = h.emu.user(6001, { firstName: '张联系', languageCode: 'zh-hans' });
      await other.send('/start');
      await other.expectReply(/您好/);
      expect(await forge(6001, realData)).toMatch(/按钮已失效或无法识别/);
      expect(await h.app.db.union.count({ where: { name: '县教育局工会' } })).toBe(0);
    });
  });

  describe('the shell', () => {
    it('answers unknown commands and stray input helpfully, in the user language', async () => {
      const u = h.emu.user(6100, { firstName: 'Alice', languageCode: 'en' });
      await u.send('/frobnicate');
      await u.expectReply(/There is no \/frobnicate command/);
      await u.send('hello?');
      await u.expectReply(/send \/help/);
      await u.send('/help');
      await u.expectReply(/Commands:[\s\S]*\/whoami/);
      const zh = h.emu.user(6101, { firstName: '小李', languageCode: 'zh-hans' });
      await zh.send('/lang');
      await zh.expectReply(/请选择语言/);
      await zh.press('English');
      await zh.expectEdit(/Language set to English/);
      await zh.send('/whoami');
      await zh.expectReply(/Language: English/);
    });

    it('resumes a dialog after the bot restarts', async () => {
      const admin = h.emu.user(ADMIN, { firstName: '王主任', languageCode: 'zh-hans' });
      await admin.send('/union_add');
      await admin.expectReply(/请输入基层工会的全称/);
      await h.restart();
      await admin.send('县交通运输局工会');
      await admin.expectReply(/确认新增基层工会“县交通运输局工会”/);
      await admin.press('确认新增');
      await admin.expectEdit(/已新增基层工会/);
    });

    it('keeps personal data and secrets out of the logs', async () => {
      const u = h.emu.user(6200, { firstName: '测试', languageCode: 'zh-hans' });
      await u.send('我的身份证号11010519491231002X，手机13812345678');
      await u.expectReply(/收到/);
      await u.send('/nosuchcommand 6222020200112233445');
      await u.expectReply(/没有 \/nosuchcommand/);
      const all = h.logs.join('');
      expect(all.length).toBeGreaterThan(0);
      for (const secret of [
        '11010519491231002X',
        '13812345678',
        '6222020200112233445',
        h.env['TELEGRAM_BOT_TOKEN']!,
        h.env['DATA_KEY']!,
      ]) {
        expect(all).not.toContain(secret);
      }
    });
  });
});
