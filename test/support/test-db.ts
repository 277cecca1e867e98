import { afterAll, beforeAll } from 'vitest';
import type { PrismaClient } from '../../src/generated/prisma/client.ts';
import {
  createPrisma,
  createTestDatabase,
  newTestDatabaseName,
  type TestDatabase,
  testDatabaseUrl,
} from './db.ts';

/**
 * The usual set-up of an integration test file: its own fresh database, created before the file's tests
 * and dropped after them, and a Prisma client on it (made now, connecting at its first statement, so the
 * file can use `db` directly). Call once at the top level of the file.
 */
export function useTestDatabase(): { db: PrismaClient; url: string } {
  const name = newTestDatabaseName();
  const url = testDatabaseUrl(name);
  const db = createPrisma(url);
  let tdb: TestDatabase | undefined;
  beforeAll(async () => {
    tdb = await createTestDatabase(name);
  });
  afterAll(async () => {
    await db.$disconnect();
    await tdb?.drop();
  });
  return { db, url };
}
