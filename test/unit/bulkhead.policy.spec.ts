import fc from 'fast-check';
import { firstValueFrom, NEVER, Observable } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BulkheadRejectedError, ResilienceEvents, TimeoutError, type BulkheadOptions } from '../../lib/index.js';
import { DEFAULT_BULKHEAD_OPTIONS } from '../../lib/core/bulkhead/bulkhead.options.js';
import { BulkheadState } from '../../lib/core/bulkhead/bulkhead.state.js';
import { BulkheadPolicy } from '../../lib/core/bulkhead/bulkhead.policy.js';
import { TimeoutPolicy } from '../../lib/core/timeout/timeout.policy.js';
import { resilient } from './policy-harness.js';

function bulkhead(options: Partial<BulkheadOptions>, events = new ResilienceEvents()) {
  return new BulkheadState('pool', { ...DEFAULT_BULKHEAD_OPTIONS, ...options }, events);
}

/** A method whose calls stay pending until released one by one. */
function gated() {
  const pending: (() => void)[] = [];
  let running = 0;
  let peak = 0;
  const method = vi.fn(
    () =>
      new Promise<string>((resolve) => {
        running++;
        peak = Math.max(peak, running);
        pending.push(() => {
          running--;
          resolve('done');
        });
      }),
  );
  return { method, releaseOne: () => pending.shift()?.(), stats: () => ({ running, peak }) };
}

