import { firstValueFrom, lastValueFrom, Observable, of, throwError, toArray } from 'rxjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ResilienceEvents } from '../../lib/index.js';
import { NO_ANSWER } from '../../lib/core/fallback/fallback-answer.js';
import {
  FallbackPolicy,
  type FallbackHooks,
  type FallbackStepHandler,
} from '../../lib/core/fallback/fallback.policy.js';
import { LastKnownGoodState } from '../../lib/core/fallback/last-known-good.state.js';
import { MemoryLastKnownGoodStore } from '../../lib/core/fallback/memory-last-known-good.store.js';
import { resilient } from './policy-harness.js';

const SHAPES = ['promise', 'observable'] as const;

function step(run: FallbackStepHandler['run'], when?: (error: unknown) => boolean): FallbackStepHandler {
  return { run, when };
}

function chain(steps: FallbackStepHandler[], when?: (error: unknown) => boolean, hooks?: FallbackHooks) {
  return (bus: ResilienceEvents) => [new FallbackPolicy('fb', steps, when, bus, hooks)];
}

/** A method failing with `error`, as a Promise or an Observable method. */
function failing(shape: 'promise' | 'observable', error: unknown): (id: number) => Promise<unknown> {
  return (
    shape === 'promise'
      ? async (_id: number): Promise<unknown> => {
          throw error;
        }
      : (_id: number): Observable<unknown> => throwError(() => error)
  ) as (id: number) => Promise<unknown>;
}

/** The call's outcome, whichever shape the (typed-as-Promise) method has. */
function result(shape: 'promise' | 'observable', value: unknown): Promise<unknown> {
  return shape === 'promise' ? (value as Promise<unknown>) : lastValueFrom(value as Observable<unknown>);
}

describe.each(SHAPES)('a fallback chain (%s method)', (shape) => {
  it('answers with the first step that applies, skipping steps whose `when` rejects the error', async () => {
    const skipped = vi.fn(() => 'never');
    const { call, events } = resilient(
      failing(shape, new Error('timeout')),
      chain([
        step(skipped, (error) => (error as Error).message === 'other'),
        step(() => 'second'),
        step(() => 'third'),
      ]),
      shape,
    );
    await expect(result(shape, call(1))).resolves.toBe('second');
    expect(skipped).not.toHaveBeenCalled();
    expect(events).toEqual([expect.objectContaining({ type: 'fallback', step: 1 })]);
  });

  it('hands over from a failing step (thrown, rejected or errored) to the next', async () => {
    const thrower = vi.fn(() => {
      throw new Error('sync step failed');
    });
    const { call } = resilient(
      failing(shape, new Error('primary')),
      chain([
        step(thrower),
        step(() => Promise.reject(new Error('async step failed'))),
        step(() => throwError(() => new Error('stream step failed'))),
        step(() => of('finally')),
      ]),
      shape,
    );
    await expect(result(shape, call(1))).resolves.toBe('finally');
    expect(thrower).toHaveBeenCalledOnce();
  });

  it("gives the last step's error when every step failed, with the original error as its cause", async () => {
    const original = new Error('primary');
    const last = new Error('last step failed');
    const { call, events } = resilient(
      failing(shape, original),
      chain([step(() => Promise.reject(new Error('first step failed'))), step(() => throwError(() => last))]),
      shape,
    );
    const caught = await result(shape, call(1)).catch((error: unknown) => error);
    expect(caught).toBe(last);
    expect((caught as Error).cause).toBe(original);
    expect(events).toHaveLength(0);
  });

  it('keeps a cause the last error already has', async () => {
    const own = new Error('own cause');
    const { call } = resilient(
      failing(shape, new Error('primary')),
      chain([
        step(() => {
          throw new Error('step', { cause: own });
        }),
      ]),
      shape,
    );
    await expect(result(shape, call(1))).rejects.toMatchObject({ message: 'step', cause: own });
  });

  it('lets the original error through untouched when no step answers (none applies or has an answer)', async () => {
    const original = new Error('primary');
    const { call } = resilient(
      failing(shape, original),
      chain([
        step(() => NO_ANSWER),
        step(() => Promise.resolve(NO_ANSWER)),
        step(
          () => 'x',
          () => false,
        ),
      ]),
      shape,
    );
    const caught = await result(shape, call(1)).catch((error: unknown) => error);
    expect(caught).toBe(original);
    expect((caught as Error).cause).toBeUndefined();
  });

  it('treats a step whose `when` throws as a failed step', async () => {
    const { call } = resilient(
      failing(shape, new Error('primary')),
      chain([
        step(
          () => 'never',
          () => {
            throw new Error('when broke');
          },
        ),
        step(() => 'next'),
      ]),
      shape,
    );
    await expect(result(shape, call(1))).resolves.toBe('next');
  });

  it('does not run at all for errors the chain-wide `when` rejects', async () => {
    const run = vi.fn(() => 'never');
    const { call } = resilient(
      failing(shape, new Error('primary')),
      chain([step(run)], () => false),
      shape,
    );
    await expect(result(shape, call(1))).rejects.toThrow('primary');
    expect(run).not.toHaveBeenCalled();
  });
});

