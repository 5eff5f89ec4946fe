import { expect, vi } from 'vitest';
import {
  BrokenCircuitError,
  BulkheadRejectedError,
  RateLimitExceededError,
  TimeoutError,
  type ResilienceEvent,
  type ResilienceModuleOptions,
  type ResiliencePipelineOptions,
  type ResilienceRegistry,
} from '../../lib/index.js';

/** The downstream a case calls, with the attempt's abort signal (from `getTimeoutSignal()` or `attempt.signal`). */
export type Downstream = (signal: AbortSignal) => Promise<unknown>;

/** What a case drives: one way of running policies (a decorated method, `execute`, a pipeline built once). */
export interface Subject {
  /** Calls the downstream through the policies. */
  call(downstream: Downstream): Promise<unknown>;
  readonly events: ResilienceEvent[];
  readonly registry: ResilienceRegistry;
}

/** One behaviour, stated once, run against every subject. */
export interface SemanticsCase {
  readonly title: string;
  readonly module?: ResilienceModuleOptions;
  /** The policies, as pipeline options; the decorated subject turns each into its decorator. */
  readonly policies: ResiliencePipelineOptions;
  run(subject: Subject): Promise<void>;
}

/** A downstream that fails every time with `error`, counting its calls. */
function failing(error: () => unknown = () => new Error('gateway down')) {
  const downstream = Object.assign(
    (): Promise<unknown> => {
      downstream.calls++;
      return Promise.reject(error());
    },
    { calls: 0 },
  );
  return downstream;
}

/** Lets a rejection be observed without an unhandled-rejection warning while timers are advanced. */
function settle(promise: Promise<unknown>): Promise<{ value?: unknown; error?: unknown }> {
  return promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
}

const noJitter = { jitter: 'none', backoff: 'exponential', initialDelay: 100 } as const;

