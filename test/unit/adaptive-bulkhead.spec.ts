import { firstValueFrom, interval, Observable, of } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { getTimeoutSignal, ResilienceEvents, TimeoutError, type BulkheadOptions } from '../../lib/index.js';
import { DEFAULT_BULKHEAD_OPTIONS } from '../../lib/core/bulkhead/bulkhead.options.js';
import { DEFAULT_RETRY_OPTIONS } from '../../lib/core/retry/retry.options.js';
import { AdaptiveBulkheadPolicy } from '../../lib/core/bulkhead/adaptive-bulkhead.policy.js';
import { BulkheadPolicy } from '../../lib/core/bulkhead/bulkhead.policy.js';
import { BulkheadState } from '../../lib/core/bulkhead/bulkhead.state.js';
import { validateBulkheadOptions } from '../../lib/core/bulkhead/bulkhead.options.js';
import { OptionsValidator } from '../../lib/core/validation/options.validator.js';
import { createResilientMethod } from '../../lib/core/pipeline/resilient-method.js';
import { RetryPolicy } from '../../lib/core/retry/retry.policy.js';
import { HedgePolicy } from '../../lib/core/hedge/hedge.policy.js';
import { TimeoutPolicy } from '../../lib/core/timeout/timeout.policy.js';
import { resilient } from './policy-harness.js';
import { kneeDownstream, offerLoad } from '../../bench/support/overload-model.js';

const KNEE = 20;
const BASE_LATENCY = 10;
/** The downstream's best throughput: `KNEE` calls in flight, each answered in `BASE_LATENCY` ms. */
const KNEE_RATE = (KNEE / BASE_LATENCY) * 1000;
/** A call is good when it succeeds within this; every protection has a per-attempt `@Timeout` of the same. */
const DEADLINE = 5 * BASE_LATENCY;
/** Goodput at the knee: a bulkhead set exactly at the knee (which nobody knows in advance) under 1x load. */
const AT_KNEE = { maxConcurrent: KNEE };

function protectedBy(options: Partial<BulkheadOptions>) {
  const validated = validateBulkheadOptions(
    { ...DEFAULT_BULKHEAD_OPTIONS, ...options },
    new OptionsValidator('bulkhead', 'downstream', 'Sim.call'),
  );
  const bulkhead = new BulkheadState('downstream', validated, new ResilienceEvents());
  const policy = bulkhead.adaptive ? new AdaptiveBulkheadPolicy(bulkhead) : new BulkheadPolicy(bulkhead);
  // Timeout outside the bulkhead, as in the canonical order; the downstream ignores the signal (a remote server
  // goes on working on a request its client gave up), so a slot stays taken until it really answers.
  const timeout = new TimeoutPolicy('attempt', DEADLINE, 'attempt', new ResilienceEvents());
  const downstream = kneeDownstream(KNEE, BASE_LATENCY);
  const call = createResilientMethod(
    downstream.call,
    { className: 'Sim', methodName: 'call' },
    [timeout, policy],
    'promise',
  );
  return { call: call as () => Promise<unknown>, bulkhead, downstream };
}

const load = (call: () => Promise<unknown>, rate: number) =>
  offerLoad(call, { rate, duration: 4_000, warmup: 1_000, deadline: DEADLINE });

