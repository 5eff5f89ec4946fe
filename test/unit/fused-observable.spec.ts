/**
 * The fused Observable path (lib/core/pipeline/fused-observable.ts) against the policies' own sinks: every scenario
 * runs twice, once with the policies as the factory builds them (fused into one object per call) and once with each
 * behind a pass-through wrapper (which nothing fuses), and what the caller and the policies' states see must be the
 * same: the notifications, the method's subscriptions, the events, the breaker and bulkhead, the timers left.
 */
import { concat, map, Observable, of, throwError, timer, type Subscription } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  MemoryRateLimitStore,
  ResilienceEvents,
  withSignal,
  type RateLimitDecision,
  type RateLimitStore,
} from '../../lib/index.js';
import { fusableTail } from '../../lib/core/pipeline/fused-plan.js';
import { getTimeoutSignal } from '../../lib/core/pipeline/invocation.js';
import { resilient } from './policy-harness.js';
import { HttpError, sixPolicies, unfused, type Knobs } from './fused-harness.js';

type Method = () => Observable<string>;

/** What one subscription saw. */
interface Seen {
  values: string[];
  error?: string;
  completed: boolean;
}

/** Subscribes once, recording what the caller sees. */
function watch(call: () => Observable<string>, seen: Seen[]): Subscription {
  const entry: Seen = { values: [], completed: false };
  seen.push(entry);
  return call().subscribe({
    next: (value) => entry.values.push(value),
    error: (error: unknown) => (entry.error = (error as { code?: string }).code ?? (error as Error).message),
    complete: () => (entry.completed = true),
  });
}

/** Runs `act` on a fresh pipeline, fused or step by step, and returns what it observed. */
async function observe(
  fused: boolean,
  knobs: Knobs,
  makeMethod: () => Method,
  act: (call: () => Observable<string>) => Promise<Seen[]>,
) {
  vi.useFakeTimers({ now: 0 });
  try {
    const bus = new ResilienceEvents();
    // The policies report to their own bus (the harness's has no policy of its own to hear).
    const events: { type: string }[] = [];
    bus.subscribe((event) => events.push(event));
    const built = sixPolicies(bus, knobs);
    const policies = fused ? built.policies : built.policies.map(unfused);
    expect(fusableTail(policies)).toBe(fused ? policies.length : 0);
    const onCancel = vi.spyOn(built.breaker, 'onCancel');
    const method = vi.fn(makeMethod());
    const { call } = resilient(method, () => policies, 'observable');
    const seen = await act(() => call());
    await vi.advanceTimersByTimeAsync(10_000);
    return {
      seen,
      calls: method.mock.calls.length,
      events: events.map((event) => event.type),
      breaker: built.breaker.snapshot(),
      breakerCancels: onCancel.mock.calls.length,
      bulkhead: built.bulkhead.snapshot(),
      timers: vi.getTimerCount(),
    };
  } finally {
    vi.useRealTimers();
  }
}

/** Subscribes `count` times at once, lets fake time pass, and reports each. */
function concurrently(count: number, ms = 1_000) {
  return async (call: () => Observable<string>) => {
    const seen: Seen[] = [];
    for (let i = 0; i < count; i++) watch(call, seen);
    await vi.advanceTimersByTimeAsync(ms);
    return seen;
  };
}

/** Subscribes `count` times, and unsubscribes every one after `ms` of fake time. */
function leavingAfter(ms: number, count = 1) {
  return async (call: () => Observable<string>) => {
    const seen: Seen[] = [];
    const subscriptions = Array.from({ length: count }, () => watch(call, seen));
    await vi.advanceTimersByTimeAsync(ms);
    for (const subscription of subscriptions) subscription.unsubscribe();
    return seen;
  };
}

/** Subscribes `count` times under one caller signal (`withSignal`), and aborts it after `ms` of fake time. */
function abortedAfter(ms: number, count = 1) {
  return async (call: () => Observable<string>) => {
    const seen: Seen[] = [];
    const controller = new AbortController();
    for (let i = 0; i < count; i++) watch(() => withSignal(controller.signal, call), seen);
    await vi.advanceTimersByTimeAsync(ms);
    controller.abort(new Error('caller gone'));
    return seen;
  };
}

const answering =
  (value = 'ok', ms = 0): (() => Method) =>
  () =>
  () =>
    ms === 0 ? of(value) : timer(ms).pipe(map(() => value));

function failingTimes(failures: number, error: () => unknown = () => new HttpError(503)): () => Method {
  return () => {
    let calls = 0;
    return () => (++calls <= failures ? throwError(error) : of(`answered on call ${calls}`));
  };
}

/** Several values: one at once, one after `ms`, then the end. */
const streaming =
  (ms: number): (() => Method) =>
  () =>
  () =>
    concat(of('first'), timer(ms).pipe(map(() => 'second')));

