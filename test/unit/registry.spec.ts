import { describe, expect, it } from 'vitest';
import { ResilienceError, ResilienceEvents, ResilienceRegistry, UnknownPolicyError } from '../../lib/index.js';
import { DEFAULT_CIRCUIT_BREAKER_OPTIONS } from '../../lib/core/circuit-breaker/circuit-breaker.options.js';

describe('ResilienceRegistry', () => {
  const options = { ...DEFAULT_CIRCUIT_BREAKER_OPTIONS, consecutiveFailures: 1 };

  it('shares one circuit per name', () => {
    const registry = new ResilienceRegistry(new ResilienceEvents());
    expect(registry.circuitBreakerFor('payments', options)).toBe(registry.circuitBreakerFor('payments', options));
    expect(registry.circuitBreakers.list().map((breaker) => breaker.name)).toEqual(['payments']);
  });

  it('controls breakers by name and names the known ones when asked for an unknown one', () => {
    const registry = new ResilienceRegistry(new ResilienceEvents());
    registry.circuitBreakerFor('payments', options);
    registry.circuitBreakers.forceOpen('payments');
    expect(registry.circuitBreakers.list()[0]).toMatchObject({ state: 'forced_open' });
    registry.circuitBreakers.disable('payments');
    expect(registry.circuitBreakers.list()[0]).toMatchObject({ state: 'disabled' });
    registry.circuitBreakers.forceClose('payments');
    expect(registry.circuitBreakers.list()[0]).toMatchObject({ state: 'closed' });
    expect(() => registry.circuitBreakers.reset('paymnets')).toThrow(
      expect.objectContaining({
        code: 'UNKNOWN_POLICY',
        policy: 'paymnets',
        message: 'No circuit breaker named "paymnets". Did you mean "payments"? Known: "payments"',
      }) as Error,
    );
    expect(() => registry.circuitBreakers.forceOpen('paymnets')).toThrow(UnknownPolicyError);
    expect(() => registry.circuitBreakers.forceOpen('paymnets')).toThrow(ResilienceError);
  });

  it('restores saved states into a new registry and reports names it does not know', () => {
    const before = new ResilienceRegistry(new ResilienceEvents());
    const circuit = before.circuitBreakerFor('payments', options);
    circuit.onFailure(circuit.acquire(), new Error('down'), 0);
    const saved = before.circuitBreakers.save();

    const after = new ResilienceRegistry(new ResilienceEvents());
    after.circuitBreakerFor('payments', options);
    expect(after.circuitBreakers.restore([...saved, { name: 'gone', state: 'open', openDuration: 1 }])).toEqual([
      'gone',
    ]);
    expect(after.circuitBreakers.list()[0]).toMatchObject({ state: 'open' });
  });
});
