import { brokenCircuit, type BrokenCircuitError } from '../errors/broken-circuit.error.js';
import type { ResilienceEvents } from '../events/resilience-events.js';
import { httpStatusOf } from '../errors/error-classification.js';
import { percentOf, windowSizeOf, type CircuitBreakerOptions } from './circuit-breaker.options.js';
import type {
  CircuitBreakerSnapshot,
  CircuitState,
  CircuitTransitionReason,
  SavedCircuitState,
} from './circuit-breaker.snapshot.js';
import type { CircuitCoordinator, CoordinatedCircuit } from './circuit-coordinator.interface.js';
import { CountWindow, TimeWindow, type OutcomeWindow } from './outcome-window.js';

/** The permit of an ordinary call (not a half-open probe). */
export const ORDINARY_CALL = -1;

/** By default only server-side trouble counts: an HTTP 4xx is the caller's mistake, not the downstream's. */
function isServerSideFailure(error: unknown): boolean {
  const status = httpStatusOf(error);
  return status === undefined || status < 400 || status >= 500;
}

/**
 * One named circuit (the state of a circuit breaker): its state machine and sliding window. Shared by every method that
 * names it.
 * No timers: an open breaker becomes half-open when a call (or a reader) arrives after the open duration, so an idle
 * breaker costs nothing and keeps no process alive.
 */
export class CircuitBreakerState implements CoordinatedCircuit {
  /** True when calls must be timed to detect slow calls. */
  readonly tracksSlowCalls: boolean;
  /** Shares openings and the half-open probe with other replicas, when coordination is on. */
  private coordinator: CircuitCoordinator | undefined;
  private current: CircuitState = 'closed';
  private readonly window: OutcomeWindow;
  /** A time window (`window: 'time'`): it reads the clock on every outcome; a count window never does. */
  private readonly timedWindow: boolean;
  private readonly recordIf: (error: unknown) => boolean;
  /** The thresholds as numbers of percent; the slow-call one is Infinity when slow calls are not tracked. */
  private readonly failurePercent: number;
  private readonly slowPercent: number;
  private openedAt: number | undefined;
  private retryAt = 0;
  private openDuration: number;
  private consecutiveFailures = 0;
  /** Incremented at every half-open period, so that late probes of an earlier period are not counted. */
  private halfOpenPeriod = 0;
  /** Probes admitted in this half-open period; a cancelled probe gives its place back, a finished one does not. */
  private probesAdmitted = 0;
  private probeSuccesses = 0;

  constructor(
    readonly name: string,
    readonly options: CircuitBreakerOptions,
    private readonly events: ResilienceEvents,
    private readonly now: () => number = Date.now,
  ) {
    const size = windowSizeOf(options);
    this.timedWindow = options.window === 'time';
    this.window = this.timedWindow ? new TimeWindow(size) : new CountWindow(size);
    this.recordIf = options.recordIf ?? isServerSideFailure;
    this.tracksSlowCalls = options.slowCallDuration !== undefined;
    this.openDuration = options.openDuration;
    this.failurePercent = percentOf(options.failureRateThreshold);
    this.slowPercent = this.tracksSlowCalls ? percentOf(options.slowCallRateThreshold) : Infinity;
  }

  /** Joins the other replicas through `coordinator` (see `coordination: 'redis'`). */
  coordinate(coordinator: CircuitCoordinator): void {
    this.coordinator = coordinator;
    coordinator.join(this);
  }

  /** True when a half-open probe must first take the cross-replica probe lease. */
  get coordinated(): boolean {
    return this.coordinator !== undefined;
  }

  /** Takes the cross-replica probe lease (held at most one open duration, in case this replica dies probing). */
  acquireProbeLease(): Promise<boolean> {
    return this.coordinator ? this.coordinator.acquireProbeLease(this.name, this.openDuration) : Promise.resolve(true);
  }

  /** Gives the probe lease back. */
  releaseProbeLease(): void {
    this.coordinator?.releaseProbeLease(this.name);
  }