describe('a fallback chain on an Observable method', () => {
  it('streams every value of the step that answered, and does not hand over once it has answered', async () => {
    const later = vi.fn(() => 'never');
    const { call } = resilient(
      () => throwError(() => new Error('primary')),
      chain([
        step(
          () =>
            new Observable((subscriber) => {
              subscriber.next(1);
              subscriber.next(2);
              subscriber.error(new Error('step broke mid-stream'));
            }),
        ),
        step(later),
      ]),
      'observable',
    );
    const seen: unknown[] = [];
    const caught = await new Promise((resolve) => call().subscribe({ next: (v) => seen.push(v), error: resolve }));
    expect(seen).toEqual([1, 2]);
    expect((caught as Error).message).toBe('step broke mid-stream');
    expect(later).not.toHaveBeenCalled();
  });

  it('unsubscribes a pending step when the caller unsubscribes, and runs no further step', async () => {
    let stepTeardowns = 0;
    const later = vi.fn(() => 'never');
    const { call } = resilient(
      () => throwError(() => new Error('primary')),
      chain([step(() => new Observable(() => () => void stepTeardowns++)), step(later)]),
      'observable',
    );
    const subscription = call().subscribe();
    subscription.unsubscribe();
    expect(stepTeardowns).toBe(1);
    expect(later).not.toHaveBeenCalled();
  });
});

