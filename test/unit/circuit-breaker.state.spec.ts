import { HttpException } from '@nestjs/common';
import { firstValueFrom, NEVER, Observable, throwError } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  BrokenCircuitError,
  ResilienceEvents,
  type CircuitBreakerOptions,
  type ResilienceEventOf,
} from '../../lib/index.js';
import { DEFAULT_CIRCUIT_BREAKER_OPTIONS } from '../../lib/core/circuit-breaker/circuit-breaker.options.js';
import { CircuitBreakerState } from '../../lib/core/circuit-breaker/circuit-breaker.state.js';
import { CircuitBreakerPolicy } from '../../lib/core/circuit-breaker/circuit-breaker.policy.js';
import { ORDINARY_CALL } from '../../lib/core/circuit-breaker/circuit-breaker.state.js';
import { resilient } from './policy-harness.js';

function circuit(options: Partial<CircuitBreakerOptions> = {}) {
  const events = new ResilienceEvents();
  const transitions: string[] = [];
  events.subscribe((event) => {
    const { from, to, reason } = event as ResilienceEventOf<'circuit-state'>;
    transitions.push(`${from}->${to}:${reason}`);
  });
  const breaker = new CircuitBreakerState('payments', { ...DEFAULT_CIRCUIT_BREAKER_OPTIONS, ...options }, events);
  return { breaker, transitions };
}

const fail = (breaker: CircuitBreakerState, error: unknown = new Error('down'), elapsed = 0) =>
  breaker.onFailure(breaker.acquire(), error, elapsed);
const succeed = (breaker: CircuitBreakerState, elapsed = 0) => breaker.onSuccess(breaker.acquire(), elapsed);

