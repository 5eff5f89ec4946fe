/**
 * A decorated method receives exactly its caller's receiver and arguments, however many (the call is written out for
 * the common arities and goes through `apply` beyond them: see `invokeAsActive`), on both paths.
 */
import { lastValueFrom, of, type Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { RetryPolicy } from '../../lib/core/retry/retry.policy.js';
import { DEFAULT_RETRY_OPTIONS } from '../../lib/core/retry/retry.options.js';
import { TimeoutPolicy } from '../../lib/core/timeout/timeout.policy.js';
import { resilient } from './policy-harness.js';

interface Seen {
  receiver: unknown;
  count: number;
  args: unknown[];
}

const receiver = { name: 'the service' };
const arities = [0, 1, 2, 3, 4, 7];
const argumentsOf = (count: number) =>
  Array.from({ length: count }, (_, index) => (index === 1 ? undefined : { index }));

describe('a decorated method gets its caller receiver and arguments', () => {
  it.each(arities)('with %i arguments, on the Promise path (fused and as steps)', async (count) => {
    for (const policies of [
      // A lone timeout is fused; a retry alone runs as its own step.
      (events: never) => [new TimeoutPolicy('t', 1000, 'attempt', events)],
      (events: never) => [new RetryPolicy('r', { ...DEFAULT_RETRY_OPTIONS, maxAttempts: 1 }, events)],
    ]) {
      const seen: Seen[] = [];
      const { call } = resilient(function method(this: unknown, ...args: unknown[]): Promise<number> {
        seen.push({ receiver: this, count: arguments.length, args });
        return Promise.resolve(args.length);
      }, policies as never);
      const given = argumentsOf(count);
      await expect(call.apply(receiver, given)).resolves.toBe(count);
      expect(seen).toEqual([{ receiver, count, args: given }]);
      expect(seen[0].args.every((arg, index) => arg === given[index])).toBe(true);
    }
  });

  it.each(arities)('with %i arguments, on the Observable path', async (count) => {
    const seen: Seen[] = [];
    const { call } = resilient(
      function method(this: unknown, ...args: unknown[]): Observable<number> {
        seen.push({ receiver: this, count: arguments.length, args });
        return of(args.length);
      },
      (events) => [new TimeoutPolicy('t', 1000, 'attempt', events)],
      'observable',
    );
    const given = argumentsOf(count);
    const result = call.apply(receiver, given);
    await expect(lastValueFrom(result)).resolves.toBe(count);
    expect(seen).toEqual([{ receiver, count, args: given }]);
  });
});
