import { describe, expect, it } from 'vitest';
import { Metrics } from '../../src/adapters/http/metrics.ts';

describe('metrics registry', () => {
  it('renders a histogram with cumulative buckets, +Inf, _sum and _count', async () => {
    const m = new Metrics();
    m.declare('t_seconds', 'Time', 'histogram', [0.1, 1]);
    m.histogram('t_seconds', 'Time', 0.05);
    m.histogram('t_seconds', 'Time', 0.5);
    m.histogram('t_seconds', 'Time', 3);
    const text = await m.render();
    expect(text).toContain('# TYPE t_seconds histogram');
    expect(text).toContain('t_seconds_bucket{le="0.1"} 1');
    expect(text).toContain('t_seconds_bucket{le="1"} 2');
    expect(text).toContain('t_seconds_bucket{le="+Inf"} 3');
    expect(text).toContain('t_seconds_sum 3.55');
    expect(text).toContain('t_seconds_count 3');
  });

  it('shows a declared family before its first value', async () => {
    const m = new Metrics();
    m.declare('x_total', 'Xs', 'counter');
    expect(await m.render()).toBe('# HELP x_total Xs\n# TYPE x_total counter\n');
    m.inc('x_total', 'Xs', { kind: 'a' });
    expect(await m.render()).toContain('x_total{kind="a"} 1');
  });
});
