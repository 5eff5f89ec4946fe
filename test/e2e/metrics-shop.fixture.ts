import { HttpException, Injectable } from '@nestjs/common';
import { Bulkhead, CircuitBreaker, Retry, type ResilienceModuleOptions } from '../../lib/index.js';

/** The service both exporter specs (Prometheus, OpenTelemetry) measure: a retried, guarded, bulkheaded gateway. */
@Injectable()
export class Gateway {
  @Retry({ maxAttempts: 2, initialDelay: 0 })
  @CircuitBreaker('gateway')
  @Bulkhead('db')
  async charge(ok: boolean): Promise<{ charged: boolean }> {
    if (!ok) throw new HttpException('gateway down', 502);
    return { charged: true };
  }

  /** Holds a bulkhead slot until `until` settles, to read the active gauge. */
  @Bulkhead('db')
  async hold(until: Promise<void>): Promise<void> {
    await until;
  }
}

/** The named policies the exporter specs read back as metrics. */
export const SHOP_RESILIENCE_OPTIONS: ResilienceModuleOptions = {
  circuitBreakers: { gateway: { consecutiveFailures: 2, openDuration: 60_000 } },
  bulkheads: { db: { maxConcurrent: 4 } },
  rateLimits: { api: { limit: 4, interval: 60_000, key: 'global' } },
};
