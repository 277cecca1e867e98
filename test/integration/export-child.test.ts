import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { FieldCipher } from '../../src/adapters/crypto/field-cipher.ts';
import type { ExportChildJob } from '../../src/adapters/files/export-child.ts';
import { removeJobExportFiles } from '../../src/adapters/files/export-parts.ts';
import { exportChildren, runExportChild } from '../../src/adapters/files/export-process.ts';
import { writeLedgerXlsx } from '../../src/adapters/files/ledger-xlsx.ts';
import { ledgerPages, ledgerRead } from '../../src/usecases/report/ledger.ts';
import { openExportCursors } from '../support/db.ts';
import { useTestDatabase } from '../support/test-db.ts';
import { xlsxText } from '../support/rebuild.ts';
import { seedCountyCampaign } from '../support/report-fixtures.ts';

// The export's child process (issue 13: the export runs outside the worker's 290 MB): it writes the same
// workbook the in-process writer writes, holds no secrets in its environment, and when it is killed
// mid-export the caller gets a clear error, its files can all be removed, no cursor stays open, and the
// next attempt works.

const { db } = useTestDatabase();
const cipher = new FieldCipher([{ version: 1, key: randomBytes(32) }]);
let campaignId: number;

beforeAll(async () => {
  campaignId = (await seedCountyCampaign(db, 'child-2026', cipher)).campaign.id;
}, 120_000);

const sheet = { locale: 'zh-CN' as const, title: '台账', settleAt: 45 * 1024 * 1024, masked: true };

async function job(dir: string, jobId: string, over: Partial<ExportChildJob> = {}): Promise<ExportChildJob> {
  return {
    kind: 'ledger',
    read: await ledgerRead(db, { campaignId, access: 'masked', pageSize: 10 }),
    keys: cipher.decryptionKeys(),
    sheet,
    partBytes: 45 * 1024 * 1024,
    files: { dir, jobId, pid: process.pid },
    sliceRows: 10,
    ...over,
  };
}

async function inProcess(): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  await writeLedgerXlsx(out, ledgerPages(db, cipher, { campaignId, access: 'masked' }), sheet);
  return Buffer.concat(chunks);
}

const openCursors = () => openExportCursors(db);

describe('the export child process', () => {
  it('writes the workbook the in-process writer writes; its environment holds no secrets', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'export-child-'));
    process.env['DATA_KEY'] = 'secret-data-key-in-parent';
    let environ = '';
    try {
      const done = await runExportChild(await job(dir, 'same'), () => {
        if (environ) return;
        const [child] = exportChildren;
        environ = readFileSync(`/proc/${child!.pid}/environ`, 'utf8');
      });
      expect(done.rows).toBe(600);
      expect(done.paths).toHaveLength(1);
      expect(await xlsxText(readFileSync(done.paths[0]!))).toBe(await xlsxText(await inProcess()));
    } finally {
      delete process.env['DATA_KEY'];
      await removeJobExportFiles('same', dir);
    }
    expect(environ).toMatch(/PATH=/);
    expect(environ).not.toMatch(/DATA_KEY|DATABASE_URL|REDIS|BOT_TOKEN|postgres(ql)?:\/\//);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('killed mid-export: a clear error, its files removable, no cursor left open; the next attempt works', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'export-child-'));
    let killedAt = 0;
    await expect(
      runExportChild(await job(dir, 'killed', { partBytes: 2_000 }), (written) => {
        if (killedAt) return;
        killedAt = written;
        for (const c of exportChildren) c.kill('SIGKILL');
      }),
    ).rejects.toThrow(/export's child process stopped \(SIGKILL\)/);
    expect(killedAt).toBeGreaterThan(0);
    expect(killedAt).toBeLessThan(600);
    // It had started writing (part files named for this process and job), and they are all removed.
    expect(readdirSync(dir).some((n) => n.startsWith(`${process.pid}-killed-`))).toBe(true);
    await removeJobExportFiles('killed', dir);
    expect(readdirSync(dir)).toEqual([]);
    expect(exportChildren.size).toBe(0);
    // PostgreSQL ends the dead child's transaction and cursor when its connection drops.
    for (let i = 0; i < 100 && (await openCursors()) > 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await openCursors()).toBe(0);

    const again = await runExportChild(await job(dir, 'killed', { partBytes: 2_000 }), () => {});
    expect(again.rows).toBe(600);
    // (How many parts depends on when zlib's thread hands the deflate back: not asserted.)
    expect(again.paths.length).toBeGreaterThanOrEqual(1);
    expect(readdirSync(dir).sort()).toEqual(again.paths.map((p) => p.slice(dir.length + 1)).sort());
    await removeJobExportFiles('killed', dir);
  });
});
