import type { Unsubscribable } from 'rxjs';
import { brokenCircuit } from '../errors/broken-circuit.error.js';
import { ResilienceError } from '../errors/resilience.error.js';
import type { Invocation } from '../pipeline/invocation.js';
import { observableStepOf, sinkStepOf, type Sink, type SinkStep } from '../pipeline/sink.js';
import type { ObservableStep, PromiseStep, ResiliencePolicy } from '../pipeline/policy.interface.js';
import { ORDINARY_CALL, type CircuitBreakerState } from './circuit-breaker.state.js';

/** Rejections by our own policies inside the breaker: they say nothing about the downstream's health. */
const NOT_RECORDED = new Set<string>(['BULKHEAD_REJECTED', 'RATE_LIMIT_EXCEEDED', 'BROKEN_CIRCUIT']);

/**
 * True when `error` is a bulkhead, rate-limit or nested-breaker rejection: the downstream was never called.
 * @internal
 */
export function isOwnRejection(error: unknown): boolean {
  return error instanceof ResilienceError && NOT_RECORDED.has(error.code);
}

/**
 * Runs calls through a shared {@link CircuitBreakerState}: rejects at once while it is open, and reports every outcome.
 * A call given up by its caller (unsubscribed, or ended by a total timeout) counts as neither success nor failure, and
 * so does a call rejected by a policy inside the breaker (bulkhead full, rate limited, a nested breaker open): the
 * downstream was never asked. A timeout inside the breaker does count: the downstream was slow.
 * With coordination on, a half-open probe first takes the cross-replica lease; a replica without it fails fast.
 */
export class CircuitBreakerPolicy implements ResiliencePolicy {
  readonly name: string;

  constructor(private readonly breaker: CircuitBreakerState) {
    this.name = breaker.name;
  }

  wrapPromise(next: PromiseStep): PromiseStep {
    const breaker = this.breaker;
    // The common case (an ordinary call, not timed) shares one success handler across calls.
    const onOrdinarySuccess = (value: unknown) => {
      breaker.onSuccess(ORDINARY_CALL, 0);
      return value;
    };
    return (invocation) => {
      const permit = breaker.admit();
      // Not an async function, no throw: a plain rejected Promise is the cheapest way to fail fast.
      if (typeof permit !== 'number') return Promise.reject(permit);
      if (permit === ORDINARY_CALL && !breaker.tracksSlowCalls) {
        return next(invocation).then(onOrdinarySuccess, (error: unknown) =>
          this.rejected(invocation, permit, error, 0),
        );
      }
      return this.admitted(invocation, permit, next);
    };
  }

  /**
   * @internal A call admitted with `permit` that is a probe or timed: runs `next` and reports how it ended (a
   * coordinated breaker's probe takes the cross-replica lease first). The fused Promise path's way too.
   */
  admitted(invocation: Invocation, permit: number, next: PromiseStep): Promise<unknown> {
    const breaker = this.breaker;
    if (permit !== ORDINARY_CALL && breaker.coordinated) return this.probeWithLease(invocation, permit, next);
    const started = breaker.tracksSlowCalls ? performance.now() : 0;
    const elapsed = () => (breaker.tracksSlowCalls ? performance.now() - started : 0);
    return next(invocation).then(
      (value) => {
        breaker.onSuccess(permit, elapsed());
        return value;
      },
      (error: unknown) => this.rejected(invocation, permit, error, elapsed()),
    );
  }

  private async probeWithLease(invocation: Invocation, permit: number, next: PromiseStep): Promise<unknown> {
    const breaker = this.breaker;
    if (!(await breaker.acquireProbeLease())) {
      breaker.onCancel(permit);
      throw brokenCircuit(breaker.name, Date.now());
    }
    try {
      const started = breaker.tracksSlowCalls ? performance.now() : 0;
      const elapsed = () => (breaker.tracksSlowCalls ? performance.now() - started : 0);
      return await next(invocation).then(
        (value) => {
          breaker.onSuccess(permit, elapsed());
          return value;
        },
        (error: unknown) => this.rejected(invocation, permit, error, elapsed()),
      );
    } finally {
      breaker.releaseProbeLease();
    }
  }

  /**
   * @internal Reports a failed call, or one that never reached the downstream (given up by its caller, or our own
   * rejection), and throws the error (or what a throwing `recordIf`/`ignoreIf` threw).
   */
  rejected(invocation: Invocation, permit: number, error: unknown, elapsedMs: number): never {
    const breaker = this.breaker;
    if (invocation.cancelled !== undefined || isOwnRejection(error)) breaker.onCancel(permit);
    else breaker.onFailure(permit, error, elapsedMs);
    throw error;
  }

