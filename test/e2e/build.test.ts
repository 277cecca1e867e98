import { fork, spawn } from 'node:child_process';
import { hkdfSync, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDist } from '../../scripts/build.ts';
import type {
  CipherWorkerData,
  CipherWorkerReply,
  CipherWorkerRequest,
} from '../../src/adapters/crypto/cipher-worker.ts';
import type { DecryptWorkerData, DecryptWorkerMessage } from '../../src/adapters/crypto/decrypt-worker.ts';
import { FieldCipher } from '../../src/adapters/crypto/field-cipher.ts';
import type { ExportChildJob, ExportChildMessage } from '../../src/adapters/files/export-child.ts';
import { ledgerSql } from '../../src/usecases/report/ledger.ts';
import { dropDatabase, withClient, withDatabase } from '../../src/adapters/db/tooling/pg.ts';
import { startTestEmulator, type TestEmulator } from '../support/conversation.ts';
import { adminUrl, TEST_DB_PREFIX } from '../support/db.ts';
import { freePort, REDIS_URL } from '../support/harness.ts';

// The production build (npm run build → dist/, what the Docker image runs): it builds, the migrate step
// creates and migrates an empty database from dist/, and `node dist/main.js all` starts, answers a
// person, reports healthy and stops on SIGTERM with exit code 0. The upload parser's child process and
// the decryption worker thread boot from dist/ without tsx.

const root = join(import.meta.dirname, '..', '..');
const dbName = `${TEST_DB_PREFIX}${process.pid}_built_${randomBytes(4).toString('hex')}`;
const dbUrl = withDatabase(adminUrl, dbName);
let emu: TestEmulator;

function run(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const p = {
    child,
    out: '',
    exited: new Promise<number | null>((r) => child.on('exit', (code) => r(code))),
  };
  child.stdout.on('data', (d) => {
    p.out += String(d);
  });
  child.stderr.on('data', (d) => {
    p.out += String(d);
  });
  return p;
}

beforeAll(async () => {
  await buildDist({ logLevel: 'warning' });
  emu = await startTestEmulator();
});
afterAll(async () => {
  await emu?.close();
  await withClient(adminUrl, (c) => dropDatabase(c, dbName));
});