// Simulated seconds of load are CPU work under fake timers: room for a loaded CI machine (not a bound on behaviour).
describe('adaptive bulkhead against a downstream with a knee', { timeout: 120_000 }, () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  async function run(options: Partial<BulkheadOptions>, rate: number) {
    const subject = protectedBy(options);
    const result = load(subject.call, rate);
    await vi.runAllTimersAsync();
    return { ...(await result), limit: subject.bulkhead.snapshot().limit, peak: subject.downstream.state.peak };
  }

  // minLimit 1: Netflix's default floor for gradient2 and aimd (20) happens to be this model's knee, and would do the
  // work instead of the algorithm. The bar is the downstream's best throughput (KNEE_RATE), not a bulkhead at the
  // knee: under these 5 ms arrival bursts a knee bulkhead without a queue itself keeps only about two thirds of it
  // (asserted below, so the comparison says what it compares). Measured here: gradient2 81%, vegas 70%, aimd 71%.
  it.each(['gradient2', 'vegas', 'aimd'] as const)(
    "%s keeps at least 65% of the downstream's best throughput under 4x overload, more than a knee bulkhead",
    async (algorithm) => {
      const atKnee = await run(AT_KNEE, KNEE_RATE);
      expect(atKnee.goodput).toBeLessThan(0.7 * KNEE_RATE);
      const overloaded = await run({ adaptive: { algorithm, minLimit: 1 } }, KNEE_RATE * 4);
      expect(overloaded.goodput).toBeGreaterThanOrEqual(0.65 * KNEE_RATE);
      expect(overloaded.goodput).toBeGreaterThan(atKnee.goodput);
      expect(overloaded.rejected).toBeGreaterThan(0);
      // The downstream was never driven far past the point where its answers miss the deadline.
      expect(overloaded.peak).toBeLessThan(KNEE * 5 ** (2 / 3) * 1.5);
    },
  );

  it('settles the gradient2 limit near the knee', async () => {
    const overloaded = await run({ adaptive: { algorithm: 'gradient2', minLimit: 1 } }, KNEE_RATE * 4);
    expect(overloaded.limit).toBeGreaterThanOrEqual(KNEE * 0.8);
    expect(overloaded.limit).toBeLessThanOrEqual(KNEE * 2);
  });

  it('while a fixed large bulkhead lets goodput collapse', async () => {
    const atKnee = await run(AT_KNEE, KNEE_RATE);
    const overloaded = await run({ maxConcurrent: 1_000 }, KNEE_RATE * 4);
    expect(overloaded.goodput).toBeLessThan(0.2 * atKnee.goodput);
  });
});

