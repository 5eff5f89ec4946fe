import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DeadlineQueue } from '../../lib/core/timeout/deadline-queue.js';

describe('DeadlineQueue (fake timers)', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('expires each deadline after the duration, in order, with one timer for all of them', () => {
    const queue = new DeadlineQueue(100);
    const expired: string[] = [];
    queue.add(() => expired.push('a'));
    vi.advanceTimersByTime(30);
    queue.add(() => expired.push('b'));
    const c = queue.add(() => expired.push('c'));
    expect(vi.getTimerCount()).toBe(1);
    queue.clear(c);
    vi.advanceTimersByTime(69);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(expired).toEqual(['a']);
    vi.advanceTimersByTime(29);
    expect(expired).toEqual(['a']);
    vi.advanceTimersByTime(1);
    expect(expired).toEqual(['a', 'b']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('keeps one timer when an expiring deadline schedules another in the same queue', () => {
    const queue = new DeadlineQueue(100);
    const expired: string[] = [];
    queue.add(() => {
      expired.push('first');
      queue.add(() => expired.push('second')); // a hedge launched by its delay schedules its next one at once
    });
    vi.advanceTimersByTime(100);
    expect(expired).toEqual(['first']);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(100);
    expect(expired).toEqual(['first', 'second']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a cleared deadline never expires, and clearing twice or after expiry is harmless', () => {
    const queue = new DeadlineQueue(50);
    const expire = vi.fn();
    const deadline = queue.add(expire);
    queue.clear(deadline);
    queue.clear(deadline);
    vi.advanceTimersByTime(200);
    expect(expire).not.toHaveBeenCalled();
    const later = queue.add(expire);
    vi.advanceTimersByTime(50);
    expect(expire).toHaveBeenCalledTimes(1);
    queue.clear(later);
  });
});

describe('DeadlineQueue (real timers)', () => {
  const pendingTimers = () => process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;

  // The loop asks whether anything holds it only after the ticks have run: the unref waits for the next tick, so
  // calls made one after the other (each emptying the list) do not toggle the timer twice per call.
  const nextTick = () => new Promise((resolve) => process.nextTick(resolve));

  it('does not keep the process alive once no deadline is pending (from the next tick on)', async () => {
    const before = pendingTimers();
    const queue = new DeadlineQueue(60_000);
    const deadline = queue.add(() => undefined);
    expect(pendingTimers()).toBe(before + 1);
    queue.clear(deadline);
    await nextTick();
    expect(pendingTimers()).toBe(before);
    const again = queue.add(() => undefined);
    expect(pendingTimers()).toBe(before + 1);
    queue.clear(again);
    await nextTick();
    expect(pendingTimers()).toBe(before);
  });

  it('keeps holding the process when a deadline is scheduled again before the tick', async () => {
    const before = pendingTimers();
    const queue = new DeadlineQueue(60_000);
    queue.clear(queue.add(() => undefined));
    const pending = queue.add(() => undefined); // before the tick: the timer was never let go
    await nextTick();
    expect(pendingTimers()).toBe(before + 1);
    queue.clear(pending);
    await nextTick();
    expect(pendingTimers()).toBe(before);
  });
});