export const SEMANTICS_CASES: readonly SemanticsCase[] = [
  {
    title: 'retry makes maxAttempts calls in total, waiting the backoff between them, then rejects with the last error',
    policies: { retry: { ...noJitter, maxAttempts: 3 } },
    async run({ call, events }) {
      const downstream = failing();
      const outcome = settle(call(downstream));
      await vi.advanceTimersByTimeAsync(99);
      expect(downstream.calls).toBe(1);
      await vi.advanceTimersByTimeAsync(1 + 200);
      expect(downstream.calls).toBe(3);
      expect(((await outcome).error as Error).message).toBe('gateway down');
      expect(events.filter((event) => event.type === 'retry').map((event) => event.delay)).toEqual([100, 200]);
    },
  },
  {
    title: 'retry does not repeat a 4xx other than 408 and 429',
    policies: { retry: { ...noJitter, maxAttempts: 3 } },
    async run({ call }) {
      const downstream = failing(() => Object.assign(new Error('bad request'), { status: 400 }));
      const outcome = settle(call(downstream));
      await vi.advanceTimersByTimeAsync(1_000);
      expect(downstream.calls).toBe(1);
      expect((await outcome).error).toMatchObject({ status: 400 });
    },
  },
  {
    title: 'a timeout abandons the attempt at its duration with a TimeoutError and aborts its signal',
    policies: { timeout: 800 },
    async run({ call, events }) {
      let signal: AbortSignal | undefined;
      const outcome = settle(
        call((attemptSignal) => {
          signal = attemptSignal;
          return new Promise(() => undefined);
        }),
      );
      await vi.advanceTimersByTimeAsync(799);
      expect(signal?.aborted).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      expect((await outcome).error).toBeInstanceOf(TimeoutError);
      expect(signal?.aborted).toBe(true);
      expect(events).toContainEqual(expect.objectContaining({ type: 'timeout', duration: 800, scope: 'attempt' }));
    },
  },
  {
    title: 'a total timeout spans every attempt and backoff',
    policies: {
      timeout: { duration: 1_000, total: 350 },
      retry: { maxAttempts: 10, backoff: 'constant', initialDelay: 100, jitter: 'none' },
    },
    async run({ call }) {
      const downstream = failing();
      const outcome = settle(call(downstream));
      await vi.advanceTimersByTimeAsync(350);
      expect((await outcome).error).toMatchObject({ code: 'TIMEOUT', scope: 'total', duration: 350 });
      expect(downstream.calls).toBe(4);
    },
  },
  {
    title: 'a circuit breaker opens on its threshold, fails fast without calling, and a successful probe closes it',
    module: { circuitBreakers: { gateway: { consecutiveFailures: 2, openDuration: 1_000 } } },
    policies: { circuitBreaker: 'gateway' },
    async run({ call, registry }) {
      const downstream = failing();
      await settle(call(downstream));
      await settle(call(downstream));
      expect(registry.circuitBreakers.get('gateway').snapshot().state).toBe('open');
      expect((await settle(call(downstream))).error).toBeInstanceOf(BrokenCircuitError);
      expect(downstream.calls).toBe(2);
      await vi.advanceTimersByTimeAsync(1_000);
      expect((await settle(call(() => Promise.resolve('ok')))).value).toBe('ok');
      expect(registry.circuitBreakers.get('gateway').snapshot().state).toBe('closed');
    },
  },
  {
    title: 'retry sits outside the breaker: an open circuit is not retried',
    module: { circuitBreakers: { gateway: { consecutiveFailures: 1, openDuration: 10_000 } } },
    policies: { retry: { ...noJitter, maxAttempts: 3 }, circuitBreaker: 'gateway' },
    async run({ call }) {
      const downstream = failing();
      const outcome = settle(call(downstream));
      await vi.advanceTimersByTimeAsync(1_000);
      expect((await outcome).error).toBeInstanceOf(BrokenCircuitError);
      expect(downstream.calls).toBe(1);
    },
  },
  {
    title: 'a full bulkhead rejects at once, and its slot is taken until the work really ends',
    module: { bulkheads: { reports: { maxConcurrent: 1, maxQueue: 0 } } },
    policies: { bulkhead: 'reports' },
    async run({ call, registry }) {
      let finish!: (value: unknown) => void;
      const first = call(() => new Promise((resolve) => (finish = resolve)));
      await vi.advanceTimersByTimeAsync(0);
      expect(registry.bulkheads.get('reports').snapshot().active).toBe(1);
      expect((await settle(call(() => Promise.resolve('second')))).error).toBeInstanceOf(BulkheadRejectedError);
      finish('first');
      expect(await first).toBe('first');
      expect(registry.bulkheads.get('reports').snapshot().active).toBe(0);
    },
  },
  {
    title: 'a rate limit refuses a call without a token and admits again once tokens are back',
    module: { rateLimits: { quota: { limit: 2, interval: 1_000 } } },
    policies: { rateLimit: 'quota' },
    async run({ call }) {
      const ok = () => Promise.resolve('ok');
      expect(await call(ok)).toBe('ok');
      expect(await call(ok)).toBe('ok');
      expect((await settle(call(ok))).error).toBeInstanceOf(RateLimitExceededError);
      await vi.advanceTimersByTimeAsync(1_000);
      expect(await call(ok)).toBe('ok');
    },
  },
  {
    title: 'a fallback answers once retries are spent, and says so in an event',
    policies: { fallback: { value: 'queued' }, retry: { ...noJitter, maxAttempts: 2 } },
    async run({ call, events }) {
      const downstream = failing();
      const outcome = settle(call(downstream));
      await vi.advanceTimersByTimeAsync(100);
      expect((await outcome).value).toBe('queued');
      expect(downstream.calls).toBe(2);
      expect(events.map((event) => event.type)).toEqual(['retry', 'retry-give-up', 'fallback']);
    },
  },
  {
    title: 'retryOnResult from a named configuration retries a matching value, then answers the last value',
    module: { retries: { orders: { ...noJitter, maxAttempts: 3, retryOnResult: (value) => value === 'pending' } } },
    policies: { retry: 'orders' },
    async run({ call, events }) {
      let calls = 0;
      const becomesDone = settle(call(() => Promise.resolve(++calls < 2 ? 'pending' : 'done')));
      await vi.advanceTimersByTimeAsync(100);
      expect(await becomesDone).toEqual({ value: 'done' });
      const stuck = settle(call(() => Promise.resolve('pending')));
      await vi.advanceTimersByTimeAsync(300);
      expect(await stuck).toEqual({ value: 'pending' });
      expect(events.filter((event) => event.type === 'retry-give-up')).toEqual([
        expect.objectContaining({ policy: 'orders', attempts: 3, byResult: true, result: 'pending' }),
      ]);
    },
  },
  {
    title: 'a fallback function receives the error',
    policies: { fallback: (error) => `fallback for ${(error as Error).message}` },
    async run({ call }) {
      expect(await call(failing())).toBe('fallback for gateway down');
    },
  },
  {
    title: 'a fallback with `when` replaces only the errors it accepts',
    policies: {
      fallback: {
        value: 'cached',
        when: (error) => error instanceof TimeoutError,
      },
      timeout: 100,
    },
    async run({ call }) {
      const slow = settle(call(() => new Promise(() => undefined)));
      await vi.advanceTimersByTimeAsync(100);
      expect((await slow).value).toBe('cached');
      expect(((await settle(call(failing()))).error as Error).message).toBe('gateway down');
    },
  },
];