describe('BulkheadPolicy', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('runs maxConcurrent calls, queues maxQueue, rejects the rest at once', async () => {
    const bus = new ResilienceEvents();
    const rejections: unknown[] = [];
    bus.subscribe((event) => rejections.push(event));
    const pool = bulkhead({ maxConcurrent: 2, maxQueue: 1 }, bus);
    const { method, releaseOne } = gated();
    const { call } = resilient(method, () => [new BulkheadPolicy(pool)]);
    const calls = [call(), call(), call()];
    await expect(call()).rejects.toMatchObject({ code: 'BULKHEAD_REJECTED', reason: 'full', policy: 'pool' });
    expect(rejections).toEqual([
      expect.objectContaining({ type: 'bulkhead-rejected', policy: 'pool', reason: 'full' }),
    ]);
    expect(method).toHaveBeenCalledTimes(2);
    expect(pool.snapshot()).toMatchObject({ active: 2, queued: 1 });
    releaseOne();
    await vi.advanceTimersByTimeAsync(0);
    expect(method).toHaveBeenCalledTimes(3); // the queued call got the freed slot
    releaseOne();
    releaseOne();
    await expect(Promise.all(calls)).resolves.toEqual(['done', 'done', 'done']);
    expect(pool.snapshot()).toMatchObject({ active: 0, queued: 0 });
  });

  it('releases the slot when the call fails', async () => {
    const pool = bulkhead({ maxConcurrent: 1 });
    const { call } = resilient(
      async (fail: boolean) => {
        if (fail) throw new Error('boom');
        return 'ok';
      },
      () => [new BulkheadPolicy(pool)],
    );
    await expect(call(true)).rejects.toThrow('boom');
    await expect(call(false)).resolves.toBe('ok');
  });

  it('rejects a queued call that waited longer than maxWait and frees its place', async () => {
    const pool = bulkhead({ maxConcurrent: 1, maxQueue: 1, maxWait: 100 });
    const { method } = gated();
    const { call } = resilient(method, () => [new BulkheadPolicy(pool)]);
    void call();
    const queued = call();
    const assertion = expect(queued).rejects.toMatchObject({ reason: 'wait' });
    await vi.advanceTimersByTimeAsync(100);
    await assertion;
    expect(pool.snapshot()).toMatchObject({ active: 1, queued: 0 });
    expect(method).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('takes a call that timed out while queued out of the queue at once', async () => {
    const pool = bulkhead({ maxConcurrent: 1, maxQueue: 5 });
    const { method, releaseOne } = gated();
    const { call } = resilient(method, (events) => [
      new TimeoutPolicy('t', 50, 'attempt', events),
      new BulkheadPolicy(pool),
    ]);
    const running = call().catch((error: unknown) => error);
    const queued = call();
    const assertion = expect(queued).rejects.toBeInstanceOf(TimeoutError);
    await vi.advanceTimersByTimeAsync(50);
    await assertion;
    expect(pool.snapshot().queued).toBe(0);
    expect(await running).toBeInstanceOf(TimeoutError);
    releaseOne();
    await vi.advanceTimersByTimeAsync(0);
    expect(method).toHaveBeenCalledTimes(1); // the timed-out call never ran
  });

  it('keeps the slot of work ignoring its signal until it really ends; the caller is answered on time', async () => {
    const pool = bulkhead({ maxConcurrent: 1, maxQueue: 0 });
    // A downstream call that does not honour the signal: the first runs its full 300 ms whatever happens.
    let calls = 0;
    const method = vi.fn(
      () => new Promise<string>((resolve) => setTimeout(() => resolve(`call ${++calls}`), calls === 0 ? 300 : 10)),
    );
    const { call } = resilient(method, (events) => [
      new TimeoutPolicy('t', 100, 'attempt', events),
      new BulkheadPolicy(pool),
    ]);
    const first = call();
    const answered = expect(first).rejects.toBeInstanceOf(TimeoutError);
    await vi.advanceTimersByTimeAsync(100);
    await answered; // the caller has its answer at the deadline
    expect(pool.snapshot().active).toBe(1); // the downstream is still busy with it
    await expect(call()).rejects.toBeInstanceOf(BulkheadRejectedError);
    await vi.advanceTimersByTimeAsync(200);
    expect(pool.snapshot().active).toBe(0); // the work ended: the slot is free
    const third = call();
    await vi.advanceTimersByTimeAsync(10);
    await expect(third).resolves.toBe('call 2');
    expect(method).toHaveBeenCalledTimes(2);
  });

  it('frees the slot of an Observable call its caller unsubscribed, and a cancelled waiter leaves the queue', () => {
    const pool = bulkhead({ maxConcurrent: 1, maxQueue: 1 });
    const { call } = resilient(
      () => NEVER,
      () => [new BulkheadPolicy(pool)],
      'observable',
    );
    const running = call().subscribe();
    const waiting = call().subscribe();
    expect(pool.snapshot()).toMatchObject({ active: 1, queued: 1 });
    waiting.unsubscribe();
    expect(pool.snapshot()).toMatchObject({ active: 1, queued: 0 });
    running.unsubscribe();
    expect(pool.snapshot()).toMatchObject({ active: 0, queued: 0 });
  });

  it('hands the slot of a finished Observable call to the next waiter', async () => {
    const pool = bulkhead({ maxConcurrent: 1, maxQueue: 1 });
    const subscribers: { next(value: string): void; complete(): void }[] = [];
    const { call } = resilient(
      () => new Observable<string>((subscriber) => void subscribers.push(subscriber)),
      () => [new BulkheadPolicy(pool)],
      'observable',
    );
    const first = firstValueFrom(call());
    const second = firstValueFrom(call());
    expect(subscribers).toHaveLength(1);
    subscribers[0].next('one');
    subscribers[0].complete();
    await expect(first).resolves.toBe('one');
    expect(subscribers).toHaveLength(2);
    subscribers[1].next('two');
    await expect(second).resolves.toBe('two');
  });

  it('keeps separate compartments per partition key and drops idle ones', async () => {
    const pool = bulkhead({ maxConcurrent: 1, key: (tenant: string) => tenant });
    const { method, releaseOne } = gated();
    const { call } = resilient(method as (tenant: string) => Promise<string>, () => [new BulkheadPolicy(pool)]);
    const a = call('a');
    const b = call('b');
    await expect(call('a')).rejects.toBeInstanceOf(BulkheadRejectedError);
    expect(pool.snapshot()).toMatchObject({ active: 2, partitions: 2 });
    releaseOne();
    releaseOne();
    await Promise.all([a, b]);
    expect(pool.snapshot()).toMatchObject({ active: 0, partitions: 0 });
  });

  it('never runs more than maxConcurrent calls under random concurrent load', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 0, max: 5 }),
        fc.array(
          fc.record({
            start: fc.integer({ min: 0, max: 50 }),
            duration: fc.integer({ min: 1, max: 50 }),
            cancelAt: fc.option(fc.integer({ min: 0, max: 100 })),
          }),
          { maxLength: 40 },
        ),
        async (maxConcurrent, maxQueue, plan) => {
          const pool = bulkhead({ maxConcurrent, maxQueue });
          let running = 0;
          let peak = 0;
          const { call } = resilient(
            (duration: number) =>
              new Observable<number>((subscriber) => {
                running++;
                peak = Math.max(peak, running);
                const timer = setTimeout(() => {
                  subscriber.next(duration);
                  subscriber.complete();
                }, duration);
                return () => {
                  running--;
                  clearTimeout(timer);
                };
              }),
            () => [new BulkheadPolicy(pool)],
            'observable',
          );
          for (const { start, duration, cancelAt } of plan) {
            setTimeout(() => {
              const subscription = call(duration).subscribe({ error: () => undefined });
              if (cancelAt !== null) setTimeout(() => subscription.unsubscribe(), cancelAt);
            }, start);
          }
          await vi.advanceTimersByTimeAsync(500);
          expect(peak).toBeLessThanOrEqual(maxConcurrent);
          expect(running).toBe(0);
          expect(pool.snapshot()).toMatchObject({ active: 0, queued: 0 });
        },
      ),
      { numRuns: 100 },
    );
  });
});
