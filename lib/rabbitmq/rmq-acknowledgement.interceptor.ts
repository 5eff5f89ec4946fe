import { Injectable, Logger, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { Observable } from 'rxjs';
import type { ResolvedRmqAcknowledgeOptions } from './rmq-acknowledge.options.js';
import { rmqDelivery } from './rmq-delivery.js';
import { settleFailure } from './rmq-settlement.js';

/** Where `@RmqAcknowledge` records its validated options on the handler. */
export const RMQ_ACKNOWLEDGE_METADATA = 'nest-resilience:rmq-acknowledge';
/** Set by `@EventPattern()` (2) and `@MessagePattern()` (1); read by name: no import of @nestjs/microservices. */
const PATTERN_HANDLER_METADATA = 'microservices:handler_type';
const EVENT_HANDLER = 2;

/**
 * Settles each RMQ message of a `@RmqAcknowledge` handler once its policies are done: acknowledges it when the
 * handler (or its fallback, or `@DeadLetter`) completed; re-publishes or dead-letters it when it failed (see
 * `settleFailure`). It runs outside the `ResilienceInterceptor`, so in-process `@Retry` attempts finish first.
 */
@Injectable()
export class RmqAcknowledgementInterceptor implements NestInterceptor {
  private readonly logger = new Logger('RmqAcknowledge');
  private readonly warned = new WeakSet<object>();

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const handler = context.getHandler();
    const options = Reflect.getMetadata(RMQ_ACKNOWLEDGE_METADATA, handler) as ResolvedRmqAcknowledgeOptions;
    const delivery = rmqDelivery(context);
    if (delivery === undefined) {
      if (!this.warned.has(handler)) {
        this.warned.add(handler);
        this.logger.warn(`${context.getClass().name}.${handler.name} has @RmqAcknowledge but its message is not RMQ`);
      }
      return next.handle();
    }
    const isEvent = Reflect.getMetadata(PATTERN_HANDLER_METADATA, handler) === EVENT_HANDLER;
    return new Observable<unknown>((subscriber) =>
      next.handle().subscribe({
        next: (value) => subscriber.next(value),
        complete: () => {
          delivery.channel.ack(delivery.message);
          subscriber.complete();
        },
        error: (error: unknown) => {
          settleFailure(delivery, error, options).then(
            (outcome) => {
              // An event has no caller to tell: the message is settled, so its error ends here, logged.
              if (!isEvent) return subscriber.error(error);
              this.logger.warn(`${context.getClass().name}.${handler.name}: message ${outcome}: ${describe(error)}`);
              subscriber.complete();
            },
            (settleError: unknown) => {
              // Not settled: the message stays unacknowledged, and the broker redelivers it when the channel closes.
              this.logger.error(`could not settle a failed message: ${describe(settleError)}`);
              subscriber.error(error);
            },
          );
        },
      }),
    );
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
