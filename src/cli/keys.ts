import { FieldCipher } from '../adapters/crypto/field-cipher.ts';
import { createDb } from '../adapters/db/client.ts';
import { ConfigError, loadConfig } from '../config.ts';
import { rotateDataKeys } from '../usecases/keys.ts';

// npm run keys -- rotate
// Retires an old (e.g. leaked) DATA_KEY. Steps, with the bot and worker stopped:
//   1. DATA_KEY=2:<new>,1:<old>   (new key first = current; the old one still reads existing values)
//   2. npm run keys -- rotate     (re-encrypts every field with key 2 and re-computes every look-up hash
//                                  with key 2; open invitations and recipient links are expired: issue
//                                  new ones)
//   3. DATA_HASH_KEY_VERSION=2 and DATA_KEY=2:<new>   (the old key is gone), then start the bot.

async function main() {
  const cmd = process.argv[2];
  if (cmd !== 'rotate') {
    console.error('usage: npm run keys -- rotate   (see the Security section of README.md)');
    process.exit(2);
  }
  const config = loadConfig();
  const current = config.dataKeys[0]!.version;
  if (config.hashKeyVersion === current) {
    console.error(`the look-up hash already uses key ${current}: nothing to rotate`);
    process.exit(2);
  }
  const from = new FieldCipher(config.dataKeys, config.hashKeyVersion);
  const to = new FieldCipher(config.dataKeys, current);
  const db = createDb(config.databaseUrl);
  try {
    const r = await rotateDataKeys(db, from, to, { now: new Date() });
    console.log(
      `re-encrypted and re-hashed ${r.nominations} nominations and ${r.snapshots} revisions with key ${current}; ` +
        `expired ${r.invitesExpired} invitations and ${r.linksExpired} recipient links (issue new ones); ` +
        `cleared ${r.personPhonesCleared} contact phone hashes.\n` +
        `Now set DATA_HASH_KEY_VERSION=${current}, remove the old key from DATA_KEY, and start the bot.`,
    );
  } finally {
    await db.$disconnect();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(err instanceof ConfigError ? 2 : 1);
});
