import { Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { describe, expect, it, vi } from 'vitest';
import { ResilienceModule } from '../../lib/index.js';
import { PaymentGateway } from '../../sample/shared/payment-gateway.js';
import { PaymentsModule } from '../../sample/shared/payments.module.js';
import { PaymentsService } from '../../sample/shared/payments.service.js';
import { gatewayPolicies } from '../../sample/shared/resilience.options.js';

@Module({ imports: [ResilienceModule.forRoot(gatewayPolicies), PaymentsModule] })
class SampleModule {}

describe('the sample payment flow with lost gateway answers', () => {
  it('charges each payment exactly once although retries repeat the calls whose answer was lost', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [SampleModule] }).compile();
    const app = await moduleRef.createNestApplication({ logger: false }).init();
    try {
      const gateway = app.get(PaymentGateway);
      Object.assign(gateway.behaviour, { latencyMs: 1, failureRate: 0, lostResponseRate: 0 });
      // Every third answer is lost after the charge was made: the caller sees a 502 and @Retry tries again.
      let answers = 0;
      vi.spyOn(gateway, 'responseIsLost').mockImplementation(() => ++answers % 3 === 1);
      const payments = app.get(PaymentsService);
      const receipts = [];
      for (let amount = 1; amount <= 12; amount++) receipts.push(await payments.charge(amount));
      expect(gateway.calls).toBeGreaterThan(12); // the lost answers were retried
      expect(gateway.charges).toBe(12); // but no payment was charged twice
      expect(new Set(receipts.map((receipt) => receipt.id)).size).toBe(12);
      expect(receipts.map((receipt) => receipt.amount)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    } finally {
      await app.close();
    }
  });

  it('control, no library code: without the key the gateway alone charges a lost answer twice', async () => {
    const gateway = new PaymentGateway();
    Object.assign(gateway.behaviour, { latencyMs: 1, failureRate: 0, lostResponseRate: 0 });
    vi.spyOn(gateway, 'responseIsLost').mockReturnValueOnce(true).mockReturnValue(false);
    await expect(gateway.charge(5)).rejects.toThrow('answer lost');
    await gateway.charge(5); // the retry, without a key
    expect(gateway.charges).toBe(2);
    vi.spyOn(gateway, 'responseIsLost').mockReturnValueOnce(true).mockReturnValue(false);
    await expect(gateway.charge(5, undefined, 'key-1')).rejects.toThrow('answer lost');
    await gateway.charge(5, undefined, 'key-1');
    expect(gateway.charges).toBe(3);
  });
});
