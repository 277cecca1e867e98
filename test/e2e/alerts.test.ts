import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { HEALTH_THRESHOLDS } from '../../src/usecases/health.ts';
import { startHarness, type Harness } from '../support/harness.ts';

// ops/alerts.yml (the README's example alert rules): every rule names a threshold and a first action, and
// every metric its expression uses is served by /metrics of a running bot + worker (before any event:
// counters are declared at start). `up` is Prometheus's own.

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

const rules = (
  parse(readFileSync(new URL('../../ops/alerts.yml', import.meta.url), 'utf8')) as {
    groups: { name: string; rules: Rule[] }[];
  }
).groups.flatMap((g) => g.rules);

/** Metric names in a PromQL expression (functions and label names are lower-case words too: only ours). */
function metricsOf(expr: string): string[] {
  const names = [...expr.matchAll(/\b(warmth_[a-z0-9_]+)\b/g)].map((m) => m[1]!);
  // A histogram's series are <name>_bucket, _sum and _count.
  return [...new Set(names.map((n) => n.replace(/_(bucket|sum|count)$/, '')))];
}

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ env: { METRICS_TOKEN: 'alerts-test-token' } });
});
afterAll(async () => {
  await h?.stop();
});

describe('example alert rules', () => {
  it('are well-formed: a unique name, an expression, a severity, a threshold and a first action each', () => {
    expect(rules.length).toBeGreaterThanOrEqual(10);
    expect(new Set(rules.map((r) => r.alert)).size).toBe(rules.length);
    for (const r of rules) {
      expect(r.expr, r.alert).toMatch(/\S/);
      let depth = 0;
      for (const ch of r.expr) {
        depth += ch === '(' ? 1 : ch === ')' ? -1 : 0;
        expect(depth, `${r.alert}: parentheses`).toBeGreaterThanOrEqual(0);
      }
      expect(depth, `${r.alert}: parentheses`).toBe(0);
      expect(r.for ?? '', r.alert).toMatch(/^\d+[smhd]$/);
      expect(r.labels?.['severity'], r.alert).toMatch(/^(page|ticket|info)$/);
      expect(r.annotations?.['threshold'], r.alert).toMatch(/\S/);
      expect(r.annotations?.['first_action'], r.alert).toMatch(/\S/);
    }
  });

  it('use the thresholds the health check uses (usecases/health.ts)', () => {
    const threshold = (alert: string) =>
      Number(/>\s*(\d+)\s*$/.exec(rules.find((r) => r.alert === alert)!.expr)![1]);
    expect(threshold('WarmthQueueStalled')).toBe(HEALTH_THRESHOLDS.queueOldestWaitingSeconds);
    expect(threshold('WarmthNoticesWaiting')).toBe(HEALTH_THRESHOLDS.noticeOldestQueuedSeconds);
    expect(threshold('WarmthNoticesStuckSending')).toBe(HEALTH_THRESHOLDS.noticesSending);
    expect(threshold('WarmthRemindersLate')).toBe(HEALTH_THRESHOLDS.remindersLate);
    expect(threshold('WarmthReviewSlaBreaches')).toBe(HEALTH_THRESHOLDS.reviewSlaBreaches);
    expect(threshold('WarmthReviewBacklog')).toBe(HEALTH_THRESHOLDS.reviewBacklog);
  });

  it('name only metrics that /metrics serves', async () => {
    const res = await fetch(`http://127.0.0.1:${h.app.httpPort}/metrics`, {
      headers: { authorization: 'Bearer alerts-test-token' },
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    const served = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
    const named = rules.flatMap((r) => metricsOf(r.expr).map((m) => ({ alert: r.alert, metric: m })));
    expect(named.length).toBeGreaterThan(rules.length - 2);
    expect(named.filter((n) => !served.has(n.metric))).toEqual([]);
    // The figures that need no event are there with a value from the start.
    expect(text).toMatch(/^warmth_queue_oldest_waiting_seconds\{queue="notifications"\} \d/m);
    expect(text).toMatch(/^warmth_notices\{status="queued"\} 0$/m);
    expect(text).toMatch(/^warmth_reminders_late 0$/m);
    expect(text).toMatch(/^warmth_review_sla_breaches 0$/m);
  });
});
