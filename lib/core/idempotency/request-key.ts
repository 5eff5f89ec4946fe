import { AsyncLocalStorage } from 'node:async_hooks';
import { hash } from 'node:crypto';

/*
 * One key per inbound request, in every nested call and every attempt. A handler that received an `Idempotency-Key`
 * runs inside a `RequestKeyScope`; every decorated call it makes reads its own downstream key from it:
 *
 *   request key = base64url(SHA-256("nest-resilience:request\0" + scoped record key))
 *   call key    = base64url(SHA-256(request key + "\0" + Class.method + "\0" + n))
 *
 * The scoped record key is what the store holds (handler, HTTP method, scope, the client's key), so two users' equal
 * keys never meet downstream, and the digest sends neither the scope nor the client's key to a third party. `n`
 * counts the calls of that target made by this attempt of the handler (1, 2 ...): the same code run again (the
 * client's retry after a 5xx or 504, a handler-level @Retry attempt, a hedged attempt) makes the same calls in the same
 * order and so sends the same keys, while two charges made on purpose in one request get two. Every @Retry attempt
 * and every hedged attempt of one call shares that call's key (the invocation keeps it).
 */

/** The prefix that keeps request keys apart from any other digest of the same text. */
const REQUEST_KEY_DOMAIN = 'nest-resilience:request\u0000';

/**
 * The downstream key of the `occurrence`th call (1 for the first) to `target` (`Class.method`) made while serving a
 * request whose key is `requestKey`: 43 base64url characters, a valid `Idempotency-Key` anywhere (no quote, comma
 * or space). Deterministic, so an HTTP client can derive the same key for its own calls.
 * @internal
 */
export function deriveIdempotencyKey(requestKey: string, target: string, occurrence: number): string {
  return hash('sha256', `${requestKey}\u0000${target}\u0000${occurrence}`, 'base64url');
}

/**
 * The key of one inbound request, from its scoped record key (see `IdempotencyRecordKeys`): what
 * `getIdempotencyKey()` returns in the handler itself.
 * @internal
 */
export function requestIdempotencyKey(recordKey: string): string {
  return hash('sha256', REQUEST_KEY_DOMAIN + recordKey, 'base64url');
}

/**
 * The request key as one attempt of a handler sees it, with the count of calls made so far per target. One per
 * handler attempt (and hedged attempt), so a re-run of the handler numbers its calls from 1 again.
 * @internal
 */
export class RequestKeyScope {
  private counts: Map<string, number> | undefined;
  private digest: string | undefined;

  constructor(
    /** The scoped record key of the request; hashed only when a key is read. */
    private readonly recordKey: string,
  ) {}

  /** The request's own key. */
  get key(): string {
    return (this.digest ??= requestIdempotencyKey(this.recordKey));
  }

  /** A scope for another attempt of the same request: same key, calls counted from 1 again. */
  renewed(): RequestKeyScope {
    const scope = new RequestKeyScope(this.recordKey);
    scope.digest = this.digest;
    return scope;
  }

  /** The key of the next call to `target` made by this attempt. */
  nextCallKey(target: string): string {
    const counts = (this.counts ??= new Map<string, number>());
    const occurrence = (counts.get(target) ?? 0) + 1;
    counts.set(target, occurrence);
    return deriveIdempotencyKey(this.key, target, occurrence);
  }
}

/**
 * The request key scope of the handler attempt running now; entered only for requests that carry an
 * `Idempotency-Key` to an `@Idempotent` handler.
 * @internal
 */
export const requestKeys = new AsyncLocalStorage<RequestKeyScope>();