describe('what the adaptive limit is told', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  /** An aimd bulkhead (limit 50, floor 10) behind a 100 ms per-attempt timeout, around `method`. */
  function aimdBehindTimeout<T>(method: () => T, shape: 'promise' | 'observable' = 'promise') {
    const bulkhead = new BulkheadState(
      'downstream',
      { ...DEFAULT_BULKHEAD_OPTIONS, adaptive: { algorithm: 'aimd', initialLimit: 50, minLimit: 10, maxLimit: 100 } },
      new ResilienceEvents(),
    );
    const { call } = resilient(
      method,
      (bus) => [new TimeoutPolicy('attempt', 100, 'attempt', bus), new AdaptiveBulkheadPolicy(bulkhead)],
      shape,
    );
    return { call, bulkhead };
  }
  /**
   * Netflix's windows: a window closes on the first call ending after its time (at least 100 ms, twice its fastest
   * call) and counts when it holds at least ten calls. One call, then ten, then one more after the window's time:
   * the second window (eleven calls) reaches the algorithm.
   */
  async function window(call: () => Promise<unknown>) {
    const settle = async (calls: number, ms: number) => {
      const results = Array.from({ length: calls }, () =>
        call().then(
          () => 'ok',
          (error: Error) => error.name,
        ),
      );
      await vi.advanceTimersByTimeAsync(ms);
      return Promise.all(results);
    };
    await settle(1, 150); // opens the first window: too small to count
    const outcomes = await settle(10, 250);
    outcomes.push(...(await settle(1, 150))); // ends after the window's time: closes it
    return outcomes;
  }

  it('reports a Promise attempt the timeout gave up as a drop at once, though the method answers later', async () => {
    // The method ignores its signal: it answers after 1 s, long after the 100 ms timeout.
    const { call, bulkhead } = aimdBehindTimeout(() => new Promise((resolve) => setTimeout(resolve, 1_000, 'late')));
    expect(await window(call)).toEqual(Array(11).fill('TimeoutError'));
    // Backed off at the timeouts (50 x 0.9), while all twelve calls still hold their slots.
    expect(bulkhead.snapshot()).toMatchObject({ limit: 45, active: 12 });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(bulkhead.snapshot()).toMatchObject({ limit: 45, active: 0 }); // the late answers count nothing more
  });

  it('reports an Observable attempt the timeout unsubscribed as a drop', async () => {
    const { call, bulkhead } = aimdBehindTimeout(() => new Observable<never>(() => undefined), 'observable');
    const outcomes = await window(() => firstValueFrom(call() as Observable<unknown>));
    expect(outcomes).toEqual(Array(11).fill('TimeoutError'));
    expect(bulkhead.snapshot()).toMatchObject({ limit: 45, active: 0 });
  });

  it('does not report a caller that unsubscribed (it took what it wanted) as a drop', async () => {
    const { call, bulkhead } = aimdBehindTimeout(() => interval(5), 'observable');
    const outcomes = await window(() => firstValueFrom(call() as Observable<unknown>));
    expect(outcomes).toEqual(Array(11).fill('ok'));
    expect(bulkhead.snapshot()).toMatchObject({ limit: 50, active: 0 });
  });

  it('counts a call failing with a TimeoutError inside the bulkhead as a drop', async () => {
    const { call, bulkhead } = aimdBehindTimeout(() => Promise.reject(new TimeoutError('inner', 10, 'attempt')));
    expect(await window(call)).toEqual(Array(11).fill('TimeoutError'));
    expect(bulkhead.snapshot().limit).toBe(45);
  });

  it("reports a retry's second timed-out attempt as a drop, though the first one's work ends during it", async () => {
    const bulkhead = new BulkheadState(
      'downstream',
      { ...DEFAULT_BULKHEAD_OPTIONS, adaptive: { algorithm: 'aimd', initialLimit: 50, minLimit: 10, maxLimit: 100 } },
      new ResilienceEvents(),
    );
    const sample = vi.spyOn(bulkhead, 'sample');
    // Ignores its signal and answers after 150 ms: the 100 ms timeout gives each attempt up first.
    const { call } = resilient(
      () => new Promise((resolve) => setTimeout(resolve, 150, 'late')),
      (bus) => [
        new RetryPolicy('retry', { ...DEFAULT_RETRY_OPTIONS, maxAttempts: 2, initialDelay: 0, jitter: 'none' }, bus),
        new TimeoutPolicy('attempt', 100, 'attempt', bus),
        new AdaptiveBulkheadPolicy(bulkhead),
      ],
    );
    const result = call().then(
      () => 'answered',
      (error: Error) => error.name,
    );
    await vi.advanceTimersByTimeAsync(400);
    expect(await result).toBe('TimeoutError');
    expect(sample.mock.calls.map(([, , dropped]) => dropped)).toEqual([true, true]);
  });

  it('does not report an attempt a hedge aborted (it lost) as a drop', async () => {
    const bulkhead = new BulkheadState(
      'downstream',
      { ...DEFAULT_BULKHEAD_OPTIONS, adaptive: { algorithm: 'aimd', initialLimit: 50, minLimit: 10, maxLimit: 100 } },
      new ResilienceEvents(),
    );
    const started = new Set<number>();
    let calls = 0;
    // Each call's first attempt is slow and loses to its hedge; the method honours its signal.
    const method = (index: number) => {
      const signal = getTimeoutSignal()!;
      calls++;
      const first = !started.has(index);
      started.add(index);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(resolve, first ? 1_000 : 5, 'ok');
        signal.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(signal.reason as Error);
        });
      });
    };
    const { call } = resilient(method, (bus) => [
      new HedgePolicy('hedge', { maxHedges: 1, delay: 20 }, bus),
      new AdaptiveBulkheadPolicy(bulkhead),
    ]);
    const results = Array.from({ length: 40 }, (_, index) =>
      new Promise((resolve) => setTimeout(resolve, index * 20)).then(() => call(index)),
    );
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await Promise.all(results)).toEqual(Array(40).fill('ok'));
    expect(calls).toBe(80); // every call was hedged once, and its first attempt lost
    // 40 losers in 4 windows: counted as drops, they would have cut the limit to 50 x 0.9^4 = 32.
    expect(bulkhead.snapshot()).toMatchObject({ limit: 50, active: 0 });
  });

  it('grows aimd by one per window of calls while half the limit is in use, not one per call', async () => {
    const { call, bulkhead } = aimdBehindTimeout(() => new Promise((resolve) => setTimeout(resolve, 10, 'ok')));
    for (let window = 0; window < 3; window++) {
      const results = Array.from({ length: 30 }, () => call());
      await vi.advanceTimersByTimeAsync(110);
      await Promise.all(results);
    }
    expect(bulkhead.snapshot().limit).toBe(52); // three windows; the first call's window was too small
  });
});

