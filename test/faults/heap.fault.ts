import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { describe, expect, it } from 'vitest';
import {
  Bulkhead,
  CircuitBreaker,
  Fallback,
  RateLimit,
  ResilienceEvents,
  ResilienceModule,
  Retry,
  Timeout,
} from '../../lib/index.js';
import { heapAfterGc, MB } from './measure.js';

const CALLS = 200_000;
const BATCH = 200;

@Injectable()
class Downstream {
  calls = 0;

  /** Every policy at once; one call in ten fails twice (retried, then replaced by the fallback). */
  @Fallback({ value: 'fallback' })
  @Retry({ maxAttempts: 2, initialDelay: 0, jitter: 'none' })
  @CircuitBreaker({ failureRateThreshold: 90, minimumCalls: 50, windowSize: 100 })
  @RateLimit({ limit: 1e9, interval: 1000, key: (n: number) => `tenant-${n % 50}` })
  @Timeout(1000)
  @Bulkhead({ maxConcurrent: 50, maxQueue: BATCH })
  async call(n: number): Promise<string> {
    this.calls++;
    if (n % 10 === 0) throw new Error('flaky');
    return 'ok';
  }

  /**
   * A limit that refuses most calls, answered by the fallback: 100 an hour, so no token refills during the run,
   * however slow the machine.
   */
  @Fallback({ value: 'limited' })
  @RateLimit({ limit: 100, interval: 3_600_000 })
  async quota(): Promise<string> {
    return 'ok';
  }
}

@Module({ imports: [ResilienceModule.forRoot()], providers: [Downstream] })
class AppModule {}

describe('200k mixed calls', () => {
  it('keep the heap flat after GC and answer every call', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    const app = await moduleRef.init();
    const downstream = app.get(Downstream);
    const answers = new Map<string, number>();
    let heapAtWarm = 0;
    let timeouts = 0;
    app.get(ResilienceEvents).subscribe((event) => {
      if (event.type === 'timeout') timeouts++;
    });
    for (let done = 0; done < CALLS; done += BATCH) {
      const results = await Promise.all(
        Array.from({ length: BATCH }, (_, i) => (i % 20 === 0 ? downstream.quota() : downstream.call(done + i))),
      );
      for (const result of results) answers.set(result, (answers.get(result) ?? 0) + 1);
      if (done === 20_000) heapAtWarm = heapAfterGc();
    }
    const grown = heapAfterGc() - heapAtWarm;
    await app.close();
    expect([...answers.values()].reduce((sum, count) => sum + count, 0)).toBe(CALLS);
    // The limit of 100 an hour held exactly: every quota call past the first 100 was refused.
    expect(answers.get('limited')).toBe(CALLS / 20 - 100);
    expect(answers.get('fallback')).toBeGreaterThan(0);
    expect(timeouts).toBe(0); // nothing waited for the 1 s deadline
    expect(grown).toBeLessThan(4 * MB);
  });
});
