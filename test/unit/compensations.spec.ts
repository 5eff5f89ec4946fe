import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Compensations } from '../../lib/redis/compensations.js';

describe('Compensations (undoing store writes whose answer never came)', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  /** An undo that fails while `reachable` is false, counting its tries. */
  function undo(state: { reachable: boolean; tries: number }) {
    return () => {
      state.tries++;
      return state.reachable ? Promise.resolve() : Promise.reject(new Error('connection is closed'));
    };
  }

  it('retries with a doubling pause while the store is unreachable', async () => {
    const compensations = new Compensations();
    const state = { reachable: false, tries: 0 };
    compensations.run(undo(state));
    await vi.advanceTimersByTimeAsync(0);
    expect(state.tries).toBe(1);
    // 100, 200, 400, 800 ms later: tries 2 to 5.
    await vi.advanceTimersByTimeAsync(1500);
    expect(state.tries).toBe(5);
    compensations.close();
  });

  it('sends a waiting compensation as soon as the connection is ready again, not at its next pause', async () => {
    const compensations = new Compensations();
    const state = { reachable: false, tries: 0 };
    compensations.run(undo(state));
    await vi.advanceTimersByTimeAsync(1500); // five tries; the next one 1.6 s away
    expect(state.tries).toBe(5);
    state.reachable = true;
    compensations.retryNow();
    await vi.advanceTimersByTimeAsync(0);
    expect(state.tries).toBe(6);
    // Answered: nothing is sent again.
    await vi.advanceTimersByTimeAsync(60_000);
    expect(state.tries).toBe(6);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('retryNow on a connection that fails again goes back to pausing; close stops every retry', async () => {
    const compensations = new Compensations();
    const state = { reachable: false, tries: 0 };
    compensations.run(undo(state));
    await vi.advanceTimersByTimeAsync(0);
    compensations.retryNow();
    await vi.advanceTimersByTimeAsync(0);
    expect(state.tries).toBe(2);
    expect(vi.getTimerCount()).toBe(1);
    compensations.close();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(state.tries).toBe(2);
  });
});
