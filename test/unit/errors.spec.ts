import { describe, expect, it } from 'vitest';
import { ResilienceError, ResilienceTimeoutError, TimeoutError } from '../../lib/index.js';
import { RedisStoreTimeoutError } from '../../lib/redis/index.js';

describe('library errors', () => {
  it('all share the base class with a stable code, the Redis store timeout included', () => {
    const error = new RedisStoreTimeoutError(50);
    expect(error).toBeInstanceOf(ResilienceError);
    expect(error).toMatchObject({
      code: 'STORE_TIMEOUT',
      policy: 'RedisStore',
      timeoutMs: 50,
      name: 'RedisStoreTimeoutError',
    });
  });

  it('export TimeoutError under an alias that does not clash with RxJS', () => {
    expect(ResilienceTimeoutError).toBe(TimeoutError);
  });
});
