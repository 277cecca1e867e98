import { defineConfig } from 'prisma/config';

// Prisma CLI configuration. Only `prisma generate`, `validate` and `format` are used through the CLI:
// migrations run through the project's own tooling (src/adapters/db/tooling), which drives Prisma's
// schema engine compiled to WebAssembly, so nothing is downloaded.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
});
