import type { ResilienceEvents } from '../events/resilience-events.js';
import type { AttemptAbortListener, Invocation } from '../pipeline/invocation.js';
import type { ObservableStep, PromiseStep } from '../pipeline/policy.interface.js';
import type { RetryBudgetState } from '../retry/retry-budget.state.js';
import { DeadlineQueue, type DeadlineNode } from '../timeout/deadline-queue.js';
import type { HedgeOptions } from './hedge.options.js';
import type { LatencySource } from './latency-source.interface.js';
import { HandledResult } from '../pipeline/handled-result.js';
import { pendingPromiseFor } from '../pipeline/pending-promise.js';
import { observableStepOf, sinkStepOf, type SinkPolicy, type SinkStep } from '../pipeline/sink.js';
import { HedgeLostError } from './hedge-lost.error.js';
import { HedgeSinkCall } from './hedge-sink.js';

export { HedgeLostError } from './hedge-lost.error.js';

/**
 * `@Hedge`: when an attempt has not answered after `delay`, or failed, starts another beside it (up to `maxHedges`
 * more); the first success wins and every other attempt is aborted through its own AbortSignal (Observables:
 * unsubscribed). When all fail, the call fails with the first attempt's error. Each attempt is its own
 * {@link Invocation}, so `getTimeoutSignal()` and the policies inside see per-attempt state. Hedges spend from the
 * retry budget of the method's `@Retry`, when it names one: no budget left, no hedge.
 */
export class HedgePolicy implements SinkPolicy {
  private readonly delayOf: (invocation: Invocation) => number;
  /** @internal With a fixed delay, every call's hedge timer is a node of one shared timer (see `DeadlineQueue`). */
  readonly deadlines: DeadlineQueue | undefined;
  /** @internal `hedgeOnResult`: a value it matches is a failed attempt. */
  readonly hedgeOnResult: ((value: unknown) => boolean) | undefined;

  constructor(
    readonly name: string,
    private readonly options: HedgeOptions,
    private readonly events: ResilienceEvents,
    private readonly budget?: RetryBudgetState,
    latencySource?: LatencySource,
  ) {
    const { delay } = options;
    this.hedgeOnResult = options.hedgeOnResult?.bind(options);
    if (typeof delay === 'number') {
      this.delayOf = () => delay;
      this.deadlines = new DeadlineQueue(delay);
    } else {
      this.delayOf = (invocation) => latencySource?.percentile(invocation.target, delay.percentile) ?? delay.fallback!;
    }
  }

  wrapPromise(next: PromiseStep): PromiseStep {
    const { hedgeOnResult } = this;
    // A matching value rejects the attempt's Promise with it, so the race treats it as a failure (never seen outside).
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
    const judge = (value: unknown) => (hedgeOnResult!(value) ? Promise.reject(new HandledResult(value)) : value);
    const run = hedgeOnResult === undefined ? next : (child: Invocation) => next(child).then(judge);
    return (invocation) => {
      // The race settles the caller's Promise itself: no closures per call, no second `then` on the winner.
      const race = new HedgeRace(this, invocation, this.delayOf(invocation), run);
      const outcome = pendingPromiseFor(race);
      race.start();
      return outcome;
    };
  }

  wrapObservable(next: ObservableStep): ObservableStep {
    return observableStepOf(this.wrapSink(sinkStepOf(next)));
  }

  /**
   * One object per call (and a small one per attempt) rather than an Observable, a Promise and closures per attempt.
   * @internal
   */
  wrapSink(next: SinkStep): SinkStep {
    return (invocation, sink) => new HedgeSinkCall(this, next, invocation, sink, this.delayOf(invocation)).start();
  }

  /** @internal Whether another hedge may start now (reported, with the ms it `waited`, when it does). */
  mayHedge(invocation: Invocation, hedge: number, waited: number): boolean {
    if (hedge > this.options.maxHedges || invocation.cancelled !== undefined) return false;
    if (this.budget !== undefined && !this.budget.tryRetry()) return false;
    if (this.events.observed) {
      this.events.emit({ type: 'hedge', policy: this.name, target: invocation.target, hedge, delay: waited });
    }
    return true;
  }
}

/** What the race settles until the caller's Promise's functions are set: one function shared by every race. */
const ignore = (): void => undefined;

interface Attempt {
  readonly invocation: Invocation;
  ended: boolean;
}

/**
 * The attempts of one hedged call, until one succeeds or all have failed. It is its own node in the policy's shared
 * deadline queue when the delay is fixed (no timer per call), else it sets a timer.
 */
