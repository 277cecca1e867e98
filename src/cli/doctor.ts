import { I18n, type Locale, LOCALES } from '../adapters/i18n.ts';
import { ConfigError, loadConfig } from '../config.ts';
import { failed, formatChecklist, runDoctor } from '../doctor/run.ts';

// npm run doctor [-- --lang en] [-- --timeout <seconds>]
// Checks every prerequisite (Node, PostgreSQL and its migrations, Redis, the chart font, the Bot API,
// webhook settings, DATA_KEY, SMS) and prints a checklist with the fix for each problem, in the
// installation's language (DEFAULT_LOCALE, zh-CN by default) or the one asked for.
// Exit code: 0 all passed (warnings allowed), 1 a check failed, 2 the configuration is invalid.

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main() {
  const lang = arg('lang');
  const wanted = lang && (LOCALES as readonly string[]).includes(lang) ? (lang as Locale) : undefined;
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const i18n = new I18n(wanted ?? 'zh-CN');
    const locale = wanted ?? 'zh-CN';
    console.log(i18n.t(locale, 'doctor.config_invalid'));
    for (const p of err.problems) console.log(`  ✗ ${p}`);
    console.log(`      ${i18n.t(locale, 'doctor.fix_label')}${i18n.t(locale, 'doctor.config_fix')}`);
    process.exit(2);
  }
  const locale = wanted ?? config.defaultLocale;
  const i18n = new I18n(locale);
  const timeoutMs = Math.max(1, Number(arg('timeout') ?? 3)) * 1000;
  const results = await runDoctor({ config, apiRoot: undefined, atStart: false, timeoutMs });
  console.log(formatChecklist(results, i18n, locale, { sandbox: config.sandbox }));
  process.exit(failed(results) ? 1 : 0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
