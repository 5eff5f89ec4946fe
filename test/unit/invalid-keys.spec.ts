import { firstValueFrom, of } from 'rxjs';
import { describe, expect, it, vi } from 'vitest';
import { InvalidKeyError, ResilienceEvents, toHttpAnswer } from '../../lib/index.js';
import { DEFAULT_BULKHEAD_OPTIONS } from '../../lib/core/bulkhead/bulkhead.options.js';
import { BulkheadPolicy } from '../../lib/core/bulkhead/bulkhead.policy.js';
import { BulkheadState } from '../../lib/core/bulkhead/bulkhead.state.js';
import { keyFrom } from '../../lib/core/validation/key-data.js';
import { resilient } from './policy-harness.js';

/** What key and scope functions return by mistake, and how the error describes it. */
export const NOT_KEYS: readonly [string, unknown, string][] = [
  ['undefined', undefined, 'undefined'],
  ['null', null, 'null'],
  ["''", '', 'an empty string'],
  ['a plain object', { id: 1 }, 'an object (Object)'],
  ['an array', ['a'], 'an array'],
  ['a Map', new Map([['id', 1]]), 'an object (Map)'],
  ['a class instance', new (class Tenant {})(), 'an object (Tenant)'],
  ['NaN', Number.NaN, 'the number NaN'],
  ['Infinity', Number.POSITIVE_INFINITY, 'the number Infinity'],
  ['true', true, 'the boolean true (shared by every call that yields it)'],
  ['a symbol', Symbol('id'), 'a symbol'],
  ['a function', () => 'id', 'a function'],
];

describe('keyFrom: keys are data, never String(x)', () => {
  it.each([
    ['a non-empty string', 'tenant-1', 'tenant-1'],
    ['a finite number', 42, '42'],
    ['zero', 0, '0'],
    ['a negative fraction', -1.5, '-1.5'],
    ['a bigint', 12345678901234567890n, '12345678901234567890'],
  ])('accepts %s', (_name, value, key) => {
    expect(keyFrom(value, 'Orders.create', 'rate-limit-key')).toBe(key);
  });

  it.each(NOT_KEYS)(
    'refuses %s with INVALID_KEY, naming the function, the policy and what it returned',
    (_n, value, what) => {
      let caught: unknown;
      try {
        keyFrom(value, 'Orders.create', 'idempotency-scope');
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(InvalidKeyError);
      const error = caught as InvalidKeyError;
      expect(error).toMatchObject({ code: 'INVALID_KEY', policy: 'Orders.create', source: 'idempotency-scope' });
      expect(error.returned).toBe(what);
      expect(error.message).toBe(
        `The @Idempotent scope function of "Orders.create" returned ${what}; a key must be a non-empty string, a ` +
          'finite number or a bigint',
      );
    },
  );

  it('is answered on HTTP as a 500 carrying the code (the key function is the application, not the client)', () => {
    const answer = toHttpAnswer(new InvalidKeyError('quota', 'rate-limit-key', 'undefined'))!;
    expect(answer.exception.getStatus()).toBe(500);
    expect(answer.exception.getResponse()).toMatchObject({
      statusCode: 500,
      error: 'Internal Server Error',
      code: 'INVALID_KEY',
      policy: 'quota',
    });
    expect(answer.retryAfterSeconds).toBeUndefined();
  });
});

describe('a bulkhead whose key function returns no key', () => {
  const pool = (key: (tenant: unknown) => unknown) => {
    const state = new BulkheadState(
      'pool',
      { ...DEFAULT_BULKHEAD_OPTIONS, maxConcurrent: 1, key: key as (tenant: unknown) => string },
      new ResilienceEvents(),
    );
    return { state, policy: new BulkheadPolicy(state) };
  };

  it.each(NOT_KEYS)(
    'refuses that call when it returns %s (Promise and Observable), holding no slot',
    async (_n, value) => {
      const { state, policy } = pool((tenant) => tenant);
      const method = vi.fn(async (_tenant: unknown) => 'ok');
      const { call } = resilient(method, () => [policy]);
      await expect(call(value)).rejects.toMatchObject({ code: 'INVALID_KEY', policy: 'pool', source: 'bulkhead-key' });
      const observed = vi.fn((_tenant: unknown) => of('ok'));
      const observable = resilient(observed, () => [policy], 'observable');
      await expect(firstValueFrom(observable.call(value))).rejects.toBeInstanceOf(InvalidKeyError);
      expect(method).not.toHaveBeenCalled();
      expect(observed).not.toHaveBeenCalled();
      // No "undefined" or "[object Object]" compartment was made, and a call with a key still gets a slot.
      expect(state.snapshot().partitions).toBe(0);
      await expect(call('tenant-1')).resolves.toBe('ok');
      await expect(call(7)).resolves.toBe('ok');
    },
  );
});
