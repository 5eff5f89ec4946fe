import { RmqAcknowledgementInterceptor } from './rmq-acknowledgement.interceptor.js';
import {
  RMQ_ACKNOWLEDGE_METADATA,
  validateRmqAcknowledgeOptions,
  type RmqAcknowledgeOptions,
} from './rmq-acknowledge.options.js';

/** Nest's `INTERCEPTORS_METADATA` (`@nestjs/common/constants` is not an export of the package). */
const INTERCEPTORS_METADATA = '__interceptors__';

/**
 * The library acknowledges the messages of this RMQ handler (run the transport with `noAck: false`): a handler that
 * completes (its fallback's answer, or a `@DeadLetter` that took the message, included) acknowledges its message;
 * one that fails re-publishes it for another delivery (at once, or after `delay` through a delay queue), and after
 * `maxDeliveries` (default 3) publishes it to `deadLetterQueue` (default `<queue>.dead-letter`) with the error, the
 * count and the original routing in `x-resilience-*` headers. In-process `@Retry` attempts run within each delivery.
 * Handlers without it are left alone: a handler that acknowledges by hand must not carry it.
 *
 * @example
 * ```ts
 * @EventPattern('order-placed')
 * @RmqAcknowledge({ queue: 'orders', maxDeliveries: 5, delay: (delivery) => 1000 * 2 ** delivery })
 * @Retry({ maxAttempts: 2 })
 * async placed(@Payload() order: Order) { ... }
 * ```
 */
export function RmqAcknowledge(options: RmqAcknowledgeOptions): MethodDecorator {
  return (target, propertyKey, descriptor) => {
    const method = descriptor.value as object | undefined;
    const declaredAt = `${(target as { constructor: { name: string } }).constructor.name}.${String(propertyKey)}`;
    if (typeof method !== 'function')
      throw new TypeError(`@RmqAcknowledge applies to methods; ${declaredAt} is not one`);
    Reflect.defineMetadata(RMQ_ACKNOWLEDGE_METADATA, validateRmqAcknowledgeOptions(options, declaredAt), method);
    // First of the method's interceptors, whatever the order of the decorators: it settles the message after every
    // policy (and the handler's own interceptors) ran.
    const interceptors = (Reflect.getMetadata(INTERCEPTORS_METADATA, method) as unknown[] | undefined) ?? [];
    Reflect.defineMetadata(INTERCEPTORS_METADATA, [RmqAcknowledgementInterceptor, ...interceptors], method);
    return descriptor;
  };
}