describe('production build', () => {
  it('dist/ holds the processes, the CLIs and the upload worker, with source maps', () => {
    for (const f of [
      'main.js',
      'main.js.map',
      'adapters/db/tooling/cli.js',
      'adapters/files/parse-worker.js',
      'adapters/files/export-child.js',
      'adapters/crypto/decrypt-worker.js',
      'adapters/crypto/cipher-worker.js',
      'cli/backup.js',
      'cli/keys.js',
      'cli/reminders-sync.js',
      'emulator/cli.js',
    ])
      expect(existsSync(join(root, 'dist', f)), f).toBe(true);
  });

  it('dist/ imports only Node built-ins and production dependencies (the image installs nothing else)', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    const files = readdirSync(join(root, 'dist'), { recursive: true, encoding: 'utf8' }).filter((f) =>
      f.endsWith('.js'),
    );
    const specifiers = new Set<string>();
    for (const f of files) {
      const text = readFileSync(join(root, 'dist', f), 'utf8');
      for (const m of text.matchAll(/(?:from\s*|import\(\s*)["']([^"'.][^"']*)["']/g)) specifiers.add(m[1]!);
    }
    expect(specifiers.size).toBeGreaterThan(10);
    const packageOf = (s: string) =>
      (s.startsWith('@') ? s.split('/').slice(0, 2) : s.split('/').slice(0, 1)).join('/');
    const outside = [...specifiers].filter(
      (s) => !s.startsWith('node:') && !(packageOf(s) in pkg.dependencies),
    );
    expect(outside).toEqual([]);
  });

  it('migrates an empty database from dist/, then node dist/main.js serves and stops on SIGTERM', async () => {
    const env = {
      DATABASE_URL: dbUrl,
      DATABASE_ADMIN_URL: adminUrl,
      REDIS_URL,
    };
    const migrate = run(['dist/adapters/db/tooling/cli.js', 'migrate'], env);
    expect(await migrate.exited, migrate.out).toBe(0);
    expect(migrate.out).toMatch(/applied \d+ migration\(s\)/);

    const port = await freePort();
    const app = run(['--enable-source-maps', 'dist/main.js', 'all'], {
      ...env,
      TELEGRAM_BOT_TOKEN: `424243:BUILT${randomBytes(10).toString('hex')}`,
      TELEGRAM_API_ROOT: emu.apiRoot,
      DATA_KEY: randomBytes(32).toString('base64'),
      SMS_PROVIDER: 'log',
      QUEUE_PREFIX: `test-built-${randomBytes(4).toString('hex')}`,
      PORT: String(port),
      LOG_LEVEL: 'info',
    });
    try {
      for (let i = 0; i < 300 && !app.out.includes('warmth-bot started'); i++)
        await new Promise((r) => setTimeout(r, 100));
      expect(app.out).toContain('warmth-bot started');
      const u = emu.user(7311, { firstName: '构建', languageCode: 'zh-hans' });
      await u.send('/start');
      await u.expectReply(/您好/).catch((err: unknown) => {
        throw new Error(`${String(err)}\nprocess output:\n${app.out}`);
      });
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    } finally {
      app.child.kill('SIGTERM');
    }
    expect(await app.exited).toBe(0);
    expect(app.out).toMatch(/"msg":"shutting down"[\s\S]*"msg":"stopped"/);
  });

  it('the upload parser boots as a child process from dist/', async () => {
    const c = fork(join(root, 'dist/adapters/files/parse-worker.js'), [], {
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    try {
      const first = await new Promise((resolve, reject) => {
        c.once('message', resolve);
        c.once('error', reject);
        c.once('exit', (code) => reject(new Error(`parser exited ${code}`)));
      });
      expect(first).toEqual({ ready: true });
    } finally {
      c.kill('SIGKILL');
    }
  });

  it("the export's child process imports no Prisma and no bot module (its bundle and every chunk it loads)", () => {
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/(?:from\s*|import\(?\s*)["'](\.{1,2}\/[^"']+)["']/g))
        visit(join(dirname(file), m[1]!));
    };
    visit(join(root, 'dist/adapters/files/export-child.js'));
    expect(seen.size).toBeGreaterThan(1);
    const code = [...seen].map((f) => readFileSync(f, 'utf8')).join('\n');
    expect(code).toContain('writeInParts');
    for (const heavy of ['@prisma', 'PrismaClient', 'telegraf', 'bullmq', 'ioredis'])
      expect(code, heavy).not.toContain(heavy);
    // The parent's bundle does (the check above can fail).
    expect(readFileSync(join(root, 'dist/main.js'), 'utf8')).toMatch(/telegraf/);
  });

  it("the export's child process runs from dist/: reads the ledger, writes a part, reports it", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'built-export-'));
    const c = fork(join(root, 'dist/adapters/files/export-child.js'), [], {
      env: { PATH: process.env['PATH'] ?? '' },
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    try {
      const { sql, params } = ledgerSql(1);
      const job: ExportChildJob = {
        kind: 'ledger',
        read: {
          connectionString: dbUrl,
          sql,
          params,
          batchSize: 100,
          sealed: [6, 7],
          lookups: { entryWorkingDays: 10, unionNames: [], categories: [] },
          access: 'masked',
        },
        keys: [[1, new Uint8Array(32)]],
        sheet: { locale: 'en', title: 'Ledger', settleAt: 1_000_000, masked: true },
        partBytes: 1_000_000,
        files: { dir, jobId: 'built', pid: process.pid },
        sliceRows: 100,
      };
      const done = await new Promise<ExportChildMessage>((resolve, reject) => {
        c.on('message', (m: ExportChildMessage) => {
          if ('ready' in m) c.send(job);
          else if ('done' in m || 'error' in m) resolve(m);
        });
        c.once('error', reject);
        c.once('exit', (code) => reject(new Error(`export child exited ${code}`)));
      });
      expect(done).toEqual({
        done: { rows: 0, paths: [join(dir, `${process.pid}-built-1.xlsx`)], peakRssMb: expect.any(Number) },
      });
      expect(readdirSync(dir)).toEqual([`${process.pid}-built-1.xlsx`]);
    } finally {
      c.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the decryption worker thread runs from dist/: reads a cursor and decrypts with plain node', async () => {
    const key = randomBytes(32);
    const cipher = new FieldCipher([{ version: 1, key }]);
    const stored = [cipher.encrypt('11010519491231002X'), cipher.encrypt('13812345678')];
    const data: DecryptWorkerData = {
      keys: [
        [1, new Uint8Array(hkdfSync('sha256', key, Buffer.alloc(0), 'warmth-bot/field-encryption', 32))],
      ],
      connectionString: adminUrl,
      sql: 'SELECT v FROM unnest($1::text[]) WITH ORDINALITY AS t(v, i) ORDER BY i',
      params: [stored],
      batchSize: 10,
      sealed: [0],
      ahead: 2,
    };
    const w = new Worker(join(root, 'dist/adapters/crypto/decrypt-worker.js'), {
      workerData: data,
      execArgv: [],
    });
    try {
      const messages: DecryptWorkerMessage[] = [];
      await new Promise<void>((resolve, reject) => {
        w.on('message', (m: DecryptWorkerMessage) => {
          messages.push(m);
          if (typeof m !== 'string') resolve();
        });
        w.once('error', reject);
      });
      expect(messages).toEqual([JSON.stringify([['11010519491231002X'], ['13812345678']]), { done: true }]);
    } finally {
      await w.terminate();
    }
  });

  it('the cipher worker thread runs from dist/: seals in the stored format with plain node', async () => {
    const master = randomBytes(32);
    const derive = (purpose: string) =>
      new Uint8Array(hkdfSync('sha256', master, Buffer.alloc(0), `warmth-bot/${purpose}`, 32));
    const data: CipherWorkerData = {
      version: 1,
      key: derive('field-encryption'),
      hashKey: derive('lookup-hash'),
    };
    const w = new Worker(join(root, 'dist/adapters/crypto/cipher-worker.js'), {
      workerData: data,
      execArgv: [],
    });
    try {
      const ask = (req: CipherWorkerRequest) =>
        new Promise<CipherWorkerReply>((resolve, reject) => {
          w.once('message', resolve);
          w.once('error', reject);
          w.postMessage(req);
        });
      const sealed = await ask({
        id: 1,
        op: 'seal',
        kind: '',
        n: 2,
        plain: '11010519491231002X\n13812345678',
      });
      const cipher = new FieldCipher([{ version: 1, key: master }]);
      expect(sealed.out?.split('\n').map((s) => cipher.decrypt(s))).toEqual([
        '11010519491231002X',
        '13812345678',
      ]);
      const hashed = await ask({ id: 2, op: 'hash', kind: 'id', n: 1, plain: '11010519491231002X' });
      expect(hashed.out).toBe(cipher.hash('id', '11010519491231002X'));
    } finally {
      await w.terminate();
    }
  });
});