  /** @internal The shared state, for the fused Promise path (`fused-promise.ts`), which reports to it directly. */
  get state(): CircuitBreakerState {
    return this.breaker;
  }

  wrapObservable(next: ObservableStep): ObservableStep {
    return observableStepOf(this.wrapSink(sinkStepOf(next)));
  }

  /** @internal */
  wrapSink(next: SinkStep): SinkStep {
    const breaker = this.breaker;
    return (invocation, sink) => {
      const permit = breaker.admit();
      if (typeof permit !== 'number') {
        sink.error(permit);
        return undefined;
      }
      return this.admittedSink(invocation, permit, next, sink);
    };
  }

  /**
   * @internal A call admitted with `permit`, as an Observable call into `sink`: runs `next` and reports how it ended
   * (a coordinated breaker's probe takes the cross-replica lease first). The fused Observable path's way too.
   */
  admittedSink(invocation: Invocation, permit: number, next: SinkStep, sink: Sink): Unsubscribable | undefined {
    const breaker = this.breaker;
    const call = new BreakerCall(breaker, permit, sink);
    if (permit === ORDINARY_CALL || !breaker.coordinated) return call.start(next, invocation);
    return probeWithLease(call, breaker, next, invocation, permit, sink);
  }
}

/** A half-open probe of a coordinated breaker: takes the cross-replica lease first, or fails fast without it. */
function probeWithLease(
  call: BreakerCall,
  breaker: CircuitBreakerState,
  next: SinkStep,
  invocation: Invocation,
  permit: number,
  sink: Sink,
): Unsubscribable {
  let unsubscribed = false;
  let running: Unsubscribable | undefined;
  breaker.acquireProbeLease().then(
    (granted) => {
      if (unsubscribed) {
        breaker.onCancel(permit);
        if (granted) breaker.releaseProbeLease();
      } else if (!granted) {
        breaker.onCancel(permit);
        sink.error(brokenCircuit(breaker.name, Date.now()));
      } else {
        call.onEnd = () => breaker.releaseProbeLease();
        running = call.start(next, invocation);
      }
    },
    // acquireProbeLease never rejects (coordinator errors resolve to a local decision); kept for safety.
    (error: unknown) => sink.error(error),
  );
  return {
    unsubscribe: () => {
      unsubscribed = true;
      running?.unsubscribe();
    },
  };
}

/**
 * One Observable call admitted with `permit`: reports its first value, error or completion to the breaker; a call
 * its caller unsubscribed before any of them counts as neither success nor failure.
 */
class BreakerCall implements Sink, Unsubscribable {
  /** Runs once when the call ends, however it ends (the coordinated probe gives its lease back). */
  onEnd: (() => void) | undefined = undefined;
  private settled = false;
  private ended = false;
  private started = 0;
  private inner: Unsubscribable | undefined = undefined;

  constructor(
    private readonly breaker: CircuitBreakerState,
    private readonly permit: number,
    private readonly downstream: Sink,
  ) {}

  start(next: SinkStep, invocation: Invocation): Unsubscribable {
    if (this.breaker.tracksSlowCalls) this.started = performance.now();
    const inner = next(invocation, this);
    if (this.ended) inner?.unsubscribe();
    else this.inner = inner;
    return this;
  }

  private elapsed(): number {
    return this.breaker.tracksSlowCalls ? performance.now() - this.started : 0;
  }

  private end(): void {
    this.ended = true;
    this.inner = undefined;
    if (this.onEnd !== undefined) this.onEnd();
  }

  next(value: unknown): void {
    // The first value proves the downstream answered; a long-lived stream is not held open as "in flight".
    if (!this.settled) {
      this.settled = true;
      this.breaker.onSuccess(this.permit, this.elapsed());
    }
    this.downstream.next(value);
  }

  error(error: unknown): void {
    if (this.ended) return;
    if (!this.settled) {
      this.settled = true;
      try {
        if (isOwnRejection(error)) this.breaker.onCancel(this.permit);
        else this.breaker.onFailure(this.permit, error, this.elapsed());
      } catch (failure) {
        error = failure; // a throwing recordIf or ignoreIf fails the call with its error, as on the Promise path
      }
    }
    this.end();
    this.downstream.error(error);
  }

  complete(): void {
    if (this.ended) return;
    if (!this.settled) {
      this.settled = true;
      this.breaker.onSuccess(this.permit, this.elapsed());
    }
    this.end();
    this.downstream.complete();
  }

  unsubscribe(): void {
    if (this.ended) return;
    if (!this.settled) {
      this.settled = true;
      this.breaker.onCancel(this.permit);
    }
    const { inner } = this;
    this.end();
    inner?.unsubscribe();
  }
}