describe('CircuitBreakerState', () => {
  beforeEach(() => vi.useFakeTimers({ now: new Date('2026-11-24T10:00:00Z') }));
  afterEach(() => vi.useRealTimers());

  it('opens when the failure rate reaches the threshold after minimumCalls', () => {
    const { breaker, transitions } = circuit({ minimumCalls: 4, failureRateThreshold: 50 });
    fail(breaker);
    fail(breaker);
    fail(breaker);
    expect(breaker.state).toBe('closed'); // 3 calls < minimumCalls
    fail(breaker); // 4 failures of 4
    expect(breaker.state).toBe('open');
    expect(transitions).toEqual(['closed->open:failure-rate']);
  });

  it('judges the window on the success that completes minimumCalls (F, F, F, S, S opens, as in Resilience4j)', () => {
    const { breaker, transitions } = circuit({ windowSize: 5, minimumCalls: 5, failureRateThreshold: 50 });
    fail(breaker);
    fail(breaker);
    fail(breaker);
    succeed(breaker);
    expect(breaker.state).toBe('closed'); // 4 calls < minimumCalls
    succeed(breaker); // 3 failures of 5 = 60%
    expect(breaker.state).toBe('open');
    expect(transitions).toEqual(['closed->open:failure-rate']);
    expect(() => breaker.acquire()).toThrow(BrokenCircuitError); // the next call does not reach the downstream
  });

  it('judges a time window on a success after old successes left it', () => {
    const { breaker } = circuit({ window: 'time', windowSize: 2, minimumCalls: 3, failureRateThreshold: 60 });
    succeed(breaker);
    succeed(breaker);
    vi.advanceTimersByTime(1000);
    fail(breaker);
    fail(breaker); // 2 failures of 4 = 50%
    expect(breaker.state).toBe('closed');
    vi.advanceTimersByTime(1000); // the two successes leave the window
    succeed(breaker); // 2 failures of 3 = 67%
    expect(breaker.state).toBe('open');
  });

  it('emits no transition event for a transition to the same state', () => {
    const { breaker, transitions } = circuit();
    breaker.forceOpen();
    const openedAt = breaker.snapshot().openedAt;
    vi.advanceTimersByTime(1000);
    breaker.forceOpen();
    expect(breaker.snapshot().openedAt).toBe(openedAt); // a repeated forceOpen keeps the first opening time
    breaker.disable();
    breaker.disable();
    breaker.reset();
    breaker.reset();
    expect(transitions).toEqual([
      'closed->forced_open:force-open',
      'forced_open->disabled:disable',
      'disabled->closed:reset',
    ]);
  });

  it('stays closed below the threshold', () => {
    const { breaker } = circuit({ minimumCalls: 4, failureRateThreshold: 50 });
    for (let i = 0; i < 20; i++) {
      succeed(breaker);
      succeed(breaker);
      fail(breaker);
    }
    expect(breaker.snapshot()).toMatchObject({ state: 'closed', calls: 60, failures: 20 });
  });

  it('count window remembers only the last windowSize calls', () => {
    const { breaker } = circuit({ windowSize: 4, minimumCalls: 4, failureRateThreshold: 75 });
    fail(breaker);
    fail(breaker);
    succeed(breaker);
    succeed(breaker);
    succeed(breaker);
    succeed(breaker); // both failures evicted
    expect(breaker.snapshot()).toMatchObject({ calls: 4, failures: 0 });
    fail(breaker);
    fail(breaker);
    expect(breaker.state).toBe('closed'); // 2 of 4
    fail(breaker); // 3 of 4 = 75%
    expect(breaker.state).toBe('open');
  });

  it('time window forgets calls older than the window, even after an idle gap', () => {
    const { breaker } = circuit({ window: 'time', windowSize: 10, minimumCalls: 3, failureRateThreshold: 50 });
    fail(breaker);
    fail(breaker);
    vi.advanceTimersByTime(5_000);
    expect(breaker.snapshot()).toMatchObject({ calls: 2, failures: 2 });
    vi.advanceTimersByTime(60_000); // idle: nothing arrives to push the old calls out
    expect(breaker.snapshot()).toMatchObject({ calls: 0, failures: 0 });
    fail(breaker);
    expect(breaker.state).toBe('closed'); // the two old failures no longer count
  });

  it('time window drops buckets one second at a time', () => {
    const { breaker } = circuit({ window: 'time', windowSize: 3, minimumCalls: 100 });
    fail(breaker);
    vi.advanceTimersByTime(1_000);
    succeed(breaker);
    vi.advanceTimersByTime(1_000);
    succeed(breaker);
    expect(breaker.snapshot()).toMatchObject({ calls: 3, failures: 1 });
    vi.advanceTimersByTime(1_000);
    expect(breaker.snapshot()).toMatchObject({ calls: 2, failures: 0 });
  });

  it('opens on the slow-call rate', () => {
    const { breaker, transitions } = circuit({ minimumCalls: 2, slowCallDuration: 100, slowCallRateThreshold: 50 });
    succeed(breaker, 50);
    expect(breaker.state).toBe('closed');
    succeed(breaker, 150);
    expect(breaker.state).toBe('open');
    expect(transitions).toEqual(['closed->open:slow-call-rate']);
    expect(breaker.snapshot()).toMatchObject({ calls: 2, slowCalls: 1, slowCallRate: 50 });
  });

  it('opens after consecutiveFailures in a row in simple mode', () => {
    const { breaker, transitions } = circuit({ consecutiveFailures: 3 });
    fail(breaker);
    fail(breaker);
    succeed(breaker);
    fail(breaker);
    fail(breaker);
    expect(breaker.state).toBe('closed');
    fail(breaker);
    expect(breaker.state).toBe('open');
    expect(transitions).toEqual(['closed->open:consecutive-failures']);
  });

  it('rejects while open with the breaker name and the retry time, then lets a probe through', () => {
    const { breaker, transitions } = circuit({ consecutiveFailures: 1, openDuration: 10_000 });
    fail(breaker);
    const openedAt = Date.now();
    expect(() => breaker.acquire()).toThrow(BrokenCircuitError);
    expect(() => breaker.acquire()).toThrow(
      expect.objectContaining({ policy: 'payments', retryAt: openedAt + 10_000, code: 'BROKEN_CIRCUIT' }),
    );
    vi.advanceTimersByTime(9_999);
    expect(() => breaker.acquire()).toThrow(BrokenCircuitError);
    vi.advanceTimersByTime(1);
    const probe = breaker.acquire();
    expect(probe).not.toBe(ORDINARY_CALL);
    expect(breaker.state).toBe('half_open');
    breaker.onSuccess(probe, 0);
    expect(breaker.state).toBe('closed');
    expect(transitions).toEqual([
      'closed->open:consecutive-failures',
      'open->half_open:open-duration-elapsed',
      'half_open->closed:probes-succeeded',
    ]);
  });

  it('lets only halfOpenMaxCalls probes through; every other caller fails fast', () => {
    const { breaker } = circuit({ consecutiveFailures: 1, openDuration: 1000, halfOpenMaxCalls: 2 });
    fail(breaker);
    vi.advanceTimersByTime(1000);
    const first = breaker.acquire();
    const second = breaker.acquire();
    expect(() => breaker.acquire()).toThrow(BrokenCircuitError);
    breaker.onSuccess(first, 0);
    expect(breaker.state).toBe('half_open'); // needs both probes
    expect(() => breaker.acquire()).toThrow(BrokenCircuitError); // the freed slot is not reused
    breaker.onSuccess(second, 0);
    expect(breaker.state).toBe('closed');
    expect(breaker.acquire()).toBe(ORDINARY_CALL);
  });

  it('re-opens on a failed probe, with an open duration that grows up to the maximum', () => {
    const { breaker } = circuit({
      consecutiveFailures: 1,
      openDuration: 1000,
      openDurationMultiplier: 2,
      maxOpenDuration: 3000,
    });
    fail(breaker);
    const durations: (number | undefined)[] = [];
    for (let i = 0; i < 3; i++) {
      vi.advanceTimersByTime(breaker.snapshot().openDuration);
      fail(breaker); // the probe fails
      durations.push(breaker.snapshot().openDuration);
    }
    expect(durations).toEqual([2000, 3000, 3000]);
    vi.advanceTimersByTime(3000);
    succeed(breaker);
    expect(breaker.snapshot()).toMatchObject({ state: 'closed', openDuration: 1000 });
  });

  it('does not count HTTP 4xx as failures by default, but counts timeouts and 5xx', () => {
    const { breaker } = circuit({ consecutiveFailures: 2 });
    fail(breaker, new HttpException('bad input', 400));
    fail(breaker, new HttpException('bad input', 422));
    expect(breaker.snapshot()).toMatchObject({ state: 'closed', failures: 0, calls: 2 });
    fail(breaker, new HttpException('down', 503));
    fail(breaker, new Error('ETIMEDOUT'));
    expect(breaker.state).toBe('open');
  });

  it('follows recordIf and ignoreIf', () => {
    class Ignored extends Error {}
    const { breaker } = circuit({
      minimumCalls: 1,
      failureRateThreshold: 100,
      recordIf: (error) => (error as Error).message !== 'benign',
      ignoreIf: (error) => error instanceof Ignored,
    });
    fail(breaker, new Ignored('x'));
    expect(breaker.snapshot().calls).toBe(0); // neither success nor failure
    fail(breaker, new Error('benign'));
    expect(breaker.snapshot()).toMatchObject({ calls: 1, failures: 0 }); // counted as success
    fail(breaker, new Error('real'));
    expect(breaker.snapshot()).toMatchObject({ state: 'closed', calls: 2, failures: 1 });
  });

  it('obeys an operator: forced open rejects, disabled allows without recording, reset closes', () => {
    const { breaker, transitions } = circuit({ consecutiveFailures: 1 });
    breaker.forceOpen();
    vi.advanceTimersByTime(10 * 60_000);
    expect(() => breaker.acquire()).toThrow(BrokenCircuitError); // never turns half-open by itself
    breaker.disable();
    fail(breaker);
    fail(breaker);
    expect(breaker.snapshot()).toMatchObject({ state: 'disabled', calls: 0 });
    breaker.reset();
    fail(breaker);
    expect(breaker.state).toBe('open');
    breaker.forceClose();
    expect(breaker.state).toBe('closed');
    expect(transitions).toEqual([
      'closed->forced_open:force-open',
      'forced_open->disabled:disable',
      'disabled->closed:reset',
      'closed->open:consecutive-failures',
      'open->closed:close',
    ]);
  });

  it('saves and restores its state across a restart', () => {
    const { breaker } = circuit({ consecutiveFailures: 1, openDuration: 5000 });
    fail(breaker);
    const saved = JSON.parse(JSON.stringify(breaker.save())) as ReturnType<CircuitBreakerState['save']>;
    const { breaker: restarted } = circuit({ consecutiveFailures: 1, openDuration: 5000 });
    restarted.restore(saved);
    expect(restarted.state).toBe('open');
    expect(() => restarted.acquire()).toThrow(BrokenCircuitError);
    vi.advanceTimersByTime(5000);
    expect(restarted.state).toBe('half_open');
  });

  it('ignores the late outcome of a call that started before the breaker opened', () => {
    const { breaker } = circuit({ consecutiveFailures: 1, openDuration: 1000 });
    const slowCall = breaker.acquire();
    fail(breaker);
    breaker.onSuccess(slowCall, 0);
    expect(breaker.state).toBe('open');
  });
});

