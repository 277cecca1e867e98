/**
 * The rows of a file arriving in slices while it is still being parsed (the upload child sends them as
 * it goes), so the check of the first rows runs while the rest is read. Only `end()` makes the rows a
 * file: the total is known then. `fail()` (the parse was refused, the child died) makes the reader
 * throw, so nothing checked from an unfinished file is stored.
 */
export class RowFeed<Row> implements AsyncIterable<readonly Row[]> {
  private readonly queue: (readonly Row[])[] = [];
  private count = 0;
  private ended = false;
  private failure: { error: unknown } | undefined;
  private wake: (() => void) | undefined;
  private onArrival!: () => void;
  /** Resolves when the first rows arrive (or the feed ends or fails first). */
  readonly arrived = new Promise<void>((resolve) => {
    this.onArrival = resolve;
  });

  /** Rows in the file, once it has ended; undefined while rows may still come. */
  get total(): number | undefined {
    return this.ended ? this.count : undefined;
  }

  /** Rows pushed so far. */
  get received(): number {
    return this.count;
  }

  push(rows: readonly Row[]): void {
    if (this.ended || this.failure || rows.length === 0) return;
    this.queue.push(rows);
    this.count += rows.length;
    this.poke();
  }

  /** The file is complete: `rest` are its rows not pushed yet. */
  end(rest: readonly Row[] = []): void {
    this.push(rest);
    if (this.failure) return;
    this.ended = true;
    this.poke();
  }

  fail(error: unknown): void {
    if (this.ended || this.failure) return;
    this.failure = { error };
    this.queue.length = 0;
    this.poke();
  }

  private poke() {
    this.onArrival();
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<readonly Row[]> {
    for (;;) {
      if (this.failure) throw this.failure.error;
      const next = this.queue.shift();
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
