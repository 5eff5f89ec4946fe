import type { ExecutionContext } from '@nestjs/common';
import type { IdempotencyOptions } from '../core/idempotency/idempotency.options.js';
import { IDEMPOTENT_METADATA } from './resilience.metadata.js';
import { policyDecorator } from './policy-decorator.js';

type CommonOptions = Partial<Pick<IdempotencyOptions, 'ttl' | 'lease' | 'onStoreError'>>;

/** `@Idempotent` options on an HTTP handler. */
export interface HandlerIdempotentOptions
  extends CommonOptions, Partial<Pick<IdempotencyOptions, 'methods' | 'required' | 'onInFlight' | 'replay'>> {
  /** Who owns the key (user, tenant), from the request: `(context) => context.switchToHttp().getRequest().user.id`. */
  scope?: (context: ExecutionContext) => string;
  /** The body fields that make two requests the same, or a function of the request. Default: the whole body. */
  fingerprint?: readonly string[] | ((context: ExecutionContext) => unknown);
}

/**
 * `@Idempotent` options on a provider method, or on a microservice message or event handler, whose `key` receives the
 * message's data and the `ExecutionContext`: `(order: Order) => order.id`.
 */
export interface ProviderIdempotentOptions<TArgs extends unknown[] = never[]> extends CommonOptions {
  /** The key of a call, from its arguments, e.g. `(event) => event.id`. */
  key: (...args: TArgs) => string;
  /** Also remember a failed call's error (name, message, status, code) and throw it again. Default `false`. */
  rememberErrors?: boolean;
}

/**
 * Makes a handler or a provider method safe to repeat: the first request (or call) with a key runs, later ones get
 * its answer back. Outermost in the canonical order: it stores what the client finally got, after `@Fallback`.
 *
 * - On an HTTP handler it reads the `Idempotency-Key` header of POST and PATCH requests (`methods`): 400 for a
 *   malformed key (or a missing one with `required`), 422 when the key comes back with another payload, 409 with
 *   `Retry-After` while the first request runs (or `onInFlight: { wait }`), and the stored status, body and safe
 *   headers with `Idempotent-Replayed: true` afterwards. 2xx and 4xx answers are stored for `ttl` (default 24 h);
 *   5xx and the library's own timeouts, open circuits and overload rejections are not (`replay: 'all'` stores them).
 * - On a provider method `key` names the call: a call with a key in flight is joined; errors are not remembered.
 * - On a microservice handler (`@MessagePattern`, `@EventPattern`; RMQ, TCP, Redis ...) `key` (required there) names
 *   the message from its data: a redelivered message whose first run completed is not run again (its stored answer
 *   is returned, so `@RmqAcknowledge` acknowledges it), and a redelivery while the first runs waits for it.
 *
 * Inside the method `getIdempotencyKey()` returns the key to pass downstream.
 *
 * @example `@Idempotent()`, `@Idempotent({ required: true, scope: (ctx) => ctx.switchToHttp().getRequest().user.id })`,
 *          `@Idempotent({ key: (event: PaymentEvent) => event.id })`.
 */
export function Idempotent(options?: HandlerIdempotentOptions): MethodDecorator;
export function Idempotent<TArgs extends unknown[]>(options: ProviderIdempotentOptions<TArgs>): MethodDecorator;
export function Idempotent(options?: HandlerIdempotentOptions | ProviderIdempotentOptions<never[]>): MethodDecorator {
  return policyDecorator(IDEMPOTENT_METADATA, { options: options ?? {} });
}