describe('CircuitBreakerPolicy', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  const makePolicy = (options: Partial<CircuitBreakerOptions>) => {
    const events = new ResilienceEvents();
    return new CircuitBreakerState('svc', { ...DEFAULT_CIRCUIT_BREAKER_OPTIONS, ...options }, events);
  };

  it('fails fast without calling the method while open', async () => {
    const breaker = makePolicy({ consecutiveFailures: 2 });
    const method = vi.fn(async () => {
      throw new Error('down');
    });
    const { call } = resilient(method, () => [new CircuitBreakerPolicy(breaker)]);
    await expect(call()).rejects.toThrow('down');
    await expect(call()).rejects.toThrow('down');
    await expect(call()).rejects.toBeInstanceOf(BrokenCircuitError);
    expect(method).toHaveBeenCalledTimes(2);
  });

  it('half-open under concurrency: one probe runs, the other callers fail fast', async () => {
    const breaker = makePolicy({ consecutiveFailures: 1, openDuration: 1000 });
    let release!: () => void;
    const method = vi.fn((mode: string) =>
      mode === 'fail'
        ? Promise.reject(new Error('down'))
        : new Promise<string>((resolve) => (release = () => resolve('ok'))),
    );
    const { call } = resilient(method, () => [new CircuitBreakerPolicy(breaker)]);
    await expect(call('fail')).rejects.toThrow('down');
    await vi.advanceTimersByTimeAsync(1000);
    const probe = call('hang');
    const others = await Promise.allSettled([call('hang'), call('hang'), call('hang')]);
    expect(others.map((result) => result.status === 'rejected' && result.reason instanceof BrokenCircuitError)).toEqual(
      [true, true, true],
    );
    expect(method).toHaveBeenCalledTimes(2); // the failure and the single probe
    release();
    await expect(probe).resolves.toBe('ok');
    expect(breaker.state).toBe('closed');
  });

  it('counts an Observable call that its caller unsubscribed as neither success nor failure', () => {
    const breaker = makePolicy({ consecutiveFailures: 1, openDuration: 1000 });
    breaker.forceOpen();
    breaker.reset();
    const { call } = resilient(
      () => NEVER,
      () => [new CircuitBreakerPolicy(breaker)],
      'observable',
    );
    call().subscribe().unsubscribe();
    expect(breaker.snapshot()).toMatchObject({ state: 'closed', calls: 0 });
  });

  it('frees the half-open probe slot when the probe is cancelled', async () => {
    const breaker = makePolicy({ consecutiveFailures: 1, openDuration: 1000 });
    let subscribed = 0;
    const { call } = resilient(
      () => new Observable<never>(() => void subscribed++),
      () => [new CircuitBreakerPolicy(breaker)],
      'observable',
    );
    const failing = resilient(
      () => throwError(() => new Error('x')),
      () => [new CircuitBreakerPolicy(breaker)],
      'observable',
    );
    await expect(firstValueFrom(failing.call())).rejects.toThrow('x');
    vi.advanceTimersByTime(1000);
    call().subscribe().unsubscribe(); // probe cancelled
    expect(subscribed).toBe(1);
    const errors: unknown[] = [];
    const next = call().subscribe({ error: (error: unknown) => errors.push(error) });
    // A leaked slot would refuse this call with BrokenCircuitError before the method ran.
    expect(errors).toEqual([]);
    expect(subscribed).toBe(2);
    expect(breaker.state).toBe('half_open');
    next.unsubscribe();
  });
});

