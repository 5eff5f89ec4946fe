import { NEVER } from 'rxjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ChaosExperiments } from '../../lib/core/chaos/chaos-experiments.js';
import { ChaosPolicy } from '../../lib/core/chaos/chaos.policy.js';
import { ChaosState } from '../../lib/core/chaos/chaos.state.js';
import { ResilienceEvents } from '../../lib/core/events/resilience-events.js';
import { Invocation } from '../../lib/core/pipeline/invocation.js';

const target = { className: 'Test', methodName: 'call' };

function latencyPolicy() {
  const experiments = new ChaosExperiments();
  const state = new ChaosState('slow', { latency: { rate: 1, delay: 60_000 } }, experiments);
  return { policy: new ChaosPolicy(state, new ResilienceEvents()), experiments, state };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('ChaosPolicy', () => {
  it('an Observable call unsubscribed during injected latency leaves no timer and never subscribes the source', () => {
    vi.useFakeTimers();
    const { policy } = latencyPolicy();
    let subscribed = 0;
    const step = policy.wrapObservable(() => {
      subscribed++;
      return NEVER;
    });
    const subscription = step(new Invocation(target, undefined, [])).subscribe();
    expect(vi.getTimerCount()).toBe(1);
    subscription.unsubscribe();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(60_000);
    expect(subscribed).toBe(0);
  });

  it('a Promise attempt aborted during injected latency rejects with the reason and clears its timer', async () => {
    vi.useFakeTimers();
    const { policy } = latencyPolicy();
    const invocation = new Invocation(target, undefined, []);
    const running = policy.wrapPromise(() => Promise.resolve('called'))(invocation);
    expect(vi.getTimerCount()).toBe(1);
    invocation.abortAttempt(new Error('attempt timed out'));
    await expect(running).rejects.toThrow('attempt timed out');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('draws nothing while paused and counts what it injected', async () => {
    const { policy, experiments, state } = latencyPolicy();
    experiments.pause();
    const step = policy.wrapPromise(() => Promise.resolve('called'));
    expect(await step(new Invocation(target, undefined, []))).toBe('called');
    expect(state.snapshot().injected).toEqual({ fault: 0, latency: 0, outcome: 0 });
  });
});
