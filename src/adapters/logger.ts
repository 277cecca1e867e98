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
  [/(?<![\dA-Za-z])\d{17}[\dXx](?![\dA-Za-z])/g, '[ID]'],
  [/(?<!\d)\d{15,19}(?!\d)/g, '[NUMBER]'],
  [/(?<!\d)(?:\+?86)?1[3-9]\d{9}(?!\d)/g, '[PHONE]'],
];

export function scrubString(s: string): string {
  let out = s;
  for (const [re, repl] of PATTERNS) out = out.replace(re, repl);
  return out;
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