describe('CircuitBreakerState opened by a peer replica (coordination)', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('opens until the peer says, then lets a probe through as usual', () => {
    const { breaker, transitions } = circuit({ openDuration: 10_000 });
    breaker.openedByPeer(3_000);
    expect(breaker.state).toBe('open');
    expect(transitions.at(-1)).toBe('closed->open:peer-opened');
    expect(() => breaker.acquire()).toThrow(expect.objectContaining({ code: 'BROKEN_CIRCUIT' }) as Error);
    vi.advanceTimersByTime(3_000);
    expect(breaker.state).toBe('half_open');
  });

  it('keeps the later of two openings, and ignores openings already over', () => {
    const { breaker } = circuit({ openDuration: 10_000 });
    breaker.openedByPeer(-1);
    expect(breaker.state).toBe('closed');
    breaker.openedByPeer(5_000);
    breaker.openedByPeer(2_000); // sooner: changes nothing
    vi.advanceTimersByTime(4_999);
    expect(breaker.state).toBe('open');
    breaker.openedByPeer(3_000); // later: extends
    vi.advanceTimersByTime(2_999);
    expect(breaker.state).toBe('open');
    vi.advanceTimersByTime(1);
    expect(breaker.state).toBe('half_open');
  });

  it('reads the remaining time on its own clock, capped by its maxOpenDuration (a skewed peer changes nothing)', () => {
    const { breaker } = circuit({ openDuration: 1_000, maxOpenDuration: 5_000 });
    breaker.openedByPeer(600_000); // a peer's message held up, or a buggy one: at most this breaker's longest opening
    vi.advanceTimersByTime(4_999);
    expect(breaker.state).toBe('open');
    vi.advanceTimersByTime(1);
    expect(breaker.state).toBe('half_open');
  });

  it("never overrides an operator's forced state", () => {
    const { breaker } = circuit();
    breaker.disable();
    breaker.openedByPeer(5_000);
    expect(breaker.state).toBe('disabled');
    breaker.forceOpen();
    breaker.openedByPeer(5_000);
    vi.advanceTimersByTime(10_000);
    expect(breaker.state).toBe('forced_open');
  });
});
