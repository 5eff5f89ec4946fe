import { Injectable, ServiceUnavailableException } from '@nestjs/common';

/** How the simulated downstream behaves; change it at runtime through `PUT /gateway`. */
export interface GatewayBehaviour {
  /** Milliseconds each call takes. */
  latencyMs: number;
  /** Share of calls that fail with 503, from 0 to 1. */
  failureRate: number;
}

/**
 * An in-process stand-in for a third-party payment gateway: slow and flaky on demand. It honours an AbortSignal
 * the way `fetch` does, so a timeout really stops the work.
 */
@Injectable()
export class PaymentGateway {
  readonly behaviour: GatewayBehaviour = {
    latencyMs: Number(process.env.GATEWAY_LATENCY_MS ?? 150),
    failureRate: Number(process.env.GATEWAY_FAILURE_RATE ?? 0.3),
  };
  /** Calls that were abandoned through their signal before they finished. */
  aborted = 0;
  calls = 0;

  charge(amount: number, signal?: AbortSignal): Promise<{ id: string; amount: number }> {
    const id = `pay_${++this.calls}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        if (Math.random() < this.behaviour.failureRate) {
          reject(new ServiceUnavailableException('payment gateway is unavailable'));
        } else {
          resolve({ id, amount });
        }
      }, this.behaviour.latencyMs);
      const onAbort = () => {
        clearTimeout(timer);
        this.aborted++;
        reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Exchange rate of `currency` against the dollar. */
  rate(currency: string): Promise<number> {
    this.calls++;
    return new Promise((resolve, reject) =>
      setTimeout(() => {
        if (Math.random() < this.behaviour.failureRate) reject(new ServiceUnavailableException('rates unavailable'));
        else resolve(currency === 'EUR' ? 0.92 : 1);
      }, this.behaviour.latencyMs),
    );
  }
}
