/**
 * An expected, user-facing failure. `code` maps to the locale key `errors.<code>` at the chat edge;
 * `params` fill its placeholders. Anything else thrown is a bug or an outage.
 */
export class DomainError extends Error {
  constructor(
    readonly code: string,
    readonly params: Record<string, string | number> = {},
  ) {
    super(code);
    this.name = 'DomainError';
  }
}