const scenarios: [string, Knobs, () => Method, (call: () => Observable<string>) => Promise<Seen[]>][] = [
  ['answers at once', {}, answering(), concurrently(3)],
  ['answers later, within the timeout', {}, answering('late', 50), concurrently(2)],
  ['fails twice, then answers on the retry', {}, failingTimes(2), concurrently(1)],
  ['fails every attempt: the fallback answers', {}, failingTimes(99), concurrently(1)],
  ['fails every attempt, no fallback: the last error', { fallback: false }, failingTimes(99), concurrently(1)],
  [
    'fails with a 4xx: not retried, the fallback answers',
    {},
    failingTimes(99, () => new HttpError(400)),
    concurrently(1),
  ],
  [
    'fails often enough to open the breaker',
    { consecutiveFailures: 2, fallback: false },
    failingTimes(99),
    concurrently(2),
  ],
  ['breaker forced open: the fallback answers, no call', { breakerOpen: true }, answering(), concurrently(2)],
  ['breaker forced open, no fallback', { breakerOpen: true, fallback: false }, answering(), concurrently(1)],
  ['slower than the timeout on every attempt', { fallback: false }, answering('too late', 500), concurrently(1, 3_000)],
  [
    'slower than the timeout, the slot given back when the attempt is unsubscribed',
    { maxConcurrent: 1, fallback: false },
    answering('x', 150),
    concurrently(2, 3_000),
  ],
  ['bulkhead full: rejected, not retried', { maxConcurrent: 1, fallback: false }, answering('x', 50), concurrently(3)],
  [
    'bulkhead full with a queue: waits for the slot',
    { maxConcurrent: 1, maxQueue: 5 },
    answering('x', 20),
    concurrently(3),
  ],
  [
    'bulkhead full with a queue: the deadline takes the waiter out of it',
    { maxConcurrent: 1, maxQueue: 5, fallback: false },
    answering('x', 90),
    concurrently(3, 3_000),
  ],
  ['rate limited: refused, the breaker not told', { limit: 1, fallback: false }, answering(), concurrently(3)],
  ['rate limited with maxWait: waits for its token', { limit: 2, maxWait: 2_000 }, answering(), concurrently(4, 3_000)],
  [
    'rate-limit key function throws: a failure inside the breaker',
    {
      keyOf: () => {
        throw new Error('no key');
      },
      fallback: false,
    },
    answering(),
    concurrently(2),
  ],
  [
    'method throws synchronously',
    { fallback: false },
    () => () => {
      throw new HttpError(503);
    },
    concurrently(1),
  ],
  [
    'method throws synchronously, the fallback answers',
    {},
    () => () => {
      throw new HttpError(503);
    },
    concurrently(1),
  ],
  ['the last known good is remembered on completion only', { remember: vi.fn() }, failingTimes(1), concurrently(2)],
  [
    'a throwing recordIf fails the call with its error',
    {
      recordIf: () => {
        throw new Error('recordIf failed');
      },
      fallback: false,
    },
    failingTimes(99),
    concurrently(1),
  ],
  [
    'several values: the breaker hears the first, the slot is held until the end, the last is remembered',
    { maxConcurrent: 1, remember: vi.fn() },
    streaming(500),
    concurrently(2, 100),
  ],
  [
    'a value, then an error: an answered call, retried',
    { fallback: false },
    () => () =>
      concat(
        of('first'),
        throwError(() => new HttpError(503)),
      ),
    concurrently(1),
  ],
  [
    'a method that never answers: the timeout ends it',
    { fallback: false },
    () => () => new Observable<string>(),
    concurrently(1, 3_000),
  ],
  [
    'a stream that answered and never ends: the slot is held until the caller leaves',
    { maxConcurrent: 1, fallback: false },
    () => () => concat(of('first'), new Observable<string>()),
    leavingAfter(2_000, 2),
  ],
  [
    'the caller leaves mid-call: slot given back, no timer, the breaker told',
    {},
    answering('late', 50),
    leavingAfter(20, 2),
  ],
  ['the caller leaves during the retry backoff', { fallback: false }, failingTimes(1), leavingAfter(5)],
  ['the caller aborts mid-call (withSignal)', {}, answering('late', 50), abortedAfter(20, 2)],
  ['the caller aborts during the retry backoff (withSignal)', { fallback: false }, failingTimes(1), abortedAfter(5)],
  [
    'the caller aborts while the call waits in the bulkhead queue (withSignal)',
    { maxConcurrent: 1, maxQueue: 5, fallback: false },
    answering('late', 50),
    abortedAfter(20, 2),
  ],
  [
    'the caller leaves while the call waits for a token',
    { limit: 1, maxWait: 2_000 },
    answering('late', 50),
    leavingAfter(500, 2),
  ],
  [
    'the caller leaves while the call waits in the bulkhead queue',
    { maxConcurrent: 1, maxQueue: 5 },
    answering('late', 50),
    leavingAfter(20, 2),
  ],
];

