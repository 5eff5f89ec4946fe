import { ResilienceError } from './resilience.error.js';

/** Which key or scope function yielded a value that is not a key. */
export type InvalidKeySource = 'idempotency-key' | 'idempotency-scope' | 'rate-limit-key' | 'bulkhead-key';

const FUNCTION_NAMES: Record<InvalidKeySource, string> = {
  'idempotency-key': '@Idempotent key',
  'idempotency-scope': '@Idempotent scope',
  'rate-limit-key': 'rate-limit key',
  'bulkhead-key': 'bulkhead key',
};

/**
 * A key or scope function returned something that is not a key: `undefined`, `null`, `''`, an object (plain
 * object, array, `Map`, class instance), a boolean, a symbol, a function, `NaN` or `Infinity` (`INVALID_KEY`). Keys
 * are data, never `String(x)`: `"undefined"` or `"[object Object]"` would be one key that unrelated calls or users
 * share. A key is a non-empty string, a finite number or a bigint. Only that call is refused; HTTP answers 500 (the
 * key function is the application's code, not the client's request), RPC, WebSocket and GraphQL clients get the code.
 */
export class InvalidKeyError extends ResilienceError {
  readonly code = 'INVALID_KEY' as const;

  constructor(
    policy: string,
    /** Which function returned it: `idempotency-key`, `idempotency-scope`, `rate-limit-key` or `bulkhead-key`. */
    readonly source: InvalidKeySource,
    /** What it returned, described (`undefined`, `an object (Map)` ...); never the value itself. */
    readonly returned: string,
  ) {
    super(
      `The ${FUNCTION_NAMES[source]} function of "${policy}" returned ${returned}; a key must be a non-empty ` +
        'string, a finite number or a bigint',
      policy,
    );
  }
}
