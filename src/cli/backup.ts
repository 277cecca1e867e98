import { parseArgs } from 'node:util';
import {
  BackupError,
  backupDatabase,
  missingKeys,
  readManifest,
  restoreDatabase,
} from '../adapters/db/tooling/backup.ts';
import { redact } from '../adapters/db/tooling/pg.ts';
import { ConfigError, loadConfig } from '../config.ts';

// npm run backup [-- --dir backups | --file <path>]
//   pg_dump (custom format) of DATABASE_URL + <file>.json: the data-key versions the backup needs
//   (never the keys). Keep the keys (DATA_KEY) apart from the backups.
// npm run restore -- <file>
//   into DATABASE_URL, which must be empty (created if missing). The configured DATA_KEY must hold
//   every key version the manifest names. Then start the worker: it rebuilds the queues and
//   reminders from PostgreSQL (Redis needs nothing from the backup).
// Exit codes: 0 done, 1 failed, 2 usage, configuration or a refused restore.

const USAGE =
  'usage: npm run backup [-- --dir <dir> | --file <path>]\n       npm run restore -- <file> [--ignore-keys]';

async function main(): Promise<number> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      dir: { type: 'string' },
      file: { type: 'string' },
      'ignore-keys': { type: 'boolean', default: false },
    },
  });
  const [cmd, file] = positionals;
  const config = loadConfig();
  const current = config.dataKeys[0]!.version;
  const hash = config.hashKeyVersion ?? Math.min(...config.dataKeys.map((k) => k.version));
  if (cmd === 'backup') {
    const r = await backupDatabase({
      databaseUrl: config.databaseUrl,
      ...(values.dir ? { dir: values.dir } : {}),
      ...(values.file ? { file: values.file } : {}),
      keys: { current, hash },
    });
    console.log(
      `backup of ${r.manifest.database}: ${r.file} (${(r.bytes / 1e6).toFixed(1)} MB)\n` +
        `manifest: ${r.manifestFile} (key versions in the data: ${JSON.stringify(r.manifest.keys.inData)}, ` +
        `hash key ${hash}; the keys themselves are not in the backup)`,
    );
    return 0;
  }
  if (cmd === 'restore') {
    if (!file) {
      console.error(USAGE);
      return 2;
    }
    const manifest = await readManifest(file).catch(() => null);
    if (!manifest) console.warn(`${file}.json not found: cannot check the data keys before restoring.`);
    else {
      const missing = missingKeys(
        manifest,
        config.dataKeys.map((k) => k.version),
      );
      if (missing.length > 0 && !values['ignore-keys']) {
        console.error(
          `The backup needs data key version(s) ${missing.join(', ')}, which DATA_KEY does not hold: ` +
            'set DATA_KEY (and DATA_HASH_KEY_VERSION) to the keys in use when the backup was made ' +
            `(current ${manifest.keys.current}, hash ${manifest.keys.hash}), or pass --ignore-keys.`,
        );
        return 2;
      }
    }
    const r = await restoreDatabase({ databaseUrl: config.databaseUrl, file });
    console.log(
      `restored ${file} into ${redact(config.databaseUrl)}: ${r.tables} tables, last migration ` +
        `${r.migrations.at(-1) ?? '(none)'}.\nNext: npm run db:migrate (if this release is newer), then start ` +
        'the worker: it re-queues unsent notices, reminders and review tasks from PostgreSQL.',
    );
    return 0;
  }
  console.error(USAGE);
  return 2;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ConfigError || err instanceof BackupError) {
      console.error(err.message);
      process.exitCode = 2;
      return;
    }
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  },
);
