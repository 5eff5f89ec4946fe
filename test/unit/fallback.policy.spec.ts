import { firstValueFrom, of, throwError } from 'rxjs';
import { describe, expect, it, vi } from 'vitest';
import { ResilienceEvents } from '../../lib/index.js';
import { FallbackPolicy, type FallbackHandler } from '../../lib/core/fallback/fallback.policy.js';
import { resilient } from './policy-harness.js';

const boom = async (_id: number): Promise<string> => {
  throw new Error('boom');
};

function withFallback(handler: FallbackHandler, when?: (error: unknown) => boolean) {
  return (bus: ResilienceEvents) => [new FallbackPolicy('fb', handler, when, bus)];
}

describe('FallbackPolicy', () => {
  it('answers with the fallback, given the error and the original arguments', async () => {
    const handler = vi.fn((error: unknown, invocation: { args: readonly unknown[] }) => [
      (error as Error).message,
      ...invocation.args,
    ]);
    const { call, events } = resilient(boom, withFallback(handler));
    await expect(call(7)).resolves.toEqual(['boom', 7]);
    expect(events).toEqual([expect.objectContaining({ type: 'fallback', policy: 'fb' })]);
  });

  it('accepts a Promise or an Observable from the fallback', async () => {
    await expect(
      resilient(
        boom,
        withFallback(async () => 'later'),
      ).call(1),
    ).resolves.toBe('later');
    await expect(
      resilient(
        boom,
        withFallback(() => of('streamed')),
      ).call(1),
    ).resolves.toBe('streamed');
  });

  it('lets errors that `when` rejects through untouched', async () => {
    const { call, events } = resilient(
      boom,
      withFallback(
        () => 'never',
        (error) => (error as Error).message === 'other',
      ),
    );
    await expect(call(1)).rejects.toThrow('boom');
    expect(events).toHaveLength(0);
  });

  it("surfaces the fallback's own failure", async () => {
    const { call } = resilient(
      boom,
      withFallback(() => {
        throw new Error('fallback broke');
      }),
    );
    await expect(call(1)).rejects.toThrow('fallback broke');
  });

  it('does not run on success', async () => {
    const handler = vi.fn();
    const { call } = resilient(async () => 'fine', withFallback(handler));
    await expect(call()).resolves.toBe('fine');
    expect(handler).not.toHaveBeenCalled();
  });

  it('replaces an Observable error with the fallback result', async () => {
    const { call } = resilient(
      () => throwError(() => new Error('stream failed')),
      withFallback(async () => 'cached'),
      'observable',
    );
    await expect(firstValueFrom(call())).resolves.toBe('cached');
  });
});

describe('ResilienceEvents', () => {
  it('reports no listeners until one subscribes, and stops delivering after unsubscribe', () => {
    const events = new ResilienceEvents();
    expect(events.observed).toBe(false);
    const seen: string[] = [];
    const unsubscribe = events.subscribe((event) => seen.push(event.type));
    expect(events.observed).toBe(true);
    events.emit({ type: 'fallback', policy: 'p', target: { className: 'A', methodName: 'b' }, error: null, step: 0 });
    unsubscribe();
    events.emit({ type: 'fallback', policy: 'p', target: { className: 'A', methodName: 'b' }, error: null, step: 0 });
    expect(seen).toEqual(['fallback']);
    expect(events.observed).toBe(false);
  });

  it('keeps delivering when a listener throws', () => {
    const events = new ResilienceEvents();
    const spy = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const seen: string[] = [];
    events.subscribe(() => {
      throw new Error('bad listener');
    });
    events.subscribe((event) => seen.push(event.type));
    events.emit({ type: 'fallback', policy: 'p', target: { className: 'A', methodName: 'b' }, error: null, step: 0 });
    expect(seen).toEqual(['fallback']);
    expect(spy).toHaveBeenCalledOnce();
    spy.mockRestore();
  });

  it('is observable with RxJS', async () => {
    const events = new ResilienceEvents();
    const first = firstValueFrom(events.asObservable());
    events.emit({ type: 'fallback', policy: 'p', target: { className: 'A', methodName: 'b' }, error: null, step: 0 });
    await expect(first).resolves.toMatchObject({ type: 'fallback' });
    expect(events.observed).toBe(false);
  });
});