describe('a last-known-good step', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  function cached(maxAge: number, refreshInterval = 0) {
    const store = new MemoryLastKnownGoodStore({ maxEntries: 100, maxBytes: 1 << 20 });
    const options = { maxAge, key: undefined, shared: false, name: undefined, maxEntries: 100, maxBytes: 1 << 20 };
    const state = new LastKnownGoodState('quotes', { ...options, refreshInterval }, store);
    const keyOf = (invocation: { args: readonly unknown[] }) => JSON.stringify(invocation.args);
    const steps: FallbackStepHandler[] = [
      step((_error, invocation) => state.recall(keyOf(invocation))),
      step(() => 'default'),
    ];
    const hooks: FallbackHooks = {
      remember: (invocation, value) => state.remember(keyOf(invocation), value),
      onStale: vi.fn(),
    };
    return { state, steps, hooks };
  }

  it.each(SHAPES)(
    'serves the last success for the same arguments within maxAge, stale, then the next step (%s)',
    async (shape) => {
      vi.useFakeTimers();
      const { state, steps, hooks } = cached(60_000);
      let up = true;
      const method =
        shape === 'promise'
          ? async (id: number) => {
              if (!up) throw new Error('down');
              return { id, price: id * 10 };
            }
          : (((id: number) => (up ? of({ id, price: id * 10 }) : throwError(() => new Error('down')))) as unknown as (
              id: number,
            ) => Promise<unknown>);
      const { call, events } = resilient(method, chain(steps, undefined, hooks), shape);
      await expect(result(shape, call(1))).resolves.toEqual({ id: 1, price: 10 });
      up = false;
      vi.advanceTimersByTime(30_000);
      await expect(result(shape, call(1))).resolves.toEqual({ id: 1, price: 10 });
      expect(events).toEqual([expect.objectContaining({ type: 'fallback', step: 0, stale: true, ageMs: 30_000 })]);
      expect(hooks.onStale).toHaveBeenCalledWith(expect.anything(), 30_000);
      await expect(result(shape, call(2))).resolves.toBe('default'); // never succeeded for 2
      vi.advanceTimersByTime(30_001);
      await expect(result(shape, call(1))).resolves.toBe('default'); // older than maxAge
      expect(state.snapshot()).toMatchObject({ remembered: 1, served: 1, misses: 2 });
    },
  );

  it('replaces a key at most once per refreshInterval, so a busy key is not serialized on every success', async () => {
    vi.useFakeTimers();
    const { state, steps, hooks } = cached(60_000, 1000);
    let answer: number | Error = 1;
    const { call } = resilient(
      async () => {
        if (answer instanceof Error) throw answer;
        return answer;
      },
      chain(steps, undefined, hooks),
    );
    await call();
    answer = 2;
    vi.advanceTimersByTime(999);
    await call(); // within the interval: not written
    answer = new Error('down');
    await expect(call()).resolves.toBe(1);
    answer = 3;
    vi.advanceTimersByTime(1);
    await call(); // the interval has passed: written
    answer = new Error('down');
    await expect(call()).resolves.toBe(3);
    expect(state.snapshot().remembered).toBe(2);
  });

  it('serves a snapshot: changing the returned object later does not change the remembered answer', async () => {
    const { steps, hooks } = cached(60_000);
    const answer = { items: [1] };
    let up = true;
    const { call } = resilient(
      async () => {
        if (!up) throw new Error('down');
        return answer;
      },
      chain(steps, undefined, hooks),
    );
    await call();
    answer.items.push(2);
    up = false;
    await expect(call()).resolves.toEqual({ items: [1] });
  });

  it('does not remember results that are not JSON, and still returns them', async () => {
    const { state, steps, hooks } = cached(60_000);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const { call } = resilient(async () => cyclic, chain(steps, undefined, hooks));
    await expect(call()).resolves.toBe(cyclic);
    expect(state.snapshot()).toMatchObject({ remembered: 0, skipped: 1 });
  });

  it('remembers the last value of an Observable method, once it completes', async () => {
    const { state, steps, hooks } = cached(60_000);
    let up = true;
    const { call } = resilient(
      () => (up ? of(1, 2, 3) : throwError(() => new Error('down'))),
      chain(steps, undefined, hooks),
      'observable',
    );
    await expect(firstValueFrom(call().pipe(toArray()))).resolves.toEqual([1, 2, 3]);
    up = false;
    await expect(firstValueFrom(call().pipe(toArray()))).resolves.toEqual([3]);
    expect(state.snapshot().remembered).toBe(1);
  });
});

describe('MemoryLastKnownGoodStore', () => {
  it('evicts the least recently used entry beyond maxEntries', () => {
    const store = new MemoryLastKnownGoodStore({ maxEntries: 2, maxBytes: 1 << 20 });
    store.set('a', { json: '1', storedAt: 0 });
    store.set('b', { json: '2', storedAt: 0 });
    store.get('a'); // a is now the most recently used
    store.set('c', { json: '3', storedAt: 0 });
    expect(store.get('b')).toBeUndefined();
    expect(store.get('a')?.json).toBe('1');
    expect(store.size().entries).toBe(2);
  });

  it('stays within maxBytes, and refuses an answer larger than the whole budget', () => {
    const store = new MemoryLastKnownGoodStore({ maxEntries: 1000, maxBytes: 2000 });
    for (let i = 0; i < 100; i++) store.set(`key${i}`, { json: 'x'.repeat(200), storedAt: 0 });
    expect(store.size().bytes).toBeLessThanOrEqual(2000);
    expect(store.get('key99')).toBeDefined();
    store.set('huge', { json: 'x'.repeat(5000), storedAt: 0 });
    expect(store.get('huge')).toBeUndefined();
    expect(store.get('key99')).toBeDefined();
  });

  it('counts a replaced entry once', () => {
    const store = new MemoryLastKnownGoodStore({ maxEntries: 10, maxBytes: 1 << 20 });
    store.set('a', { json: '1', storedAt: 0 });
    const once = store.size().bytes;
    store.set('a', { json: '2', storedAt: 1 });
    expect(store.size()).toEqual({ entries: 1, bytes: once });
  });
});