describe('the fused Observable path answers as the policies one by one', () => {
  beforeEach(() => vi.useRealTimers());
  afterEach(() => vi.useRealTimers());

  it.each(scenarios)('%s', async (_title, knobs, makeMethod, act) => {
    const remember = knobs.remember as ReturnType<typeof vi.fn> | undefined;
    const stepByStep = await observe(false, knobs, makeMethod, act);
    const rememberedStepByStep = remember?.mock.calls.slice();
    remember?.mockClear();
    const fused = await observe(true, knobs, makeMethod, act);
    expect(fused).toEqual(stepByStep);
    expect(remember?.mock.calls).toEqual(rememberedStepByStep);
    expect(fused.timers).toBe(0);
    expect(fused.bulkhead).toMatchObject({ active: 0, queued: 0 });
  });

  it('with a store answering asynchronously, runs on its answer, and not at all for a caller that left', async () => {
    const slowStore: RateLimitStore = {
      consume: (key, rule, cost, maxWaitMs): Promise<RateLimitDecision> =>
        new Promise((resolve) =>
          setTimeout(() => resolve(new MemoryRateLimitStore().consume(key, rule, cost, maxWaitMs)), 5),
        ),
    };
    for (const act of [concurrently(2), leavingAfter(2)]) {
      const runs = [
        await observe(false, { store: slowStore }, answering(), act),
        await observe(true, { store: slowStore }, answering(), act),
      ];
      expect(runs[1]).toEqual(runs[0]);
    }
    const answered = await observe(true, { store: slowStore }, answering(), concurrently(2));
    expect(answered.seen).toEqual([
      { values: ['ok'], completed: true },
      { values: ['ok'], completed: true },
    ]);
    const left = await observe(true, { store: slowStore }, answering(), leavingAfter(2));
    expect(left.calls).toBe(0);
  });

  it('the caller leaving mid-call: the slot given back, the deadline cleared, the breaker told', async () => {
    const run = await observe(true, {}, answering('late', 50), leavingAfter(20));
    expect(run.seen).toEqual([{ values: [], completed: false }]);
    expect(run.breakerCancels).toBe(1);
    expect(run.breaker).toMatchObject({ calls: 0, failures: 0 });
    expect(run.bulkhead).toMatchObject({ active: 0, queued: 0 });
    expect(run.timers).toBe(0);
    expect(run.events).toEqual([]);
  });

  it('aborts the attempt signal at the deadline, unsubscribes the method and gives the slot back', async () => {
    vi.useFakeTimers({ now: 0 });
    const bus = new ResilienceEvents();
    const { policies, bulkhead } = sixPolicies(bus, { fallback: false });
    let signal: AbortSignal | undefined;
    const teardown = vi.fn();
    const { call } = resilient(
      () => {
        signal = getTimeoutSignal();
        return new Observable<string>(() => teardown);
      },
      () => policies.slice(1),
      'observable',
    ); // breaker, rate limit, timeout, bulkhead: no retry
    const seen: Seen[] = [];
    watch(() => call(), seen);
    expect(bulkhead.snapshot()).toMatchObject({ active: 1 });
    await vi.advanceTimersByTimeAsync(100);
    expect(signal?.aborted).toBe(true);
    expect(teardown).toHaveBeenCalledTimes(1);
    expect(seen).toEqual([{ values: [], error: 'TIMEOUT', completed: false }]);
    expect(bulkhead.snapshot()).toMatchObject({ active: 0 });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a throwing breaker listener on the first value fails the call as on the policies one by one', async () => {
    const runs = [];
    for (const fused of [false, true]) {
      vi.useFakeTimers({ now: 0 });
      const bus = new ResilienceEvents();
      const { policies, breaker, bulkhead } = sixPolicies(bus, { fallback: false });
      vi.spyOn(breaker, 'onSuccess').mockImplementation(() => {
        throw new HttpError(400);
      });
      const { call } = resilient(
        () => of('x'),
        () => (fused ? policies : policies.map(unfused)),
        'observable',
      );
      const seen: Seen[] = [];
      watch(() => call(), seen);
      await vi.advanceTimersByTimeAsync(1_000);
      runs.push({ seen, bulkhead: bulkhead.snapshot(), timers: vi.getTimerCount() });
      vi.useRealTimers();
    }
    expect(runs[1]).toEqual(runs[0]);
    expect(runs[1].seen).toEqual([{ values: [], error: 'HTTP 400', completed: false }]);
  });
});
