import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ResilienceModule, Timeout, TimeoutError } from '../../lib/index.js';

const downstream = { latency: 20 };

@Injectable()
class Gateway {
  @Timeout('gateway')
  async charge(): Promise<string> {
    await new Promise((resolve) => setTimeout(resolve, downstream.latency));
    return 'charged';
  }
}

function appModule(adaptive: object) {
  @Module({
    imports: [ResilienceModule.forRoot({ timeouts: { gateway: { duration: 1000, adaptive } } })],
    providers: [Gateway],
  })
  class GatewayModule {}
  return GatewayModule;
}

describe('adaptive @Timeout in an application', () => {
  afterEach(() => vi.useRealTimers());

  it('follows a named configuration: 20 ms calls bring the timeout from 1000 ms down to min', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [appModule({ percentile: 99, margin: 10, min: 50, minSamples: 5 })],
    }).compile();
    const app = await moduleRef.createNestApplication({ logger: false }).init();
    vi.useFakeTimers();
    const gateway = app.get(Gateway);
    const call = async () => {
      const settled = gateway.charge().catch((error: unknown) => error);
      await vi.advanceTimersByTimeAsync(downstream.latency);
      return settled;
    };
    downstream.latency = 20;
    for (let i = 0; i < 5; i++) expect(await call()).toBe('charged');
    await vi.advanceTimersByTimeAsync(1000);
    downstream.latency = 60; // over min (50 ms), which is what 20 + 10 was raised to
    const error = await call();
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ duration: 50, policy: 'gateway' });
    vi.useRealTimers();
    await app.close();
  });

  it('stops the bootstrap on a bad adaptive option, naming it', async () => {
    const moduleRef = Test.createTestingModule({ imports: [appModule({ percentile: 120 })] });
    await expect(
      moduleRef.compile().then((ref) => ref.createNestApplication({ logger: false }).init()),
    ).rejects.toThrow(/Invalid timeout option "adaptive.percentile" = 120 for policy "gateway"/);
  });
});
