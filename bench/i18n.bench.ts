// Benchmark: the cost of one message (`I18n.t`) on the hot path, now that messages are ICU
// MessageFormat. Every key of both languages is formatted with typical parameters, round after round,
// after one warm-up round (which compiles each message once). Baseline in the same run: the hand-written
// `{param}` substitution the project used before, on the same texts and parameters. Also reports the
// one-off cost of compiling a message (the first call per key and language).
//
//   npm run bench:i18n -- [--rounds 200]
//
// Writes bench/results/i18n.json.
import { parseArgs } from 'node:util';
import { I18n, LOCALES, loadCatalog, messageArgs, type Params, parseMessage } from '../src/adapters/i18n.ts';
import { writeResult } from './support.ts';

const { values: args } = parseArgs({ options: { rounds: { type: 'string', default: '200' } } });
const ROUNDS = Number(args.rounds);

const jobs: { locale: (typeof LOCALES)[number]; key: string; text: string; params: Params }[] = [];
for (const locale of LOCALES) {
  for (const [key, text] of loadCatalog(locale)) {
    const params: Params = {};
    for (const [name, kind] of messageArgs(parseMessage(text)))
      params[name] = kind === 'date' ? '2026-02-10' : kind === 'number' ? 2 : `值${name}`;
    jobs.push({ locale, key, text, params });
  }
}

const substitute = (template: string, params: Params) =>
  template.replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? String(params[name]) : m));

const i18n = new I18n('zh-CN');
let t0 = performance.now();
for (const j of jobs) i18n.t(j.locale, j.key, j.params);
const compileMs = performance.now() - t0;

let sink = 0;
t0 = performance.now();
for (let r = 0; r < ROUNDS; r++) for (const j of jobs) sink += i18n.t(j.locale, j.key, j.params).length;
const icuMs = performance.now() - t0;
t0 = performance.now();
for (let r = 0; r < ROUNDS; r++) for (const j of jobs) sink += substitute(j.text, j.params).length;
const baseMs = performance.now() - t0;

const calls = ROUNDS * jobs.length;
const us = (ms: number) => Math.round(((ms * 1000) / calls) * 100) / 100;
const result = {
  name: 'i18n',
  messages: jobs.length,
  rounds: ROUNDS,
  calls,
  ms: Math.round(icuMs),
  usPerCall: us(icuMs),
  callsPerSecond: Math.round(calls / (icuMs / 1000)),
  compileUsPerMessage: Math.round(((compileMs * 1000) / jobs.length) * 10) / 10,
  baseline: {
    name: 'hand-written {param} substitution',
    ms: Math.round(baseMs),
    usPerCall: us(baseMs),
    callsPerSecond: Math.round(calls / (baseMs / 1000)),
  },
  checksum: sink,
};
console.log(
  `${jobs.length} messages × ${ROUNDS} rounds: ICU ${result.usPerCall} µs/call (baseline ${result.baseline.usPerCall} µs/call); ` +
    `compiling once: ${result.compileUsPerMessage} µs/message`,
);
console.log(`wrote ${writeResult('i18n', result)}`);
