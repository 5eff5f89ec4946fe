import { BadGatewayException, Injectable, ServiceUnavailableException } from '@nestjs/common';

/** How the simulated downstream behaves; change it at runtime through `PUT /gateway`. */
export interface GatewayBehaviour {
  /** Milliseconds each call takes. */
  latencyMs: number;
  /** Share of calls that fail with 503, from 0 to 1. */
  failureRate: number;
  /** Share of charges that are made but whose answer is lost (the caller sees a 502), from 0 to 1. */
  lostResponseRate: number;
}

/**
 * An in-process stand-in for a third-party payment gateway: slow and flaky on demand. It honours an AbortSignal
 * the way `fetch` does, so a timeout really stops the work, and an idempotency key the way Stripe does: a charge
 * with a key it has seen returns the first receipt instead of charging again. Its answers can be lost after the
 * charge was made (`lostResponseRate`), the case where a retry without a key charges twice.
 */
@Injectable()
export class PaymentGateway {
  readonly behaviour: GatewayBehaviour = {
    latencyMs: Number(process.env.GATEWAY_LATENCY_MS ?? 150),
    failureRate: Number(process.env.GATEWAY_FAILURE_RATE ?? 0.3),
    lostResponseRate: Number(process.env.GATEWAY_LOST_RESPONSE_RATE ?? 0),
  };
  /** Charges really made: what the customer's statement shows. */
  charges = 0;
  /** Receipts by idempotency key (the most recent 10,000, as a real gateway keeps keys for a while). */
  private readonly receipts = new Map<string, { id: string; amount: number }>();
  /** Calls that were abandoned through their signal before they finished. */
  aborted = 0;
  calls = 0;

  charge(amount: number, signal?: AbortSignal, idempotencyKey?: string): Promise<{ id: string; amount: number }> {
    this.calls++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        if (Math.random() < this.behaviour.failureRate) {
          reject(new ServiceUnavailableException('payment gateway is unavailable'));
          return;
        }
        const receipt = this.chargeOnce(amount, idempotencyKey);
        if (this.responseIsLost()) reject(new BadGatewayException('payment gateway answer lost'));
        else resolve(receipt);
      }, this.behaviour.latencyMs);
      const onAbort = () => {
        clearTimeout(timer);
        this.aborted++;
        reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Whether this answer is lost on its way back (the charge is made all the same). */
  responseIsLost(): boolean {
    return Math.random() < this.behaviour.lostResponseRate;
  }

  /** The receipt of the key's first charge, or a new charge. */
  private chargeOnce(amount: number, idempotencyKey: string | undefined): { id: string; amount: number } {
    const known = idempotencyKey === undefined ? undefined : this.receipts.get(idempotencyKey);
    if (known !== undefined) return known;
    const receipt = { id: `pay_${++this.charges}`, amount };
    if (idempotencyKey !== undefined) {
      this.receipts.set(idempotencyKey, receipt);
      if (this.receipts.size > 10_000) this.receipts.delete(this.receipts.keys().next().value!);
    }
    return receipt;
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
