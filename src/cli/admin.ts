import { ConfigError, loadConfig } from '../config.ts';
import { createDb } from '../adapters/db/client.ts';
import { ROLES, type RoleName } from '../domain/roles.ts';
import { DomainError } from '../domain/errors.ts';
import { grantRole, revokeRole } from '../usecases/people.ts';

// npm run admin -- grant <telegram id> <role>   (admin | reviewer | finance)
// npm run admin -- revoke <telegram id> <role>
// npm run admin -- list
// For the first admin of an installation (or set BOOTSTRAP_ADMIN_IDS). Audit rows record no actor.

const [cmd, id, role] = process.argv.slice(2);
const usage =
  'usage: npm run admin -- grant|revoke <telegram id> <admin|reviewer|finance>\n       npm run admin -- list';

async function main() {
  const config = loadConfig();
  const db = createDb(config.databaseUrl);
  try {
    if (cmd === 'list') {
      const grants = await db.roleGrant.findMany({
        where: { revokedAt: null },
        include: { person: true, union: true },
        orderBy: { role: 'asc' },
      });
      for (const g of grants) {
        console.log(
          `${g.role.padEnd(10)} ${String(g.person.telegramId ?? '-').padEnd(14)} ${g.person.displayName}${g.union ? ` (${g.union.name})` : ''}`,
        );
      }
      return;
    }
    if (
      (cmd !== 'grant' && cmd !== 'revoke') ||
      !id ||
      !/^\d{1,20}$/.test(id) ||
      !role ||
      !ROLES.includes(role as RoleName)
    ) {
      console.error(usage);
      process.exitCode = 2;
      return;
    }
    if (cmd === 'grant') {
      const r = await grantRole(db, { actorId: null, telegramId: BigInt(id), role: role as RoleName });
      console.log(r.changed ? `granted ${role} to ${id}` : `${id} already has ${role}`);
    } else {
      const r = await revokeRole(db, { actorId: null, telegramId: BigInt(id), role: role as RoleName });
      console.log(r.changed ? `revoked ${role} from ${id}` : `${id} does not have ${role}`);
    }
  } finally {
    await db.$disconnect();
  }
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(2);
  }
  if (err instanceof DomainError) {
    console.error(`refused: ${err.code}`);
    process.exit(1);
  }
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
