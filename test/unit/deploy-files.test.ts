import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ENTRY_POINTS } from '../../scripts/build.ts';

// docker-compose.yml and the Dockerfile, checked as far as possible without a Docker engine: the YAML
// parses (with its merge keys), every app service starts a file the build produces, the database's
// major version matches the image's pg_dump, and the Dockerfile is multi-stage with a non-root runtime
// that starts from dist/.

const root = join(import.meta.dirname, '..', '..');
const built = new Set(ENTRY_POINTS.map((e) => e.replace(/^src\//, 'dist/').replace(/\.ts$/, '.js')));

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  depends_on?: Record<string, { condition: string }>;
  profiles?: string[];
}
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};
const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
/** Instructions with continuation lines joined, comments dropped. */
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));

describe('docker-compose.yml', () => {
  it('runs migrate, bot and worker (and the backup tool) from the built dist/', () => {
    for (const name of ['migrate', 'bot', 'worker', 'backup']) {
      const s = compose.services[name]!;
      expect(s.build, name).toBe('.');
      const [node, ...args] = s.command!;
      expect(node, name).toBe('node');
      const script = args.find((a) => a.startsWith('dist/'));
      expect(built.has(script!), `${name}: ${script}`).toBe(true);
    }
    expect(compose.services['bot']!.command).toContain('bot');
    expect(compose.services['worker']!.command).toContain('worker');
    expect(compose.services['bot']!.depends_on?.['migrate']?.condition).toBe(
      'service_completed_successfully',
    );
    expect(compose.services['backup']!.profiles).toEqual(['tools']);
  });

  it('runs the PostgreSQL major version the image has pg_dump for (Debian bookworm: 15)', () => {
    expect(compose.services['postgres']!.image).toMatch(/^postgres:15[-.]/);
    expect(dockerfile).toMatch(/FROM node:20-bookworm-slim AS runtime/);
  });
});

describe('Dockerfile', () => {
  const KNOWN = /^(FROM|RUN|COPY|WORKDIR|ENV|USER|EXPOSE|CMD|ENTRYPOINT|ARG|LABEL|HEALTHCHECK|VOLUME)\s/;

  it('has only known instructions', () => {
    for (const i of instructions) expect(i, i).toMatch(KNOWN);
  });

  it('builds with the dev dependencies and runs the production ones as a non-root user from dist/', () => {
    const stages = instructions.filter((i) => i.startsWith('FROM ')).map((i) => i.split(/\s+AS\s+/i)[1]);
    expect(stages).toEqual(['build', 'deps', 'runtime']);
    const stage = (name: string) => {
      const start = instructions.findIndex((i) => i.startsWith('FROM ') && i.endsWith(` AS ${name}`));
      const next = instructions.findIndex((i, k) => k > start && i.startsWith('FROM '));
      return instructions.slice(start, next === -1 ? undefined : next);
    };
    expect(stage('build').join('\n')).toMatch(/RUN npm ci[^\n]*\n[\s\S]*RUN npm run build/);
    expect(stage('deps').join('\n')).toMatch(/npm ci --omit=dev/);
    const runtime = stage('runtime');
    expect(runtime).toContain('COPY --from=deps /app/node_modules ./node_modules');
    expect(runtime).toContain('COPY --from=build /app/dist ./dist');
    for (const dir of ['locales', 'prisma', 'config'])
      expect(runtime.join('\n')).toContain(`COPY ${dir} ./${dir}`);
    // The chart's font ships in assets/fonts (no apt font needed).
    expect(runtime.join('\n')).toMatch(/COPY assets \.\/assets/);
    expect(runtime.join('\n')).toMatch(/postgresql-client/);
    const user = runtime.filter((i) => i.startsWith('USER ')).at(-1);
    expect(user).toBe('USER node');
    const cmd = JSON.parse(runtime.find((i) => i.startsWith('CMD '))!.slice(4)) as string[];
    expect(cmd[0]).toBe('node');
    expect(built.has(cmd.find((a) => a.startsWith('dist/'))!)).toBe(true);
    expect(runtime.join('\n')).not.toMatch(/\btsx\b/);
  });

  it('keeps local state out of the build context', () => {
    const ignore = readFileSync(join(root, '.dockerignore'), 'utf8').split('\n');
    for (const p of ['node_modules', 'dist', '.env', 'src/generated', 'backups']) expect(ignore).toContain(p);
  });
});
