import { lastValueFrom, Observable } from 'rxjs';
import { IdempotencyStoreUnavailableError } from '../errors/idempotency-key.error.js';
import type { Invocation } from '../pipeline/invocation.js';
import type { ObservableStep, PromiseStep, ResiliencePolicy } from '../pipeline/policy.interface.js';
import { storeAnswerLater } from './store-answer.js';
import { nextFencingToken } from './fencing-token.js';
import type { IdempotencyStore } from './idempotency-store.interface.js';
import type { IdempotencyStoreErrorMode } from './idempotency.options.js';

/** What the provider policy needs, resolved at bootstrap. */
export interface IdempotentCallOptions {
  readonly ttl: number;
  readonly lease: number;
  readonly rememberErrors: boolean;
  readonly onStoreError: IdempotencyStoreErrorMode;
}

/** How often a call polls the store while another replica runs the same key. */
const POLL_INTERVAL_MS = 25;

/** A stored outcome of a provider call, as JSON: the value, or the remembered error's shape. */
interface StoredOutcome {
  value?: unknown;
  error?: { name: string; message: string; status?: unknown; code?: unknown };
}

/**
 * `@Idempotent({ key })` on a provider method (queue consumers, webhooks): the first call with a key runs, and
 * every later call with the same key gets its result back, from the store, for `ttl` ms. A call whose key is in
 * flight in this process joins it (one Promise); in another replica (a shared store) it waits for its answer.
 * Errors release the key (the next call runs again) unless `rememberErrors`. Results cross the store as JSON: a
 * replayed result is a plain copy (dates as strings, no class instances), as a client of an HTTP API would see it.
 */
export class IdempotentPolicy implements ResiliencePolicy {
  private readonly running = new Map<string, Promise<unknown>>();

  constructor(
    readonly name: string,
    private readonly keyOf: (invocation: Invocation) => string,
    private readonly store: IdempotencyStore,
    private readonly options: IdempotentCallOptions,
  ) {}

  wrapPromise(next: PromiseStep): PromiseStep {
    return (invocation) => {
      let key: string;
      try {
        key = this.keyOf(invocation);
      } catch (error) {
        return Promise.reject(error);
      }
      // The downstream sees the same key: getIdempotencyKey() in the method returns it.
      invocation.idempotencyKey = key;
      const recordKey = `${this.name}\u0000${key}`;
      const joined = this.running.get(recordKey);
      if (joined !== undefined) return joined;
      const call = this.run(recordKey, invocation, next).finally(() => this.running.delete(recordKey));
      this.running.set(recordKey, call);
      return call;
    };
  }

  /** Observable methods: the call's last value is what is stored and replayed. */
  wrapObservable(next: ObservableStep): ObservableStep {
    const step = this.wrapPromise((invocation) => lastValueFrom(next(invocation), { defaultValue: undefined }));
    return (invocation) =>
      new Observable<unknown>((subscriber) => {
        step(invocation).then(
          (value) => {
            subscriber.next(value);
            subscriber.complete();
          },
          (error: unknown) => subscriber.error(error),
        );
      });
  }

  private async run(recordKey: string, invocation: Invocation, next: PromiseStep): Promise<unknown> {
    const token = nextFencingToken();
    const { store, options } = this;
    let leaseEndsAt: number;
    for (;;) {
      let acquired;
      leaseEndsAt = performance.now() + options.lease;
      try {
        acquired = await store.acquire(recordKey, '', token, options.lease);
      } catch (error) {
        if (options.onStoreError === 'allow') return next(invocation);
        throw new IdempotencyStoreUnavailableError(this.name, error);
      }
      if (acquired.outcome === 'completed') return replay(acquired.response);
      if (acquired.outcome === 'acquired') break;
      // Another replica runs this key: its answer, or its lease running out, ends the wait.
      await delay(Math.min(POLL_INTERVAL_MS, Math.max(1, acquired.leaseRemainingMs)));
    }
    let value: unknown;
    try {
      value = await next(invocation);
    } catch (error) {
      if (options.rememberErrors) await this.settle(recordKey, token, { error: errorShape(error) }, leaseEndsAt);
      else await store.release(recordKey, token).catch(() => false);
      throw error;
    }
    await this.settle(recordKey, token, { value }, leaseEndsAt);
    return value;
  }

  /**
   * Stores the outcome; a store that fails now gets it later, while the lease lasts (the work itself is done: left
   * as a lease, the key would run again once it ends).
   */
  private async settle(recordKey: string, token: string, outcome: StoredOutcome, leaseEndsAt: number): Promise<void> {
    let response: string;
    try {
      response = JSON.stringify(outcome);
    } catch {
      await this.store.release(recordKey, token).catch(() => false);
      return; // not serializable: nothing to replay, the next call runs again
    }
    const { store, options } = this;
    await store
      .complete(recordKey, token, response, options.ttl)
      .catch(() => storeAnswerLater(store, recordKey, token, response, options.ttl, leaseEndsAt));
  }
}

function replay(response: string): unknown {
  const outcome = JSON.parse(response) as StoredOutcome;
  if (outcome.error === undefined) return outcome.value;
  const { name, message, status, code } = outcome.error;
  throw Object.assign(new Error(message), { name, status, code });
}

function errorShape(error: unknown): NonNullable<StoredOutcome['error']> {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const { status, code } = error as { status?: unknown; code?: unknown };
  return { name: error.name, message: error.message, status, code };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
