import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulator, type TestEmulator } from '../support/conversation.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { freePort, REDIS_URL } from '../support/harness.ts';

// The real process (`tsx src/main.ts all`, as `npm start` runs it): starts, answers, and on SIGTERM
// shuts down in order and exits 0.

let emu: TestEmulator;
let tdb: TestDatabase;
beforeAll(async () => {
  emu = await startTestEmulator();
  tdb = await createTestDatabase();
});
afterAll(async () => {
  await emu?.close();
  await tdb?.drop();
});

describe('process lifecycle', () => {
  it('serves, then stops gracefully on SIGTERM with exit code 0', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'all'], {
      env: {
        PATH: process.env['PATH'],
        TELEGRAM_BOT_TOKEN: `424242:PROC${randomBytes(10).toString('hex')}`,
        TELEGRAM_API_ROOT: emu.apiRoot,
        DATABASE_URL: tdb.url,
        REDIS_URL,
        DATA_KEY: randomBytes(32).toString('base64'),
        SMS_PROVIDER: 'log',
        PORT: String(port),
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += String(d);
    });
    child.stderr.on('data', (d) => {
      out += String(d);
    });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    for (let i = 0; i < 300 && !out.includes('warmth-bot started'); i++)
      await new Promise((r) => setTimeout(r, 100));
    expect(out).toContain('warmth-bot started');

    const u = emu.user(7301, { firstName: '进程', languageCode: 'zh-hans' });
    await u.send('/start');
    await u.expectReply(/您好/).catch((err: unknown) => {
      throw new Error(`${String(err)}\nprocess output:\n${out}`);
    });
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out).toMatch(/"msg":"shutting down"[\s\S]*"msg":"stopped"/);
  });
});
