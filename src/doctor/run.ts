import type { I18n, Locale } from '../adapters/i18n.ts';
import { CHECKS, type CheckResult, type DoctorCheck, type DoctorContext } from './checks.ts';

// Runs the checks side by side (each bounded by a timeout) and prints the checklist.

export interface NamedResult extends CheckResult {
  name: string;
}

export async function runDoctor(ctx: DoctorContext, checks: DoctorCheck[] = CHECKS): Promise<NamedResult[]> {
  const limit = ctx.timeoutMs * 3; // a check may make a few calls, each bounded by timeoutMs
  return Promise.all(
    checks.map(async (c): Promise<NamedResult> => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<CheckResult>((resolve) => {
        timer = setTimeout(
          () =>
            resolve({
              status: 'fail',
              detail: { key: 'doctor.timeout', params: { seconds: Math.round(limit / 1000) } },
            }),
          limit,
        );
      });
      try {
        const r = await Promise.race([
          c.run(ctx).catch(
            (err: unknown): CheckResult => ({
              status: 'fail',
              detail: {
                key: 'doctor.crashed',
                params: { error: err instanceof Error ? err.message : String(err) },
              },
            }),
          ),
          timeout,
        ]);
        return { name: c.name, ...r };
      } finally {
        clearTimeout(timer);
      }
    }),
  );
}

export function failed(results: NamedResult[]): boolean {
  return results.some((r) => r.status === 'fail');
}

const MARK = { ok: '✓', warn: '!', fail: '✗' } as const;

/**
 * The checklist: every check with its mark and detail, and the fix under each problem. `quiet` (npm
 * start) prints only the problems; an empty string when there are none.
 */
export function formatChecklist(
  results: NamedResult[],
  i18n: I18n,
  locale: Locale,
  opts: { quiet?: boolean; sandbox: boolean },
): string {
  const t = (key: string, params?: Record<string, string | number>) => i18n.t(locale, key, params);
  const shown = opts.quiet ? results.filter((r) => r.status !== 'ok') : results;
  if (shown.length === 0) return '';
  const lines = [
    t(opts.quiet ? 'doctor.title_quiet' : 'doctor.title', {
      mode: t(opts.sandbox ? 'doctor.mode_sandbox' : 'doctor.mode_production'),
    }),
  ];
  for (const r of shown) {
    const line = t('doctor.line', {
      title: t(`doctor.check.${r.name}`),
      detail: t(r.detail.key, r.detail.params),
    });
    lines.push(`  ${MARK[r.status]} ${line}`);
    if (r.fix) lines.push(`      ${t('doctor.fix_label')}${t(r.fix.key, r.fix.params)}`);
  }
  const fails = results.filter((r) => r.status === 'fail').length;
  const warns = results.filter((r) => r.status === 'warn').length;
  if (!opts.quiet) lines.push('', t('doctor.summary', { fails, warns }));
  return lines.join('\n');
}

/**
 * `npm start`: the same checks, quietly, in the background (start is not held up and never stopped by
 * them); only problems are printed. A worker skips the Bot API checks (the bot process owns those).
 */
export function checkAtStart(
  ctx: Omit<DoctorContext, 'atStart' | 'timeoutMs'> & { timeoutMs?: number },
  opts: { i18n: I18n; role: string; print?: (text: string) => void },
): Promise<NamedResult[]> {
  const checks =
    opts.role === 'worker' ? CHECKS.filter((c) => !['bot_api', 'webhook'].includes(c.name)) : CHECKS;
  const locale = ctx.config.defaultLocale;
  return runDoctor({ ...ctx, atStart: true, timeoutMs: ctx.timeoutMs ?? 3000 }, checks).then((results) => {
    const text = formatChecklist(results, opts.i18n, locale, { quiet: true, sandbox: ctx.config.sandbox });
    if (text) (opts.print ?? console.warn)(`\n${text}\n`);
    return results;
  });
}
