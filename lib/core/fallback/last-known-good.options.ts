import { deepFreeze } from '../validation/deep-freeze.js';
import type { OptionsValidator } from '../validation/options.validator.js';
import { withoutUndefined } from '../validation/without-undefined.js';
import { MAX_MEMORY_BYTES, MAX_MEMORY_ENTRIES } from '../validation/size-maxima.js';

/** Options of a last-known-good step of `@Fallback` (`{ lastKnownGood: { maxAge: 60_000 } }`). */
export interface LastKnownGoodOptions {
  /** Milliseconds a remembered answer may be served after the primary produced it. Required. */
  maxAge: number;
  /**
   * The call key answers are remembered under. Services: a function of the method's arguments, default the
   * arguments as JSON. Handlers: a function of the `ExecutionContext`; required unless `shared` is true.
   */
  key?: (...args: never[]) => string | undefined;
  /**
   * Handlers only: the answer depends on the request's route, parameters and body alone, never on who asks, so the
   * default key (HTTP method and URL; the message, event or GraphQL arguments) may serve it to anyone. Default `false`.
   */
  shared?: boolean;
  /** The cache's name; methods naming the same cache share its answers. Default: `Class.method`. */
  name?: string;
  /**
   * A key's remembered answer is replaced at most once per this many ms (at most `maxAge / 2`), so that a busy key
   * costs a Map lookup per success, not a serialization and a store write. `0` remembers every success. Default `1000`.
   */
  refreshInterval?: number;
  /** Memory store: at most this many remembered keys (least recently used evicted), up to 1,000,000. Default `1000`. */
  maxEntries?: number;
  /**
   * Memory store: at most this many bytes of keys and JSON (least recently used evicted), up to 1 GiB.
   * Default 8 MiB.
   */
  maxBytes?: number;
}

/** A validated last-known-good configuration. */
export interface ResolvedLastKnownGoodOptions {
  readonly maxAge: number;
  readonly key: ((...args: never[]) => string | undefined) | undefined;
  readonly shared: boolean;
  readonly name: string | undefined;
  readonly refreshInterval: number;
  readonly maxEntries: number;
  readonly maxBytes: number;
}

/** Library defaults of a last-known-good step (`maxAge` has none: how stale is acceptable is the caller's call). */
export const DEFAULT_LAST_KNOWN_GOOD_OPTIONS = deepFreeze({
  shared: false,
  refreshInterval: 1000,
  maxEntries: 1000,
  maxBytes: 8 * 1024 * 1024,
});

const LAST_KNOWN_GOOD_OPTION_NAMES = ['maxAge', 'key', 'shared', 'name', 'refreshInterval', 'maxEntries', 'maxBytes'];

/** Checks a last-known-good step's options; returns them normalized (numeric strings as numbers). */
export function validateLastKnownGoodOptions(
  options: Partial<LastKnownGoodOptions>,
  validator: OptionsValidator,
): ResolvedLastKnownGoodOptions {
  validator.objectOptions('lastKnownGood', options, '{ maxAge: 60_000 }', LAST_KNOWN_GOOD_OPTION_NAMES);
  if (options.maxAge === undefined) validator.fail('maxAge', undefined, 'is required: how old an answer may be (ms)');
  validator.optionalFunction('key', options.key);
  if (options.name !== undefined && (typeof options.name !== 'string' || options.name === '')) {
    validator.fail('name', options.name, 'must be a non-empty string');
  }
  const merged = { ...DEFAULT_LAST_KNOWN_GOOD_OPTIONS, ...withoutUndefined(options) };
  const maxAge = validator.positiveDuration('maxAge', merged.maxAge);
  const refreshInterval = validator.nonNegativeDuration('refreshInterval', merged.refreshInterval);
  return {
    maxAge,
    refreshInterval: Math.min(refreshInterval, maxAge / 2),
    key: options.key,
    shared: validator.boolean('shared', merged.shared),
    name: options.name,
    maxEntries: validator.boundedInteger('maxEntries', merged.maxEntries, 1, MAX_MEMORY_ENTRIES),
    maxBytes: validator.boundedInteger('maxBytes', merged.maxBytes, 1, MAX_MEMORY_BYTES),
  };
}
