// A minimal Prometheus text-format registry: counters and gauges with labels, summaries of durations as
// _sum/_count, and histograms (cumulative _bucket{le}, _sum, _count). Small enough not to need prom-client.

type Labels = Record<string, string>;

function key(labels: Labels): string {
  return Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, '_')}"`)
    .join(',');
}

interface Family {
  help: string;
  type: 'counter' | 'gauge' | 'summary' | 'histogram';
  values: Map<string, number>;
  /** Histogram upper bounds (seconds), ascending; +Inf is implied. */
  buckets?: readonly number[];
}

/** Update handling: a reply within a second is normal, several seconds is felt by people. */
export const LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] as const;

export class Metrics {
  private readonly families = new Map<string, Family>();
  private readonly collectors: (() => Promise<void> | void)[] = [];

  private family(name: string, help: string, type: Family['type']): Family {
    let f = this.families.get(name);
    if (!f) {
      f = { help, type, values: new Map() };
      this.families.set(name, f);
    }
    return f;
  }

  inc(name: string, help: string, labels: Labels = {}, by = 1): void {
    const f = this.family(name, help, 'counter');
    const k = key(labels);
    f.values.set(k, (f.values.get(k) ?? 0) + by);
  }

  set(name: string, help: string, value: number, labels: Labels = {}): void {
    this.family(name, help, 'gauge').values.set(key(labels), value);
  }

  observe(name: string, help: string, seconds: number, labels: Labels = {}): void {
    const f = this.family(name, help, 'summary');
    const k = key(labels);
    f.values.set(`sum|${k}`, (f.values.get(`sum|${k}`) ?? 0) + seconds);
    f.values.set(`count|${k}`, (f.values.get(`count|${k}`) ?? 0) + 1);
  }

  /**
   * Announces a family before its first value, so a scrape shows it (with no samples) from the start:
   * alert rules can rely on every metric they name being there.
   */
  declare(name: string, help: string, type: Family['type'], buckets?: readonly number[]): void {
    const f = this.family(name, help, type);
    if (buckets) f.buckets ??= buckets;
  }

  /** Counts a duration into the family's buckets (declared with `declare`, default LATENCY_BUCKETS). */
  histogram(name: string, help: string, seconds: number, labels: Labels = {}): void {
    const f = this.family(name, help, 'histogram');
    f.buckets ??= LATENCY_BUCKETS;
    const k = key(labels);
    for (const le of [...f.buckets, Number.POSITIVE_INFINITY]) {
      if (seconds <= le) {
        const bk = `bucket|${le}|${k}`;
        f.values.set(bk, (f.values.get(bk) ?? 0) + 1);
      }
    }
    f.values.set(`sum|${k}`, (f.values.get(`sum|${k}`) ?? 0) + seconds);
    f.values.set(`count|${k}`, (f.values.get(`count|${k}`) ?? 0) + 1);
  }

  /** Registers a callback run before each scrape (e.g. queue depths). */
  onCollect(fn: () => Promise<void> | void): void {
    this.collectors.push(fn);
  }

  get(name: string, labels: Labels = {}): number {
    return this.families.get(name)?.values.get(key(labels)) ?? 0;
  }

  async render(): Promise<string> {
    for (const c of this.collectors) {
      try {
        await c();
      } catch {
        // a collector failing (e.g. Redis down) must not break the scrape
      }
    }
    const lines: string[] = [];
    for (const [name, f] of this.families) {
      lines.push(`# HELP ${name} ${f.help}`, `# TYPE ${name} ${f.type}`);
      if (f.type === 'histogram') {
        lines.push(...renderHistogram(name, f));
        continue;
      }
      for (const [k, v] of f.values) {
        if (f.type === 'summary') {
          const [part, labels] = k.split('|') as [string, string];
          lines.push(`${name}_${part}${labels ? `{${labels}}` : ''} ${v}`);
        } else lines.push(`${name}${k ? `{${k}}` : ''} ${v}`);
      }
    }
    return `${lines.join('\n')}\n`;
  }
}

/** Buckets are counted cumulatively per label set (a value counts in every bucket it fits). */
function renderHistogram(name: string, f: Family): string[] {
  const bounds = [...(f.buckets ?? LATENCY_BUCKETS), Number.POSITIVE_INFINITY];
  const labelSets = new Set<string>();
  for (const k of f.values.keys()) if (k.startsWith('count|')) labelSets.add(k.slice('count|'.length));
  const lines: string[] = [];
  for (const labels of labelSets) {
    for (const le of bounds) {
      const leText = le === Number.POSITIVE_INFINITY ? '+Inf' : String(le);
      const all = labels ? `${labels},le="${leText}"` : `le="${leText}"`;
      lines.push(`${name}_bucket{${all}} ${f.values.get(`bucket|${le}|${labels}`) ?? 0}`);
    }
    const suffix = labels ? `{${labels}}` : '';
    lines.push(`${name}_sum${suffix} ${f.values.get(`sum|${labels}`) ?? 0}`);
    lines.push(`${name}_count${suffix} ${f.values.get(`count|${labels}`) ?? 0}`);
  }
  return lines;
}
