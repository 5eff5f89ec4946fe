import { deepFreeze } from '../validation/deep-freeze.js';
import { OptionsValidator, typeOf } from '../validation/options.validator.js';

/** Which answers are stored and replayed: `'2xx-4xx'` (not 5xx nor our own rejections), or `'all'` (Stripe v1). */
export type IdempotencyReplay = '2xx-4xx' | 'all';

/** What a request does while another with the same key runs: `'reject'` (409), or wait up to `wait` ms for it. */
export type IdempotencyInFlight = 'reject' | { readonly wait: number };

/**
 * What `@Idempotent` does when its store cannot answer: `'deny'` (HTTP 503, never run a payment twice) or `'allow'`
 * (run the request without idempotency).
 */
export type IdempotencyStoreErrorMode = 'deny' | 'allow';

/** Options of `@Idempotent` (handlers use the first group, provider methods `key` and `rememberErrors`). */
export interface IdempotencyOptions {
  /** Milliseconds a completed answer is kept and replayed, at most 2^31 - 1. Default `86_400_000` (24 hours). */
  ttl: number;
  /**
   * Milliseconds the in-flight record (a lease) holds the key when no `@Timeout` bounds the call: a process that
   * dies mid-request blocks the key until then. Default: the `@Timeout` deadline (all attempts) plus 1 s, else
   * `60_000`.
   */
  lease?: number;
  /** Handlers: HTTP methods that are made idempotent (others run as usual). Default `['POST', 'PATCH']`. */
  methods: readonly string[];
  /** Handlers: a request without `Idempotency-Key` is a 400 (`true`) or runs without idempotency. Default `false`. */
  required: boolean;
  /**
   * Handlers: who owns the key, e.g. the authenticated user or tenant, so one client can never read another's
   * answer; records are always scoped by handler and method too. Default: none.
   */
  scope?: (...args: never[]) => string;
  /**
   * Handlers: what makes two requests "the same" besides method and path: the listed body fields, or a function of
   * the request. Default: the whole body, as canonical JSON (key order does not matter).
   */
  fingerprint?: readonly string[] | ((...args: never[]) => unknown);
  /**
   * Handlers: `'reject'` (409 with `Retry-After`), or `{ wait: ms }` for the first one's answer. Default `'reject'`.
   */
  onInFlight: IdempotencyInFlight;
  /** Which answers are stored. Default `'2xx-4xx'`. */
  replay: IdempotencyReplay;
  /** When the store cannot answer. Default `'deny'`. */
  onStoreError: IdempotencyStoreErrorMode;
  /** Provider methods: the key of a call, from its arguments (required there). */
  key?: (...args: never[]) => string;
  /** Provider methods: also remember a failed call's error and throw it again. Default `false`. */
  rememberErrors: boolean;
}

/** The lease when no `@Timeout` bounds the call. */
export const DEFAULT_IDEMPOTENCY_LEASE = 60_000;

/** Library defaults of `@Idempotent` (frozen). */
export const DEFAULT_IDEMPOTENCY_OPTIONS: Readonly<IdempotencyOptions> = deepFreeze({
  ttl: 86_400_000,
  methods: ['POST', 'PATCH'],
  required: false,
  onInFlight: 'reject',
  replay: '2xx-4xx',
  onStoreError: 'deny',
  rememberErrors: false,
});

/** Every option name of `@Idempotent`, for refusing unknown ones; the mapped type keeps it complete. */
const IDEMPOTENCY_OPTION_NAMES = Object.keys({
  ttl: true,
  lease: true,
  methods: true,
  required: true,
  scope: true,
  fingerprint: true,
  onInFlight: true,
  replay: true,
  onStoreError: true,
  key: true,
  rememberErrors: true,
} satisfies Record<keyof IdempotencyOptions, true>);

/** Throws a configuration error naming a bad option; returns the options normalized (numeric strings as numbers). */
export function validateIdempotencyOptions(
  options: IdempotencyOptions,
  validator: OptionsValidator,
): IdempotencyOptions {
  validator.knownOptions(options, IDEMPOTENCY_OPTION_NAMES);
  const { methods, fingerprint, onInFlight } = options;
  if (!Array.isArray(methods) || methods.length === 0 || methods.some((method) => typeof method !== 'string')) {
    validator.fail(
      'methods',
      methods,
      `must be a non-empty array of HTTP methods such as ['POST'], got ${typeOf(methods)}`,
    );
  }
  validator.optionalFunction('scope', options.scope);
  validator.optionalFunction('key', options.key);
  if (fingerprint !== undefined && typeof fingerprint !== 'function') {
    if (!Array.isArray(fingerprint) || fingerprint.some((field) => typeof field !== 'string')) {
      validator.fail(
        'fingerprint',
        fingerprint,
        `must be an array of body field names or a function, got ${typeOf(fingerprint)}`,
      );
    }
  }
  let inFlight: IdempotencyInFlight = 'reject';
  if (onInFlight !== 'reject') {
    if (typeof onInFlight !== 'object' || onInFlight === null || !('wait' in onInFlight)) {
      validator.fail('onInFlight', onInFlight, `must be "reject" or { wait: ms }, got ${typeOf(onInFlight)}`);
    }
    inFlight = { wait: validator.positiveDuration('onInFlight.wait', onInFlight.wait) };
  }
  return {
    ...options,
    methods: (methods as string[]).map((method) => method.toUpperCase()),
    ttl: validator.positiveDuration('ttl', options.ttl),
    lease: options.lease === undefined ? undefined : validator.positiveDuration('lease', options.lease),
    required: validator.boolean('required', options.required),
    onInFlight: inFlight,
    replay: validator.oneOf('replay', options.replay, ['2xx-4xx', 'all']),
    onStoreError: validator.oneOf('onStoreError', options.onStoreError, ['deny', 'allow']),
    rememberErrors: validator.boolean('rememberErrors', options.rememberErrors),
  };
}
