import { defineConfig } from 'vitest/config';

// Unit tests need no services; integration and e2e tests use the real PostgreSQL and Redis
// (DATABASE_ADMIN_URL / REDIS_URL, defaults for this machine in test/support/env.ts).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
  },
});
