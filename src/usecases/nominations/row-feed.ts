// Rows of an uploaded list that arrive in slices while the file is still being read (the upload child
// sends them as it parses), so the check can run during the parse. The reader ends the feed when the
// whole file was read, or fails it when the file was refused: whoever consumes it then stops and
// nothing of it is used.

export class RowFeed<T> {
  private readonly slices: T[][] = [];
  private ended = false;
  private failure: { err: unknown } | undefined;
  private wake: (() => void) | undefined;
  private count = 0;

  /** A slice of rows, in file order. Ignored once the feed has ended or failed. */
  push(rows: readonly T[]) {
    if (this.ended || this.failure || rows.length === 0) return;
    this.slices.push(rows as T[]);
    this.count += rows.length;
    this.notify();
  }

  /** The whole file was read: `rest` (if any) are its last rows. */
  end(rest: readonly T[] = []) {
    if (this.ended || this.failure) return;
    if (rest.length > 0) {
      this.slices.push(rest as T[]);
      this.count += rest.length;
    }
    this.ended = true;
    this.notify();
  }

  /** The file was not read whole: the consumer stops with `err`. */
  fail(err: unknown) {
    if (this.ended || this.failure) return;
    this.failure = { err };
    this.slices.length = 0;
    this.notify();
  }

  /** Rows in the whole file, once it has ended (undefined before). */
  get total(): number | undefined {
    return this.ended ? this.count : undefined;
  }

  /** Rows pushed so far (before `end`'s rest). */
  get received(): number {
    return this.count;
  }

  /** Whether rows are still to come (the feed neither ended nor failed). */
  get open(): boolean {
    return !this.ended && !this.failure;
  }

  private notify() {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /** The slices in order; throws the failure if the feed fails, ends when the feed has ended. */
  async *[Symbol.asyncIterator](): AsyncGenerator<T[]> {
    for (;;) {
      if (this.failure) throw this.failure.err;
      const next = this.slices.shift();
      if (next) {
        yield next;
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }
}
