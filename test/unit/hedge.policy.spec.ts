import { firstValueFrom, Observable, of, throwError, toArray, lastValueFrom } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  getIdempotencyKey,
  getTimeoutSignal,
  HedgeLostError,
  TimeoutError,
  type HedgeOptions,
} from '../../lib/index.js';
import { DEFAULT_HEDGE_OPTIONS } from '../../lib/core/hedge/hedge.options.js';
import { HedgePolicy } from '../../lib/core/hedge/hedge.policy.js';
import { TimeoutPolicy } from '../../lib/core/timeout/timeout.policy.js';
import { RetryBudgetState } from '../../lib/core/retry/retry-budget.state.js';
import { resilient } from './policy-harness.js';

const hedge = (options: Partial<HedgeOptions> = {}) => ({ ...DEFAULT_HEDGE_OPTIONS, ...options });
const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    });
  });

describe('HedgePolicy', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('cuts a slow 5% tail: p99 drops below the hedge delay plus the median', async () => {
    let calls = 0;
    // Every 20th call to the downstream takes 1 s, the others 10 ms.
    const downstream = () => sleep(++calls % 20 === 0 ? 1_000 : 10, getTimeoutSignal());
    const latencies = async (policies: (bus: never) => HedgePolicy[]) => {
      calls = 0;
      const { call } = resilient(downstream, policies as never);
      const measured: number[] = [];
      const all = Array.from({ length: 400 }, async (_, index) => {
        await sleep(index * 5); // a call every 5 ms
        const start = performance.now();
        await call();
        measured.push(performance.now() - start);
      });
      await vi.runAllTimersAsync();
      await Promise.all(all);
      measured.sort((a, b) => a - b);
      return { p99: measured[Math.floor(measured.length * 0.99)], median: measured[measured.length / 2] };
    };
    const unhedged = await latencies(() => []);
    expect(unhedged.p99).toBe(1_000);
    const hedged = await latencies((bus) => [new HedgePolicy('h', hedge({ delay: 30 }), bus)]);
    expect(hedged.p99).toBeLessThan(30 + unhedged.median + 1);
  });

  it('aborts the losers through their own signals; the first success wins', async () => {
    const signals: AbortSignal[] = [];
    const method = vi.fn(() => {
      const signal = getTimeoutSignal()!;
      signals.push(signal);
      return sleep(signals.length === 1 ? 1_000 : 10, signal).then(() => signals.length);
    });
    const { call, events } = resilient(method, (bus) => [new HedgePolicy('h', hedge({ delay: 50 }), bus)]);
    const result = call();
    await vi.advanceTimersByTimeAsync(60);
    await expect(result).resolves.toBe(2);
    expect(method).toHaveBeenCalledTimes(2);
    expect(signals[0]).not.toBe(signals[1]);
    expect(signals[0].aborted).toBe(true);
    expect(signals[0].reason).toBeInstanceOf(HedgeLostError);
    expect(signals[1].aborted).toBe(false);
    expect(events).toEqual([expect.objectContaining({ type: 'hedge', policy: 'h', hedge: 1, delay: 50 })]);
    // One timer is left: the policy's shared hedge timer (unref'd, holding nothing open), which runs out at the last
    // deadline it was set for and is not armed again.
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(50);
    expect(vi.getTimerCount()).toBe(0);
    expect(method).toHaveBeenCalledTimes(2);
  });

  it('a total timeout outside the hedge aborts every hedged attempt and starts no further hedge', async () => {
    const signals: AbortSignal[] = [];
    const method = vi.fn(() => {
      const signal = getTimeoutSignal()!;
      signals.push(signal);
      return sleep(1_000, signal).then(() => signals.length);
    });
    const { call } = resilient(method, (bus) => [
      new TimeoutPolicy('t', 80, 'total', bus),
      new HedgePolicy('h', hedge({ delay: 50, maxHedges: 3 }), bus),
    ]);
    const result = call();
    const settled = expect(result).rejects.toBeInstanceOf(TimeoutError);
    await vi.advanceTimersByTimeAsync(80);
    await settled;
    expect(method).toHaveBeenCalledTimes(2);
    expect(signals.map((signal) => signal.aborted)).toEqual([true, true]);
    expect(signals[0].reason).toBeInstanceOf(TimeoutError);
    // The race stopped: the 100 ms mark would have started a third attempt.
    await vi.advanceTimersByTimeAsync(200);
    expect(method).toHaveBeenCalledTimes(2);
  });

  it('reports the delay each hedge really waited: at once after a failure, not the configured delay', async () => {
    let calls = 0;
    // The first attempt fails after 20 ms, the second answers.
    const method = () =>
      ++calls === 1 ? sleep(20).then(() => Promise.reject(new Error('down'))) : Promise.resolve('ok');
    const { call, events } = resilient(method, (bus) => [new HedgePolicy('h', hedge({ delay: 100 }), bus)]);
    const result = call();
    await vi.advanceTimersByTimeAsync(20);
    await expect(result).resolves.toBe('ok');
    expect(events).toEqual([expect.objectContaining({ type: 'hedge', hedge: 1, delay: 20 })]);
  });

  it('reports the wait, not the percentile, when a failure hedges before the percentile delay', async () => {
    let calls = 0;
    const method = () => {
      calls++;
      if (calls === 1) return sleep(15).then(() => Promise.reject(new Error('down'))); // fails before 40 ms
      if (calls === 2) return sleep(1_000).then(() => 'slow'); // hedged again after the 40 ms percentile
      return Promise.resolve('third');
    };
    const source = { percentile: () => 40 };
    const { call, events } = resilient(method, (bus) => [
      new HedgePolicy('h', hedge({ maxHedges: 2, delay: { percentile: 95, fallback: 100 } }), bus, undefined, source),
    ]);
    const result = call();
    await vi.advanceTimersByTimeAsync(15 + 40);
    await expect(result).resolves.toBe('third');
    expect(events.map((event) => (event as { delay?: number }).delay)).toEqual([15, 40]);
  });

  it('sends one idempotency key from every hedged attempt: they are one logical call', async () => {
    const keys: (string | undefined)[] = [];
    const method = vi.fn(() => {
      keys.push(getIdempotencyKey());
      return sleep(keys.length === 1 ? 1_000 : 10, getTimeoutSignal()).then(() => keys.length);
    });
    const { call } = resilient(method, (bus) => [new HedgePolicy('h', hedge({ delay: 50 }), bus)]);
    const result = call();
    await vi.advanceTimersByTimeAsync(60);
    await expect(result).resolves.toBe(2);
    expect(keys).toHaveLength(2);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(keys[1]).toBe(keys[0]);
  });

  it("fails with the first attempt's error when every attempt fails, hedging at once after a failure", async () => {
    let calls = 0;
    const method = vi.fn(async () => {
      calls++;
      await sleep(5);
      throw new Error(`failure ${calls}`);
    });
    const { call } = resilient(method, (bus) => [new HedgePolicy('h', hedge({ maxHedges: 2, delay: 1_000 }), bus)]);
    const result = call().catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(20);
    expect(await result).toMatchObject({ message: 'failure 1' });
    expect(method).toHaveBeenCalledTimes(3);
  });

  it('hedges only while the retry budget has room', async () => {
    const budget = new RetryBudgetState('default', { ratio: 0.1, minPerSecond: 0, window: 10_000 });
    for (let call = 0; call < 10; call++) budget.recordCall(); // room for one retry or hedge
    const method = vi.fn(() => sleep(100).then(() => 'ok'));
    const { call } = resilient(method, (bus) => [new HedgePolicy('h', hedge({ delay: 10 }), bus, budget)]);
    const results = [call(), call()];
    await vi.runAllTimersAsync();
    await Promise.all(results);
    expect(method).toHaveBeenCalledTimes(3);
    expect(budget.snapshot()).toMatchObject({ retries: 1, exhausted: 1 });
  });

  it("aborts a losing Observable attempt's signal, not the winner's, when the winner completes at once", async () => {
    const signals: AbortSignal[] = [];
    const method = () => {
      const index = signals.push(getTimeoutSignal()!);
      return new Observable<string>((subscriber) => {
        // The first attempt never answers; the hedge answers and completes in the same turn.
        if (index === 2) {
          subscriber.next('hedge');
          subscriber.complete();
        }
      });
    };
    const { call } = resilient(method, (bus) => [new HedgePolicy('h', hedge({ delay: 20 }), bus)], 'observable');
    const result = firstValueFrom(call());
    await vi.advanceTimersByTimeAsync(20);
    await expect(result).resolves.toBe('hedge');
    expect(signals).toHaveLength(2);
    expect(signals[0].reason).toBeInstanceOf(HedgeLostError);
    expect(signals[1].aborted).toBe(false);
  });

  it('unsubscribes the losing Observable attempts', async () => {
    const subscribed: number[] = [];
    const unsubscribed: number[] = [];
    const method = () =>
      new Observable<string>((subscriber) => {
        const index = subscribed.push(subscribed.length);
        const timer = setTimeout(
          () => {
            subscriber.next(`answer ${index}`);
            subscriber.complete();
          },
          index === 1 ? 1_000 : 10,
        );
        return () => {
          clearTimeout(timer);
          unsubscribed.push(index);
        };
      });
    const { call } = resilient(method, (bus) => [new HedgePolicy('h', hedge({ delay: 20 }), bus)], 'observable');
    const result = firstValueFrom(call());
    await vi.advanceTimersByTimeAsync(40);
    await expect(result).resolves.toBe('answer 2');
    expect(unsubscribed).toContain(1);
    expect(vi.getTimerCount()).toBe(0);
  });
  it('an outer unsubscribe before the delay ends the attempt, leaves no timer and starts no hedge', async () => {
    const subscribed = vi.fn();
    const unsubscribed = vi.fn();
    const method = () =>
      new Observable<string>(() => {
        subscribed();
        return unsubscribed;
      });
    const { call, events } = resilient(
      method,
      (bus) => [new HedgePolicy('h', hedge({ delay: 20 }), bus)],
      'observable',
    );
    const subscription = call().subscribe();
    await vi.advanceTimersByTimeAsync(10);
    subscription.unsubscribe();
    expect(unsubscribed).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(subscribed).toHaveBeenCalledTimes(1);
    expect(events).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('passes on every value of a streaming winner; the loser is unsubscribed at its first value', async () => {
    const unsubscribed: number[] = [];
    let attempts = 0;
    const method = () =>
      new Observable<string>((subscriber) => {
        const index = ++attempts;
        const timers = [10, 20, 30].map((at, value) =>
          setTimeout(() => subscriber.next(`${index}.${value}`), index === 1 ? 1_000 + at : at),
        );
        const done = setTimeout(() => subscriber.complete(), index === 1 ? 2_000 : 40);
        return () => {
          [...timers, done].forEach(clearTimeout);
          unsubscribed.push(index);
        };
      });
    const { call } = resilient(method, (bus) => [new HedgePolicy('h', hedge({ delay: 50 }), bus)], 'observable');
    const values = lastValueFrom(call().pipe(toArray()));
    await vi.advanceTimersByTimeAsync(60);
    // The hedge (started at 50 ms) answered at 60 ms: the first attempt is already gone.
    expect(unsubscribed).toEqual([1]);
    await vi.advanceTimersByTimeAsync(40);
    await expect(values).resolves.toEqual(['2.0', '2.1', '2.2']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a synchronous answer wins at once: no hedge, no timer left armed', async () => {
    const method = vi.fn(() => of('at once'));
    const { call, events } = resilient(
      method,
      (bus) => [new HedgePolicy('h', hedge({ delay: 20 }), bus)],
      'observable',
    );
    await expect(firstValueFrom(call())).resolves.toBe('at once');
    await vi.advanceTimersByTimeAsync(100);
    expect(method).toHaveBeenCalledTimes(1);
    expect(events).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("hedges at once after a synchronous failure; when all fail, errors with the first one's error", async () => {
    let calls = 0;
    const method = vi.fn(() => throwError(() => new Error(`failure ${++calls}`)));
    const { call, events } = resilient(
      method,
      (bus) => [new HedgePolicy('h', hedge({ delay: 1_000, maxHedges: 2 }), bus)],
      'observable',
    );
    await expect(firstValueFrom(call())).rejects.toThrow('failure 1');
    expect(method).toHaveBeenCalledTimes(3);
    expect(events.map((event) => event.type)).toEqual(['hedge', 'hedge']);
    // Only the policy's shared timer, which runs out at the deadline it was set for and is not armed again.
    await vi.advanceTimersByTimeAsync(1_000);
    expect(vi.getTimerCount()).toBe(0);
    expect(method).toHaveBeenCalledTimes(3);
  });
});
