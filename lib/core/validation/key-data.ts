import { InvalidKeyError, type InvalidKeySource } from '../errors/invalid-key.error.js';

/**
 * Keys are data, never `String(x)`: what a key or scope function returns, and what default keys are built from, is
 * checked here, so that `undefined`, `{}` or `[object Object]` never becomes a key that unrelated calls share.
 */

/**
 * The value a key or scope function returned, as the key: a non-empty string as it is, a finite number or a bigint
 * in decimal. Anything else throws an {@link InvalidKeyError} naming `policy` and what was returned. Booleans are
 * refused too: a key that is `true` or `false` puts every caller in one of two buckets, which is a bug far more often
 * than a partition (return `'premium'` / `'free'` when it is one). Called on every keyed call: a `typeof` switch
 * that allocates nothing for a string.
 */
export function keyFrom(value: unknown, policy: string, source: InvalidKeySource): string {
  switch (typeof value) {
    case 'string':
      if (value !== '') return value;
      break;
    case 'number':
      if (Number.isFinite(value)) return String(value);
      break;
    case 'bigint':
      return value.toString();
  }
  throw new InvalidKeyError(policy, source, keyValueProblem(value)!);
}

/** Why a value cannot be a key: `undefined` when it can. */
export function keyValueProblem(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return value === '' ? 'an empty string' : undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : `the number ${value}`;
    case 'bigint':
      return undefined;
    case 'undefined':
      return 'undefined';
    case 'object':
      if (value === null) return 'null';
      return Array.isArray(value) ? 'an array' : `an object (${constructorName(value)})`;
    case 'boolean':
      return `the boolean ${value} (shared by every call that yields it)`;
    default:
      return `a ${typeof value}`; // a symbol or a function
  }
}

/** Thrown inside {@link argumentsKey}'s walk: the arguments hold something that does not serialize as its data. */
class NotData extends Error {}

/**
 * The arguments as a key: their JSON, when every value in them is plain data (strings, finite numbers, booleans,
 * null, arrays, plain objects, or objects with a `toJSON`, such as `Date`). Otherwise `undefined`: a `Map`, a `Set`,
 * a class instance (with `#private` fields or not), a function or a symbol all serialize as `{}` or vanish, so two
 * different arguments would share one key.
 */
export function argumentsKey(args: readonly unknown[]): string | undefined {
  try {
    return JSON.stringify(args, checkData);
  } catch {
    return undefined; // not data, or not JSON at all (cycles, BigInt)
  }
}

/** JSON.stringify's replacer: `value` is after `toJSON`, so dates and objects that define their JSON pass. */
function checkData(this: unknown, _key: string, value: unknown): unknown {
  switch (typeof value) {
    case 'object':
      if (value === null || Array.isArray(value)) return value;
      {
        const prototype = Object.getPrototypeOf(value) as unknown;
        if (prototype === Object.prototype || prototype === null) return value;
      }
      throw new NotData();
    case 'number':
      if (!Number.isFinite(value)) throw new NotData(); // NaN and Infinity serialize as null
      return value;
    case 'function':
    case 'symbol':
      throw new NotData(); // dropped by JSON: f(a, fn1) and f(a, fn2) would share a key
    default:
      return value;
  }
}

/**
 * True when a declared parameter type (from `design:paramtypes`) does not serialize as its data: `Map`, `Set`,
 * functions, and classes (a class's instance serializes as its public fields only, `{}` with `#private` ones).
 * Types erased to `Object` (interfaces, unions, `any`) and the JSON-friendly built-ins pass.
 */
export function isOpaqueParameterType(type: unknown): boolean {
  if (typeof type !== 'function') return false;
  if (JSON_FRIENDLY_TYPES.has(type)) return false;
  const prototype = (type as { prototype?: { toJSON?: unknown } }).prototype;
  return typeof prototype?.toJSON !== 'function'; // a class that defines its JSON says what its data is
}

const JSON_FRIENDLY_TYPES = new Set<unknown>([String, Number, Boolean, Object, Array, Date]);

function constructorName(value: object): string {
  const ctor = (value as { constructor?: { name?: unknown } }).constructor;
  return typeof ctor?.name === 'string' && ctor.name !== '' ? ctor.name : 'Object';
}
