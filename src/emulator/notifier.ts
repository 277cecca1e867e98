/** Wake-ups for long polls: `wait(key)` resolves on the next `notify(key)`, on timeout or on abort. */
export class Notifier {
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly listeners = new Set<(key: string) => void>();

  /** Calls `listener` with every notified key (`*` for notifyAll) until the returned function is called. */
  subscribe(listener: (key: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  wait(key: string, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    return new Promise((resolve) => {
      if (timeoutMs <= 0 || signal?.aborted) {
        resolve(false);
        return;
      }
      let set = this.waiters.get(key);
      if (!set) {
        set = new Set();
        this.waiters.set(key, set);
      }
      const waiters = set;
      const done = (woken: boolean): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        waiters.delete(wake);
        if (waiters.size === 0 && this.waiters.get(key) === waiters) this.waiters.delete(key);
        resolve(woken);
      };
      const wake = (): void => done(true);
      const onAbort = (): void => done(false);
      const timer = setTimeout(() => done(false), timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      waiters.add(wake);
    });
  }

  notify(key: string): void {
    for (const listener of this.listeners) listener(key);
    const set = this.waiters.get(key);
    if (!set) return;
    for (const wake of [...set]) wake();
  }

  notifyAll(): void {
    for (const listener of this.listeners) listener('*');
    for (const key of [...this.waiters.keys()]) this.notify(key);
  }
}
