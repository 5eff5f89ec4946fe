import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BrokenCircuitError, ResilienceEvents } from '../../lib/index.js';
import { DEFAULT_CIRCUIT_BREAKER_OPTIONS } from '../../lib/core/circuit-breaker/circuit-breaker.options.js';
import { CircuitBreakerState } from '../../lib/core/circuit-breaker/circuit-breaker.state.js';

type Step = { kind: 'call'; fails: boolean } | { kind: 'wait'; ms: number };

interface Params {
  windowSize: number;
  minimumCalls: number;
  failureRateThreshold: number;
  openDuration: number;
  halfOpenMaxCalls: number;
  openDurationMultiplier: number;
}

/** The rules, written as plainly as possible: the reference the real breaker is checked against. */
class ReferenceBreaker {
  state: 'closed' | 'open' | 'half_open' = 'closed';
  outcomes: boolean[] = []; // true = failure, newest last
  retryAt = 0;
  openDuration: number;
  probes = 0;
  probeSuccesses = 0;

  constructor(private readonly params: Params) {
    this.openDuration = params.openDuration;
  }

  /** Returns false when the call is rejected without running. */
  call(fails: boolean, now: number): boolean {
    if (this.state === 'open') {
      if (now < this.retryAt) return false;
      this.state = 'half_open';
      this.probes = 0;
      this.probeSuccesses = 0;
    }
    if (this.state === 'half_open') {
      if (this.probes >= this.params.halfOpenMaxCalls) return false;
      this.probes++;
      if (fails) {
        this.openDuration = Math.min(300_000, this.openDuration * this.params.openDurationMultiplier);
        this.open(now);
      } else if (++this.probeSuccesses >= this.params.halfOpenMaxCalls) {
        this.state = 'closed';
        this.outcomes = [];
        this.openDuration = this.params.openDuration;
      }
      return true;
    }
    this.outcomes.push(fails);
    if (this.outcomes.length > this.params.windowSize) this.outcomes.shift();
    const failures = this.outcomes.filter(Boolean).length;
    // Judged after every recorded call, success or failure.
    if (
      this.outcomes.length >= this.params.minimumCalls &&
      (failures / this.outcomes.length) * 100 >= this.params.failureRateThreshold
    ) {
      this.open(now);
    }
    return true;
  }

  private open(now: number) {
    this.state = 'open';
    this.retryAt = now + this.openDuration;
  }
}

describe('CircuitBreakerState against a reference model', () => {
  beforeEach(() => vi.useFakeTimers({ now: 0 }));
  afterEach(() => vi.useRealTimers());

  it('agrees with the reference on every call for random outcomes and waits', () => {
    const params = fc.record({
      windowSize: fc.integer({ min: 1, max: 20 }),
      minimumCalls: fc.integer({ min: 1, max: 20 }),
      failureRateThreshold: fc.integer({ min: 1, max: 100 }),
      openDuration: fc.integer({ min: 1, max: 5000 }),
      halfOpenMaxCalls: fc.integer({ min: 1, max: 3 }),
      openDurationMultiplier: fc.constantFrom(1, 1.5, 2),
    });
    const step = fc.oneof(
      { weight: 4, arbitrary: fc.record({ kind: fc.constant('call' as const), fails: fc.boolean() }) },
      {
        weight: 1,
        arbitrary: fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 6000 }) }),
      },
    );
    fc.assert(
      fc.property(params, fc.array(step, { maxLength: 200 }), (p: Params, steps: Step[]) => {
        vi.setSystemTime(0);
        const reference = new ReferenceBreaker(p);
        const circuit = new CircuitBreakerState(
          'model',
          { ...DEFAULT_CIRCUIT_BREAKER_OPTIONS, ...p },
          new ResilienceEvents(),
        );
        for (const current of steps) {
          if (current.kind === 'wait') {
            vi.advanceTimersByTime(current.ms);
            continue;
          }
          const expectedToRun = reference.call(current.fails, Date.now());
          let ran = true;
          try {
            const permit = circuit.acquire();
            if (current.fails) circuit.onFailure(permit, new Error('down'), 0);
            else circuit.onSuccess(permit, 0);
          } catch (error) {
            if (!(error instanceof BrokenCircuitError)) throw error;
            ran = false;
          }
          expect(ran).toBe(expectedToRun);
          expect(circuit.state).toBe(
            reference.state === 'open' && Date.now() >= reference.retryAt ? 'half_open' : reference.state,
          );
          if (reference.state === 'closed') {
            expect(circuit.snapshot().calls).toBe(reference.outcomes.length);
            expect(circuit.snapshot().failures).toBe(reference.outcomes.filter(Boolean).length);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
