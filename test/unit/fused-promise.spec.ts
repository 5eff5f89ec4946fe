/**
 * The fused Promise path (lib/core/pipeline/fused-promise.ts) against the policies' own steps: every scenario runs
 * twice, once with the policies as the factory builds them (fused into one step) and once with each behind a
 * pass-through wrapper (which nothing fuses), and what the caller and the policies' states see must be the same.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  MemoryRateLimitStore,
  ResilienceEvents,
  type RateLimitDecision,
  type RateLimitStore,
} from '../../lib/index.js';
import { fusableTail } from '../../lib/core/pipeline/fused-plan.js';
import { getTimeoutSignal } from '../../lib/core/pipeline/invocation.js';
import { resilient } from './policy-harness.js';
import { HttpError, sixPolicies, unfused, type Knobs } from './fused-harness.js';

type Method = () => Promise<string>;

/** Runs `act` on a fresh pipeline, fused or step by step, and returns what it observed. */
async function observe(
  fused: boolean,
  knobs: Knobs,
  makeMethod: () => Method,
  act: (call: () => Promise<string>) => Promise<unknown[]>,
) {
  vi.useFakeTimers({ now: 0 });
  try {
    const bus = new ResilienceEvents();
    const built = sixPolicies(bus, knobs);
    const policies = fused ? built.policies : built.policies.map(unfused);
    expect(fusableTail(policies)).toBe(fused ? policies.length : 0);
    const method = vi.fn(makeMethod());
    const { call, events } = resilient(method, () => policies);
    const outcomes = await act(() => call());
    await vi.advanceTimersByTimeAsync(10_000);
    return {
      outcomes,
      calls: method.mock.calls.length,
      events: events.map((event) => event.type),
      breaker: built.breaker.snapshot(),
      bulkhead: built.bulkhead.snapshot(),
      timers: vi.getTimerCount(),
    };
  } finally {
    vi.useRealTimers();
  }
}

/** What a settled call looked like to its caller. */
async function settled(promise: Promise<unknown>): Promise<unknown> {
  try {
    return { value: await promise };
  } catch (error) {
    return { error: (error as { code?: string }).code ?? (error as Error).message };
  }
}

/** Starts every call at once, lets fake time pass, and reports each. */
function concurrently(count: number, ms = 1_000) {
  return async (call: () => Promise<string>) => {
    const running = Array.from({ length: count }, () => settled(call()));
    await vi.advanceTimersByTimeAsync(ms);
    return Promise.all(running);
  };
}

const answering =
  (value = 'ok', ms = 0): (() => Method) =>
  () =>
  () =>
    ms === 0 ? Promise.resolve(value) : new Promise((resolve) => setTimeout(() => resolve(value), ms));

function failingTimes(failures: number, error: () => unknown = () => new HttpError(503)): () => Method {
  return () => {
    let calls = 0;
    return () => (++calls <= failures ? Promise.reject(error()) : Promise.resolve(`answered on call ${calls}`));
  };
}

const scenarios: [string, Knobs, () => Method, (call: () => Promise<string>) => Promise<unknown[]>][] = [
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
    'slower than the timeout, the slot held until the work ends',
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
  ['the last known good is remembered on success only', { remember: vi.fn() }, failingTimes(1), concurrently(2)],
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
  ['a timeout alone: answers in time', { timeoutOnly: true }, answering('x', 50), concurrently(2)],
  ['a timeout alone: too slow', { timeoutOnly: true }, answering('late', 500), concurrently(2, 1_000)],
  ['a timeout alone: fails', { timeoutOnly: true }, failingTimes(1), concurrently(2)],
  [
    'a timeout alone: the method throws synchronously',
    { timeoutOnly: true },
    () => () => {
      throw new HttpError(503);
    },
    concurrently(1),
  ],
];

describe('the fused Promise path answers as the policies one by one', () => {
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

  it('reads one clock for its rate limit and timeout, and fake time drives both', async () => {
    // Limit 1 a second; once `slow`, each answer takes 150 ms against a 100 ms timeout.
    let slow = false;
    const act = async (call: () => Promise<string>) => {
      /** One call, its outcome once no fake time has passed: a retry's delay would leave it pending. */
      const atOnce = async () => {
        let outcome: unknown = 'pending';
        void settled(call()).then((each) => (outcome = each));
        await vi.advanceTimersByTimeAsync(0);
        return outcome;
      };
      const first = [await atOnce(), await atOnce()];
      await vi.advanceTimersByTimeAsync(999);
      const early = await atOnce();
      await vi.advanceTimersByTimeAsync(1);
      const refilled = await atOnce();
      slow = true;
      await vi.advanceTimersByTimeAsync(1_000);
      let late: unknown = 'pending';
      void settled(call()).then((each) => (late = each));
      // Timed out at 100 ms, retried 10 ms later: the bucket, refilled at 2000, is empty again.
      await vi.advanceTimersByTimeAsync(109);
      const at109 = late;
      await vi.advanceTimersByTimeAsync(1);
      return [...first, early, refilled, at109, late];
    };
    const method = () => () =>
      slow ? new Promise<string>((resolve) => setTimeout(() => resolve('late'), 150)) : Promise.resolve('ok');
    const outcome = async (fused: boolean) => {
      slow = false;
      return observe(fused, { limit: 1, fallback: false, maxConcurrent: 10 }, method, act);
    };
    const fused = await outcome(true);
    expect(fused.outcomes).toEqual([
      { value: 'ok' },
      { error: 'RATE_LIMIT_EXCEEDED' },
      { error: 'RATE_LIMIT_EXCEEDED' },
      { value: 'ok' },
      'pending',
      { error: 'RATE_LIMIT_EXCEEDED' },
    ]);
    expect(fused).toEqual(await outcome(false));
  });

  it('with a store answering asynchronously, runs on its answer', async () => {
    const slowStore: RateLimitStore = {
      consume: (key, rule, cost, maxWaitMs): Promise<RateLimitDecision> =>
        new Promise((resolve) =>
          setTimeout(() => resolve(new MemoryRateLimitStore().consume(key, rule, cost, maxWaitMs)), 5),
        ),
    };
    const runs = [
      await observe(false, { store: slowStore }, answering(), concurrently(2)),
      await observe(true, { store: slowStore }, answering(), concurrently(2)),
    ];
    expect(runs[1]).toEqual(runs[0]);
    expect(runs[1].outcomes).toEqual([{ value: 'ok' }, { value: 'ok' }]);
  });

  it('aborts the attempt signal at the deadline, and the caller gets the timeout at once', async () => {
    vi.useFakeTimers({ now: 0 });
    const bus = new ResilienceEvents();
    const { policies, bulkhead } = sixPolicies(bus, { fallback: false });
    let signal: AbortSignal | undefined;
    const { call } = resilient(
      () => {
        signal = getTimeoutSignal();
        return new Promise<string>((resolve) => setTimeout(() => resolve('late'), 1_000));
      },
      () => policies.slice(1),
    ); // breaker, rate limit, timeout, bulkhead: no retry
    const outcome = settled(call());
    await vi.advanceTimersByTimeAsync(100);
    expect(signal?.aborted).toBe(true);
    await expect(outcome).resolves.toEqual({ error: 'TIMEOUT' });
    // The work goes on: the slot is held until it ends.
    expect(bulkhead.snapshot()).toMatchObject({ active: 1 });
    await vi.advanceTimersByTimeAsync(900);
    expect(bulkhead.snapshot()).toMatchObject({ active: 0 });
  });
});
