import { firstValueFrom, lastValueFrom, of, Subject, throwError, type Observable } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ResilienceEvents, type ResilienceEvent } from '../../lib/index.js';
import { DEFAULT_RETRY_OPTIONS } from '../../lib/core/retry/retry.options.js';
import { CallEventsPolicy } from '../../lib/core/events/call-events.policy.js';
import { createResilientMethod } from '../../lib/core/pipeline/resilient-method.js';
import { RetryPolicy } from '../../lib/core/retry/retry.policy.js';

const target = { className: 'Orders', methodName: 'find' };

describe('ResilienceEvents.on', () => {
  it('delivers one type, typed; subscribe() never gets the per-call events; flags follow the listeners', () => {
    const events = new ResilienceEvents();
    expect(events.observed).toBe(false);
    expect(events.callsObserved).toBe(false);
    const everything: ResilienceEvent[] = [];
    const stopAll = events.subscribe((event) => everything.push(event));
    expect(events.callsObserved).toBe(false);
    const durations: number[] = [];
    const stopCalls = events.on('call-success', (event) => durations.push(event.duration));
    expect(events.callsObserved).toBe(true);
    events.emit({ type: 'call-success', policy: 'Orders.find', target, attempts: 1, duration: 5, fallback: false });
    events.emit({ type: 'hedge', policy: 'h', target, hedge: 1, delay: 10 });
    expect(durations).toEqual([5]);
    expect(everything.map((event) => event.type)).toEqual(['hedge']);
    stopCalls();
    stopCalls(); // twice is harmless
    expect(events.callsObserved).toBe(false);
    stopAll();
    expect(events.observed).toBe(false);
    const stopGiveUps = events.on('retry-give-up', () => undefined);
    expect(events.observed).toBe(true);
    expect(events.callsObserved).toBe(false);
    stopGiveUps();
    expect(events.observed).toBe(false);
  });
});

describe('call-success and call-failure', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('report what the caller got, with attempts and duration, on both paths; nothing unless listened', async () => {
    for (const shape of ['promise', 'observable'] as const) {
      const events = new ResilienceEvents();
      let calls = 0;
      const method = () => {
        calls++;
        const fail = calls === 1 || calls === 3 || calls === 4;
        if (shape === 'observable') return fail ? throwError(() => new Error('down')) : of('ok');
        return fail ? Promise.reject(new Error('down')) : Promise.resolve('ok');
      };
      const policies = [
        new CallEventsPolicy('Orders.find', events),
        new RetryPolicy('r', { ...DEFAULT_RETRY_OPTIONS, maxAttempts: 2, initialDelay: 50, jitter: 'none' }, events),
      ];
      const call = createResilientMethod(method, target, policies, shape);
      const run = () => {
        const result = call();
        return shape === 'promise' ? (result as Promise<unknown>) : lastValueFrom(result as Observable<unknown>);
      };
      const seen: ResilienceEvent[] = [];
      const unheard = run(); // nobody listens yet: nothing is built
      await vi.runAllTimersAsync();
      await unheard;
      events.on('call-success', (event) => seen.push(event));
      events.on('call-failure', (event) => seen.push(event));
      const failed = run().catch((error: unknown) => error);
      await vi.runAllTimersAsync();
      expect(await failed).toEqual(new Error('down'));
      expect(seen).toEqual([
        expect.objectContaining({ type: 'call-failure', policy: 'Orders.find', attempts: 2, duration: 50 }),
      ]);
      expect((seen[0] as { error: unknown }).error).toEqual(new Error('down'));
      seen.length = 0;
      calls = 4; // the next call answers at once
      await expect(run()).resolves.toBe('ok');
      expect(seen).toEqual([
        expect.objectContaining({ type: 'call-success', attempts: 1, duration: 0, fallback: false, target }),
      ]);
    }
  });

  it('on an Observable: a value then an unsubscribe is a success, an unsubscribe before a value nothing', async () => {
    const events = new ResilienceEvents();
    const seen: ResilienceEvent[] = [];
    events.on('call-success', (event) => seen.push(event));
    events.on('call-failure', (event) => seen.push(event));
    const values = new Subject<string>();
    const call = createResilientMethod(
      () => values,
      target,
      [new CallEventsPolicy('Orders.find', events)],
      'observable',
    );
    const taken = firstValueFrom(call() as Observable<unknown>);
    vi.advanceTimersByTime(30);
    values.next('first'); // firstValueFrom unsubscribes after its value
    expect(await taken).toBe('first');
    expect(seen).toEqual([expect.objectContaining({ type: 'call-success', duration: 30 })]);
    seen.length = 0;
    const abandoned = (call() as Observable<unknown>).subscribe();
    abandoned.unsubscribe();
    values.next('late');
    values.complete();
    expect(seen).toEqual([]);
    // Completing without a value is an answer too (an empty stream).
    await lastValueFrom(call() as Observable<unknown>, { defaultValue: 'none' });
    expect(seen).toEqual([expect.objectContaining({ type: 'call-success' })]);
  });
});
