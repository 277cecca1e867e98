import { pino, type Logger } from 'pino';

// Structured JSON logs with personal data removed. Two layers:
// 1. `redact` drops fields that must never be logged, whatever their content;
// 2. every string that reaches the log is scrubbed of anything shaped like an ID number, a phone,
//    a bank card or a bot token (error messages from libraries can carry them, e.g. request URLs).

const SENSITIVE_KEYS = [
  'idNumber',
  'id_number',
  'idNumberEnc',
  'phone',
  'phoneEnc',
  'bankCard',
  'bankCardEnc',
  'cardNumber',
  'token',
  'password',
  'secret',
  'code',
  'payload',
  'text',
  'caption',
  'first_name',
  'last_name',
  'fullName',
  'full_name',
  'displayName',
  'username',
];

const PATTERNS: [RegExp, string][] = [
  [/bot\d{3,}:[A-Za-z0-9_-]{10,}/g, 'bot[TOKEN]'],
  [/\d{3,}:[A-Za-z0-9_-]{30,}/g, '[TOKEN]'],
];

// Runs of digits as people and libraries write them: ASCII or full-width (１３８…), grouped by spaces,
// ideographic spaces or dashes of any kind (138-1234-5678, 110105 1949 1231 002X, ＋86 138…). Each run
// is judged on its digits alone, so every form of an ID number, phone or card is caught.
const D = '0-9\uFF10-\uFF19';
const SEP = '[ \u3000\\-\u2010-\u2015\u2212\uFE58\uFE63\uFF0D.]';
const DIGIT_RUN = new RegExp(
  `(?<![${D}A-Za-z])[+\uFF0B]?[${D}](?:${SEP}?[${D}Xx\uFF38\uFF58])+(?![${D}A-Za-z])`,
  'g',
);

function judgeRun(run: string): string {
  const plain = run
    .replace(/[\uFF10-\uFF19\uFF0B\uFF38\uFF58]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
    .replace(new RegExp(SEP, 'g'), '')
    .toUpperCase();
  if (/^\d{17}[\dX]$/.test(plain)) return '[ID]';
  if (/^(?:\+?86)?1[3-9]\d{9}$/.test(plain)) return '[PHONE]';
  if (/^\+?\d{15,19}$/.test(plain)) return '[NUMBER]';
  return run;
}

export function scrubString(s: string): string {
  let out = s;
  for (const [re, repl] of PATTERNS) out = out.replace(re, repl);
  return out.replace(DIGIT_RUN, judgeRun);
}

function scrub(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrubString(value);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return scrub(pino.stdSerializers.err(value), depth + 1);
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SENSITIVE_KEYS.includes(k) ? '[REDACTED]' : scrub(v, depth + 1);
  }
  return out;
}

export function createLogger(opts: {
  level: string;
  name?: string;
  destination?: pino.DestinationStream;
}): Logger {
  return pino(
    {
      level: opts.level,
      name: opts.name ?? 'warmth-bot',
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      serializers: { err: pino.stdSerializers.err },
      formatters: { log: (obj) => scrub(obj) as Record<string, unknown> },
      hooks: {
        logMethod(args, method) {
          method.apply(
            this,
            args.map((a) => (typeof a === 'string' ? scrubString(a) : a)) as Parameters<typeof method>,
          );
        },
      },
    },
    opts.destination,
  );
}

export type { Logger };