describe('adaptive bulkhead slots, Promise and Observable alike', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function adaptive(initialLimit: number) {
    return new BulkheadState(
      'downstream',
      { ...DEFAULT_BULKHEAD_OPTIONS, adaptive: { algorithm: 'aimd', initialLimit, minLimit: 1, maxLimit: 10 } },
      new ResilienceEvents(),
    );
  }

  it.each(['promise', 'observable'] as const)(
    '%s: the slot is free when the caller hears the answer or the error, and a full bulkhead rejects',
    async (shape) => {
      const bulkhead = adaptive(1);
      const answer = (fail: boolean) =>
        shape === 'promise'
          ? new Promise((resolve, reject) => setTimeout(() => (fail ? reject(new Error('boom')) : resolve('ok')), 10))
          : new Observable((subscriber) => {
              const timer = setTimeout(() => (fail ? subscriber.error(new Error('boom')) : subscriber.next('ok')), 10);
              const done = setTimeout(() => subscriber.complete(), 10);
              return () => [timer, done].forEach(clearTimeout);
            });
      const { call } = resilient(answer, () => [new AdaptiveBulkheadPolicy(bulkhead)], shape);
      const settle = (fail: boolean) => {
        const result = call(fail);
        const promise = result instanceof Observable ? firstValueFrom(result) : result;
        return promise.then(
          (value) => ({ value, active: bulkhead.snapshot().active }),
          (error: Error) => ({ value: error.message, active: bulkhead.snapshot().active }),
        );
      };
      const first = settle(false);
      const rejected = await settle(false); // the limit is one call
      expect(rejected.active).toBe(1);
      expect(rejected.value).toMatch(/downstream/);
      await vi.advanceTimersByTimeAsync(10);
      expect(await first).toEqual({ value: 'ok', active: 0 });
      const failed = settle(true);
      await vi.advanceTimersByTimeAsync(10);
      expect(await failed).toEqual({ value: 'boom', active: 0 });
      expect(vi.getTimerCount()).toBe(0);
    },
  );

  it('gives the slot back when the caller unsubscribes, and when the Observable ends as it is subscribed', async () => {
    const bulkhead = adaptive(5);
    const { call } = resilient(
      (now: boolean): Observable<unknown> => (now ? of('at once') : interval(5)),
      () => [new AdaptiveBulkheadPolicy(bulkhead)],
      'observable',
    );
    const seen: unknown[] = [];
    const running = call(false).subscribe((value) => seen.push(value));
    expect(bulkhead.snapshot().active).toBe(1);
    await vi.advanceTimersByTimeAsync(5);
    running.unsubscribe();
    expect(bulkhead.snapshot().active).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    call(true).subscribe((value) => seen.push(value));
    expect(seen).toEqual([0, 'at once']);
    expect(bulkhead.snapshot().active).toBe(0);
  });
});

describe('adaptive bulkhead options', () => {
  const validate = (options: Record<string, unknown>) =>
    validateBulkheadOptions(
      { ...DEFAULT_BULKHEAD_OPTIONS, ...options },
      new OptionsValidator('bulkhead', 'downstream', 'Sim.call'),
    );

  it("fills in Netflix's defaults per algorithm", () => {
    expect(validate({ adaptive: { algorithm: 'gradient2' } }).adaptive).toEqual({
      algorithm: 'gradient2',
      initialLimit: 20,
      minLimit: 20,
      maxLimit: 200,
    });
    expect(validate({ adaptive: { algorithm: 'vegas', initialLimit: '10' } }).adaptive).toMatchObject({
      initialLimit: 10,
      minLimit: 1,
      maxLimit: 1000,
    });
  });

  it.each([
    [{ adaptive: { algorithm: 'gradient' } }, /"adaptive.algorithm" = "gradient".*Did you mean "gradient2"/],
    [{ adaptive: { algorithm: 'aimd', initialLimit: 500 } }, /"adaptive.initialLimit" = 500 .*between/],
    [{ adaptive: { algorithm: 'aimd', minLimit: 50, maxLimit: 10 } }, /"adaptive.maxLimit" = 10 .*>= 50/],
    [{ adaptive: { algorithm: 'aimd' }, maxQueue: 5 }, /"maxQueue" = 5 .*must be 0 with adaptive/],
    [{ adaptive: { algorithm: 'aimd', limit: 5 } }, /Unknown bulkhead option "limit"/],
  ])('refuses %j', (options, message) => {
    expect(() => validate(options)).toThrow(message);
  });
});