class HedgeRace implements DeadlineNode, AttemptAbortListener {
  older?: DeadlineNode;
  newer?: DeadlineNode;
  at = 0;
  /** The caller's Promise, settled by the race (the Observable path's race is `HedgeSinkCall`). */
  resolve: (value: unknown) => void = ignore;
  reject: (reason: unknown) => void = ignore;
  private readonly attempts: Attempt[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined = undefined;
  private settled = false;
  /** `performance.now()` when the last attempt started: a hedge reports how long it really waited after it. */
  private launchedAt = 0;
  private firstError: unknown = undefined;
  private handled: HandledResult | undefined = undefined;
  private readonly previousListener: AttemptAbortListener | undefined;

  constructor(
    private readonly policy: HedgePolicy,
    private readonly invocation: Invocation,
    private readonly delay: number,
    private readonly run: (child: Invocation, index: number) => Promise<unknown>,
  ) {
    this.previousListener = invocation.abortListener;
  }

  start(): void {
    // The race itself listens, not a closure per call: with a per-call closure stored on the invocation, every call's
    // objects survived the scavenges (promoted, 4 MB per scavenge in the overhead bench) and a call cost 5-15 us.
    this.invocation.abortListener = this;
    this.launch();
  }

  /** The whole attempt given up (a total timeout, the caller gone): every hedged attempt goes with it. */
  attemptAborted(reason: unknown): void {
    this.previousListener?.attemptAborted(reason);
    for (const attempt of this.attempts) attempt.invocation.cancel(reason);
    this.stop();
  }

  stop(): void {
    this.settled = true;
    this.cancelTimer();
    if (this.invocation.abortListener === this) this.invocation.abortListener = this.previousListener;
  }

  /** The delay has passed without an answer: hedge. */
  expire(): void {
    this.timer = undefined;
    if (!this.settled) this.launch();
  }

  private cancelTimer(): void {
    this.policy.deadlines?.clear(this);
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private launch(): void {
    const index = this.attempts.length;
    // The wait is measured, not the configured delay: a hedge after a failure starts at once, a shared timer may fire
    // a little late, and a timer clamps a sub-millisecond percentile to 1 ms.
    if (index > 0 && !this.policy.mayHedge(this.invocation, index, performance.now() - this.launchedAt)) return;
    const child = this.invocation.fork();
    const attempt: Attempt = { invocation: child, ended: false };
    this.attempts.push(attempt);
    this.run(child, index).then(
      (value) => this.won(attempt, value),
      (error: unknown) => this.failed(attempt, index, error),
    );
    this.schedule();
  }

  private schedule(): void {
    this.cancelTimer();
    if (this.policy.deadlines !== undefined) {
      this.policy.deadlines.schedule(this);
      this.launchedAt = this.at - this.delay; // the queue read the clock already: no second read per call
    } else {
      this.launchedAt = performance.now();
      this.timer = setTimeout(() => this.expire(), this.delay);
    }
  }

  private won(attempt: Attempt, value: unknown): void {
    attempt.ended = true;
    if (this.settled) return;
    this.stop();
    this.abortLosers(this.attempts.indexOf(attempt));
    this.resolve(value);
  }

  /** Aborts every attempt still running but the winner's, with a {@link HedgeLostError}, once each. */
  private abortLosers(winner: number): void {
    let lost: HedgeLostError | undefined;
    const { attempts } = this;
    for (let index = 0; index < attempts.length; index++) {
      const other = attempts[index];
      if (index === winner || other.ended) continue;
      other.ended = true;
      other.invocation.abortAttempt((lost ??= new HedgeLostError()));
    }
  }

  /** Every attempt failed: the caller gets the first attempt's error, or the first value `hedgeOnResult` matched. */
  private lost(error: unknown): void {
    if (error instanceof HandledResult) this.resolve(error.value);
    else this.reject(error);
  }

  private failed(attempt: Attempt, index: number, error: unknown): void {
    attempt.ended = true;
    // A matching value (hedgeOnResult) beats any error as the call's last resort: the first one to arrive.
    if (error instanceof HandledResult) this.handled ??= error;
    else if (index === 0) this.firstError = error;
    if (this.settled) return;
    if (this.attempts.every((other) => other.ended)) {
      // Nothing running: hedge now rather than after the delay, or give up with the first attempt's error.
      const before = this.attempts.length;
      this.launch();
      if (this.attempts.length > before) return;
      this.stop();
      this.lost(this.handled ?? this.firstError);
    }
  }
}
