import { getEventListeners } from 'node:events';
import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  Bulkhead,
  CallAbortedError,
  getTimeoutSignal,
  ResilienceModule,
  ResilienceRegistry,
  ResilienceService,
  Retry,
  withSignal,
} from '../../lib/index.js';

/** Work that honours a signal: rejects with its reason when aborted. */
function sleep(ms: number, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve('done'), ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    });
  });
}

@Injectable()
class Reports {
  calls = 0;

  @Retry({ maxAttempts: 3, initialDelay: 1_000, jitter: 'none' })
  @Bulkhead('reports')
  async build(ms: number): Promise<string> {
    this.calls++;
    return sleep(ms, getTimeoutSignal()!);
  }
}

const apps: { close(): Promise<void> }[] = [];
afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

async function boot() {
  @Module({
    imports: [ResilienceModule.forRoot({ bulkheads: { reports: { maxConcurrent: 1, maxQueue: 5 } } })],
    providers: [Reports],
  })
  class AppModule {}
  const app = await Test.createTestingModule({ imports: [AppModule] }).compile();
  await app.init();
  apps.push(app);
  return { app, resilience: app.get(ResilienceService), registry: app.get(ResilienceRegistry) };
}

const listeners = (signal: AbortSignal) => getEventListeners(signal, 'abort').length;

describe("a caller's own AbortSignal, as a Nest user passes it", () => {
  it('ResilienceService.execute(options, fn, { signal }) aborts the attempt and rejects at once', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] });
    const { resilience } = await boot();
    const controller = new AbortController();
    const seen: AbortSignal[] = [];
    const result = resilience
      .execute(
        { retry: { maxAttempts: 3 }, timeout: 10_000 },
        ({ signal }) => (seen.push(signal), sleep(5_000, signal)),
        {
          signal: controller.signal,
        },
      )
      .catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(100);
    controller.abort();
    const error = await result;
    expect(error).toBeInstanceOf(CallAbortedError);
    expect(error).toMatchObject({ code: 'ABORTED', name: 'AbortError' });
    expect(seen).toHaveLength(1);
    expect(seen[0].aborted).toBe(true);
    expect(listeners(controller.signal)).toBe(0);
  });

  it('a pipeline built once takes a signal per call; a call that ends removes its listener', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] });
    const { resilience } = await boot();
    const pipeline = resilience.pipeline({ name: 'p', retry: { maxAttempts: 2, initialDelay: 500, jitter: 'none' } });
    const controller = new AbortController();
    await expect(pipeline.execute(() => 'fine', { signal: controller.signal })).resolves.toBe('fine');
    expect(listeners(controller.signal)).toBe(0);
    let calls = 0;
    const failing = pipeline
      .execute(
        () => {
          calls++;
          throw new Error('down');
        },
        { signal: controller.signal },
      )
      .catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(100); // in the backoff
    controller.abort();
    expect(await failing).toBeInstanceOf(CallAbortedError);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(calls).toBe(1);
    await expect(pipeline.execute(() => 'x', { signal: 'nope' as never })).rejects.toThrow(/must be an AbortSignal/);
  });

  it('withSignal(signal, () => service.method()) reaches a decorated method: queue wait and backoff end', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] });
    const { app, registry } = await boot();
    const reports = app.get(Reports);
    const running = reports.build(1_000);
    const controller = new AbortController();
    const queued = withSignal(controller.signal, () => reports.build(10)).catch((error: unknown) => error);
    expect(registry.bulkheads.get('reports').snapshot()).toMatchObject({ active: 1, queued: 1 });
    controller.abort(new Error('client left'));
    const error = (await queued) as CallAbortedError;
    expect(error).toBeInstanceOf(CallAbortedError);
    expect((error.cause as Error).message).toBe('client left');
    expect(registry.bulkheads.get('reports').snapshot()).toMatchObject({ active: 1, queued: 0 });
    await vi.advanceTimersByTimeAsync(1_000);
    await expect(running).resolves.toBe('done');
    expect(reports.calls).toBe(1);
    expect(listeners(controller.signal)).toBe(0);
  });
});
