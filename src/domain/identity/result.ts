/**
 * Validation results are values, never exceptions. A failure carries a machine code (e.g. `id.check_digit`)
 * and parameters; the chat layer maps `code` to the locale key `validation.<code>` and interpolates `params`.
 * A success carries the normalised value, derived data, and non-blocking warnings ("please check again").
 */
export type IssueParams = Record<string, string | number>;

export interface Issue<C extends string = string> {
  code: C;
  params: IssueParams;
}

export type Failure<C extends string = string> = { ok: false } & Issue<C>;

export type Success<T extends object = object, W extends string = string> = {
  ok: true;
  /** The normalised value to store. */
  value: string;
  warnings: Issue<W>[];
} & T;

export type Validation<T extends object, C extends string, W extends string = never> =
  | Success<T, W>
  | Failure<C>;

export function fail<C extends string>(code: C, params: IssueParams = {}): Failure<C> {
  return { ok: false, code, params };
}
