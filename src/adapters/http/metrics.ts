// A minimal Prometheus text-format registry: counters and gauges with labels, and summaries of
// durations as _sum/_count. Small enough not to need prom-client.

type Labels = Record<string, string>;

function key(labels: Labels): string {
  return Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, '_')}"`)
    .join(',');
}

interface Family {
  help: string;
  type: 'counter' | 'gauge' | 'summary';
  values: Map<string, number>;
}

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