  /**
   * A peer replica opened this breaker: open here too, until the same moment. An operator's forced state wins, and an
   * opening that ends sooner than ours changes nothing.
   */
  openedByPeer(remainingMs: number): void {
    const now = this.now();
    this.refresh(now);
    if (!(remainingMs > 0) || this.current === 'forced_open' || this.current === 'disabled') return;
    // A duration read on this replica's clock, never another's instant; capped by this breaker's own longest
    // opening, so a peer's message held up by a stalled Redis cannot keep it open longer than it ever would be.
    const retryAt = now + Math.min(remainingMs, this.options.maxOpenDuration);
    if (this.current === 'open') {
      this.retryAt = Math.max(this.retryAt, retryAt);
      return;
    }
    this.openedAt = now;
    this.retryAt = retryAt;
    this.transition('open', 'peer-opened');
  }

  /** The state now (an open breaker whose open duration has passed reports `half_open`). */
  get state(): CircuitState {
    this.refresh(this.now());
    return this.current;
  }

  /**
   * Admits a call, or throws a `BrokenCircuitError` without calling anything. Returns the permit to hand back to
   * {@link onSuccess}, {@link onFailure} or {@link onCancel}: {@link ORDINARY_CALL}, or the probe's half-open period.
   */
  acquire(): number {
    const permit = this.admit();
    if (typeof permit !== 'number') throw permit;
    return permit;
  }

  /**
   * {@link acquire} without throwing: the permit, or the `BrokenCircuitError` to fail with. The policies use this
   * one, because a throw and catch costs more than the whole fail-fast path.
   */
  admit(): number | BrokenCircuitError {
    switch (this.current) {
      case 'closed':
      case 'disabled':
        return ORDINARY_CALL;
      case 'forced_open':
        return brokenCircuit(this.name);
      case 'open': {
        const now = this.now();
        if (now < this.retryAt) return brokenCircuit(this.name, this.retryAt);
        this.transition('half_open', 'open-duration-elapsed');
        return this.admitProbe(now);
      }
      default:
        return this.admitProbe(this.now());
    }
  }

  /** A call admitted with `permit` succeeded after `elapsedMs` (measured only when slow calls are tracked). */
  onSuccess(permit: number, elapsedMs: number): void {
    const slow = this.tracksSlowCalls && elapsedMs > this.options.slowCallDuration!;
    if (permit !== ORDINARY_CALL) {
      if (!this.isCurrentProbe(permit)) return;
      // A slow probe did not prove the downstream healthy.
      if (slow) this.open('probe-failed');
      else if (++this.probeSuccesses >= this.options.halfOpenMaxCalls) this.close('probes-succeeded');
      return;
    }
    if (this.current !== 'closed') return;
    this.consecutiveFailures = 0;
    // A count window has no use for the clock: no read per call.
    const now = this.timedWindow ? this.now() : 0;
    this.window.record(false, slow, now);
    // Judged on a success too: the success that completes minimumCalls (F, F, F, S, S with minimumCalls 5 and 50%)
    // must open the breaker, and a time window may have dropped old successes since the last judgement.
    this.evaluate(now);
  }

  /** A call admitted with `permit` failed with `error` after `elapsedMs`. */
  onFailure(permit: number, error: unknown, elapsedMs: number): void {
    if (this.options.ignoreIf?.(error)) {
      this.onCancel(permit);
      return;
    }
    if (!this.recordIf(error)) {
      this.onSuccess(permit, elapsedMs);
      return;
    }
    if (permit !== ORDINARY_CALL) {
      if (!this.isCurrentProbe(permit)) return;
      this.open('probe-failed');
      return;
    }
    if (this.current !== 'closed') return;
    this.consecutiveFailures++;
    const now = this.timedWindow ? this.now() : 0;
    const slow = this.tracksSlowCalls && elapsedMs > this.options.slowCallDuration!;
    this.window.record(true, slow, now);
    this.evaluate(now);
  }

  /** A call admitted with `permit` was cancelled by its caller: it counts as neither success nor failure. */
  onCancel(permit: number): void {
    if (permit !== ORDINARY_CALL && this.isCurrentProbe(permit)) this.probesAdmitted--;
  }

  /** Closes the breaker, forgets the window and the grown open duration. */
  reset(): void {
    this.openDuration = this.options.openDuration;
    this.close('reset');
  }

  /** Closes the breaker and forgets the window (the grown open duration is kept). */
  forceClose(): void {
    this.close('close');
  }

