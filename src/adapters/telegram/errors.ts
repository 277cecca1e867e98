// The one classifier of Bot API failures. Every sender (chat replies, edits, callback answers, notices,
// reminders, digests) asks this function what a failure means instead of reading error codes itself.

export type TelegramFailure =
  /** 429: wait `retryAfterMs`, then the same call may succeed. */
  | { kind: 'rate_limited'; retryAfterMs: number }
  /** 403: blocked by the user, user deactivated, bot can't initiate: final for this chat. */
  | { kind: 'blocked'; description: string }
  /** 400 chat not found / user not found: final for this chat. */
  | { kind: 'chat_not_found'; description: string }
  /** 400 message is not modified: the message already shows this (harmless). */
  | { kind: 'not_modified' }
  /** 400 query is too old / query ID is invalid: the callback can no longer be answered (harmless). */
  | { kind: 'query_too_old' }
  /** 400 message to edit / delete not found, or it can no longer be edited. */
  | { kind: 'message_gone'; description: string }
  /** Any other answer from the Bot API (400 bad request, 401, 5xx...). */
  | { kind: 'api_error'; code: number; description: string }
  /** No answer: the request surely did not leave this machine (safe to retry). */
  | { kind: 'not_sent'; description: string }
  /** No answer after the request went out: it may have been delivered (never resend automatically). */
  | { kind: 'uncertain'; description: string }
  /** Not a Bot API or network failure at all (a bug): let it propagate. */
  | { kind: 'other' };

/** Thrown by the outbound path when a send would have to wait longer than its caller allows. */
export class SendDeferred extends Error {
  constructor(
    readonly retryAfterMs: number,
    readonly reason: 'rate_limited' | 'paced',
  ) {
    super(`send deferred ${retryAfterMs} ms (${reason})`);
    this.name = 'SendDeferred';
  }
}

const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
const NETWORK_CODES = new Set([...NOT_SENT_CODES, 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'UND_ERR_SOCKET']);

function errnoOf(err: unknown): string | undefined {
  const e = err as { code?: unknown; errno?: unknown; cause?: { code?: unknown } } | null;
  for (const v of [e?.code, e?.errno, e?.cause?.code]) if (typeof v === 'string') return v;
  return undefined;
}

export function classifyTelegramError(err: unknown): TelegramFailure {
  if (err instanceof SendDeferred) return { kind: 'rate_limited', retryAfterMs: err.retryAfterMs };
  const r = (
    err as {
      response?: { error_code?: unknown; description?: unknown; parameters?: { retry_after?: unknown } };
    } | null
  )?.response;
  if (r && typeof r.error_code === 'number') {
    const code = r.error_code;
    const description = typeof r.description === 'string' ? r.description : '';
    if (code === 429) {
      const s = Number(r.parameters?.retry_after ?? 1);
      return { kind: 'rate_limited', retryAfterMs: Math.max(1, Number.isFinite(s) ? s : 1) * 1000 };
    }
    if (code === 403) return { kind: 'blocked', description };
    if (code === 400) {
      if (/chat not found|user not found|PEER_ID_INVALID/i.test(description))
        return { kind: 'chat_not_found', description };
      if (/message is not modified/i.test(description)) return { kind: 'not_modified' };
      if (/query is too old|query ID is invalid/i.test(description)) return { kind: 'query_too_old' };
      if (/message to (edit|delete) not found|message can't be (edited|deleted)/i.test(description))
        return { kind: 'message_gone', description };
    }
    return { kind: 'api_error', code, description };
  }
  const errno = errnoOf(err);
  const message = err instanceof Error ? err.message : String(err);
  if (errno && NOT_SENT_CODES.has(errno)) return { kind: 'not_sent', description: message };
  if ((errno && NETWORK_CODES.has(errno)) || (err as { type?: unknown } | null)?.type === 'system')
    return { kind: 'uncertain', description: message };
  if (err instanceof Error && err.name === 'FetchError') return { kind: 'uncertain', description: message };
  return { kind: 'other' };
}

/** 403 or 400 chat/user not found: this chat cannot be reached; never retry it. */
export function isUnreachable(
  f: TelegramFailure,
): f is Extract<TelegramFailure, { kind: 'blocked' | 'chat_not_found' }> {
  return f.kind === 'blocked' || f.kind === 'chat_not_found';
}

/** A short text for logs and lastError columns (no personal data: Bot API descriptions carry none). */
export function describeFailure(f: TelegramFailure, err: unknown): string {
  switch (f.kind) {
    case 'rate_limited':
      return `rate limited (retry after ${f.retryAfterMs} ms)`;
    case 'blocked':
    case 'chat_not_found':
    case 'message_gone':
    case 'api_error':
    case 'not_sent':
    case 'uncertain':
      return f.description.slice(0, 300) || f.kind;
    default:
      return (err instanceof Error ? err.message : String(err)).slice(0, 300);
  }
}
