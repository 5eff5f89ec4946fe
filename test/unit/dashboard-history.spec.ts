import { afterEach, describe, expect, it, vi } from 'vitest';
import { ResilienceEvents } from '../../lib/core/events/resilience-events.js';
import { ResilienceRegistry } from '../../lib/core/registry/resilience-registry.js';
import { DashboardHistory } from '../../lib/dashboard/dashboard.history.js';
import { DEFAULT_RATE_LIMIT_OPTIONS } from '../../lib/core/rate-limit/rate-limit.options.js';
import { SAMPLES_KEPT } from '../../lib/dashboard/dashboard.options.js';

function setup() {
  const registry = new ResilienceRegistry(new ResilienceEvents());
  registry.targets.enable();
  const target = registry.targets.targetFor('Gateway.charge');
  const limit = registry.rateLimitFor('api', { ...DEFAULT_RATE_LIMIT_OPTIONS, limit: 10, interval: 1000 });
  return { registry, target, limit, history: new DashboardHistory(registry) };
}

describe('the dashboard trends', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('turns totals into per-second calls, error and fallback rates, with a gap where nothing was called', () => {
    const { target, history } = setup();
    history.sample(); // nothing yet
    target.record('success', 5);
    target.record('failure', 7);
    target.record('fallback', 9);
    target.record('success', 3);
    history.sample();
    const trends = history.after(0);
    expect(trends.seq).toBe(2);
    expect(trends.from).toBe(1);
    const series = trends.targets['Gateway.charge'];
    expect(series.calls).toEqual([0, 4]);
    expect(series.errors).toEqual([null, 0.25]);
    expect(series.fallbacks).toEqual([null, 0.25]);
    expect(series.p50[0]).toBeNull(); // an idle target has no percentile: "no data", not 0 ms
    expect(series.p99[1]).toBeGreaterThan(0);
  });

  it('sends only the samples a page does not have', () => {
    const { target, history } = setup();
    history.sample();
    target.record('success', 1);
    history.sample();
    history.sample();
    const newer = history.after(2);
    expect(newer.from).toBe(3);
    expect(newer.seq).toBe(3);
    expect(newer.targets['Gateway.charge'].calls).toEqual([0]);
    expect(history.after(3).targets['Gateway.charge'].calls).toEqual([]);
  });

  it('keeps five minutes at most, whatever the uptime', () => {
    const { target, history } = setup();
    for (let i = 0; i < SAMPLES_KEPT + 50; i++) {
      target.record('success', 1);
      history.sample();
    }
    const all = history.after(0);
    expect(all.targets['Gateway.charge'].calls).toHaveLength(SAMPLES_KEPT);
    expect(all.from).toBe(51);
    expect(all.seq).toBe(SAMPLES_KEPT + 50);
  });

  it('records rate limits allowed and refused per second', async () => {
    const { limit, history } = setup();
    history.sample();
    await limit.consume('client', 0);
    history.sample();
    expect(history.after(0).rateLimits.api).toEqual({ allowed: [0, 1], refused: [0, 0] });
  });

  it('samples on an unref’d one-second timer from init, cleared at shutdown', () => {
    vi.useFakeTimers();
    const { history } = setup();
    history.onModuleInit();
    expect(history.seq).toBe(1);
    vi.advanceTimersByTime(3000);
    expect(history.seq).toBe(4);
    history.onApplicationShutdown();
    vi.advanceTimersByTime(3000);
    expect(history.seq).toBe(4);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('reads dead-letter depth and oldest letter in the background, one read at a time', async () => {
    const { registry, history } = setup();
    const queue = registry.deadLetterQueueFor('orders', undefined);
    await queue.add({
      queue: 'orders',
      pattern: 'x',
      args: [],
      error: { name: 'E', message: 'm' },
      attempts: 1,
      deadLetteredAt: 1000,
    });
    await queue.add({
      queue: 'orders',
      pattern: 'x',
      args: [],
      error: { name: 'E', message: 'm' },
      attempts: 1,
      deadLetteredAt: 2000,
    });
    expect(history.deadLetterDepth('orders')).toBeUndefined();
    history.sample();
    await vi.waitFor(() => expect(history.deadLetterDepth('orders')).toMatchObject({ depth: 2, oldestAt: 1000 }));
  });
});