  /** Rejects every call until {@link reset} or {@link forceClose}. */
  forceOpen(): void {
    if (this.current === 'forced_open') return; // already: keep the first openedAt, emit nothing
    this.openedAt = this.now();
    this.transition('forced_open', 'force-open');
  }

  /** Lets every call through without recording, until {@link reset} or {@link forceClose}. */
  disable(): void {
    if (this.current === 'disabled') return;
    this.openedAt = undefined;
    this.transition('disabled', 'disable');
  }

  snapshot(): CircuitBreakerSnapshot {
    const now = this.now();
    this.refresh(now);
    const { calls, failures, slowCalls } = this.window.counts(now);
    const isOpen = this.current === 'open' || this.current === 'half_open' || this.current === 'forced_open';
    return {
      name: this.name,
      state: this.current,
      calls,
      failures,
      slowCalls,
      failureRate: calls ? (failures / calls) * 100 : 0,
      slowCallRate: calls ? (slowCalls / calls) * 100 : 0,
      openedAt: isOpen ? this.openedAt : undefined,
      retryAt: this.current === 'open' ? this.retryAt : undefined,
      openDuration: this.openDuration,
      critical: this.options.critical,
    };
  }

  /** What {@link restore} needs to bring this breaker back after a restart. */
  save(): SavedCircuitState {
    const { state, openedAt, retryAt, openDuration } = this.snapshot();
    return { name: this.name, state, openedAt, retryAt, openDuration };
  }

  /** Brings back a saved state (a half-open breaker comes back open, so that probes start afresh). */
  restore(saved: SavedCircuitState): void {
    this.openDuration = saved.openDuration;
    this.openedAt = saved.openedAt;
    this.window.clear();
    this.consecutiveFailures = 0;
    if (saved.state === 'open' || saved.state === 'half_open') {
      this.retryAt = saved.retryAt ?? this.now();
      this.transition('open', 'restore');
    } else {
      this.transition(saved.state, 'restore');
    }
  }

  private admitProbe(now: number): number | BrokenCircuitError {
    if (this.probesAdmitted >= this.options.halfOpenMaxCalls) return brokenCircuit(this.name, now);
    this.probesAdmitted++;
    return this.halfOpenPeriod;
  }

  private isCurrentProbe(permit: number): boolean {
    return this.current === 'half_open' && permit === this.halfOpenPeriod;
  }

  /**
   * Judges the window after each recorded outcome while closed: opens when it holds at least `minimumCalls` calls
   * and the failure rate (or, when tracked, the slow-call rate) is at or above its threshold.
   */
  private evaluate(now: number): void {
    const { consecutiveFailures, minimumCalls } = this.options;
    if (consecutiveFailures !== undefined) {
      if (this.consecutiveFailures >= consecutiveFailures) this.open('consecutive-failures');
      return;
    }
    const verdict = this.window.judge(now, minimumCalls, this.failurePercent, this.slowPercent);
    if (verdict !== undefined) this.open(verdict);
  }

  private open(reason: CircuitTransitionReason): void {
    const now = this.now();
    if (reason === 'probe-failed') {
      this.openDuration = Math.min(
        this.options.maxOpenDuration,
        this.openDuration * this.options.openDurationMultiplier,
      );
    }
    this.openedAt = now;
    this.retryAt = now + this.openDuration;
    this.transition('open', reason);
    this.coordinator?.publishOpen(this.name, this.retryAt - now);
  }

  private close(reason: CircuitTransitionReason): void {
    if (reason === 'probes-succeeded') this.openDuration = this.options.openDuration;
    this.window.clear();
    this.consecutiveFailures = 0;
    this.openedAt = undefined;
    this.transition('closed', reason);
  }

  /** Moves an open breaker whose open duration has passed to half-open. */
  private refresh(now: number): void {
    if (this.current === 'open' && now >= this.retryAt) this.transition('half_open', 'open-duration-elapsed');
  }

  private transition(to: CircuitState, reason: CircuitTransitionReason): void {
    const from = this.current;
    // Not a transition: no event (an operator forcing open twice, a reset of a closed breaker).
    if (from === to) return;
    this.current = to;
    if (to === 'half_open') {
      this.halfOpenPeriod++;
      this.probesAdmitted = 0;
      this.probeSuccesses = 0;
    }
    if (this.events.observed) {
      this.events.emit({ type: 'circuit-state', policy: this.name, from, to, reason });
    }
  }
}
