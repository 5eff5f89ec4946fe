import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
  type OnModuleInit,
} from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import { Observable } from 'rxjs';
import { ResilienceEvents } from '../core/events/resilience-events.js';
import { ResilienceRegistry } from '../core/registry/resilience-registry.js';
import type { ResilienceModuleBaseOptions } from '../nest/options/resilience-module.options.js';
import { RESILIENCE_MODULE_OPTIONS } from '../nest/options/resilience-module.token.js';
import { RMQ_ACKNOWLEDGE_METADATA, type ResolvedRmqAcknowledgeOptions } from './rmq-acknowledge.options.js';
import { rmqDelivery } from './rmq-delivery.js';
import { registerRmqDeadLetterQueues } from './rmq-dead-letter.registration.js';
import { RmqDeadLetterStore } from './rmq-dead-letter.store.js';
import { settleFailure } from './rmq-settlement.js';
/** Set by `@EventPattern()` (2) and `@MessagePattern()` (1); read by name: no import of @nestjs/microservices. */
const PATTERN_HANDLER_METADATA = 'microservices:handler_type';
const EVENT_HANDLER = 2;

/**
 * Settles each RMQ message of a `@RmqAcknowledge` handler once its policies are done: acknowledges it when the
 * handler (or its fallback, or `@DeadLetter`) completed; re-publishes or dead-letters it when it failed (see
 * `settleFailure`). It runs outside the `ResilienceInterceptor`, so in-process `@Retry` attempts finish first.
 */
@Injectable()
export class RmqAcknowledgementInterceptor implements NestInterceptor, OnModuleInit {
  private readonly logger = new Logger('RmqAcknowledge');
  private readonly warned = new WeakSet<object>();
  /** What each handler's metadata says, read once: `Reflect.getMetadata` twice per message showed in profiles. */
  private readonly handlers = new WeakMap<object, HandlerSettings>();

  constructor(
    private readonly modules: ModulesContainer,
    @Optional() private readonly registry?: ResilienceRegistry,
    @Optional() @Inject(RESILIENCE_MODULE_OPTIONS) private readonly options?: ResilienceModuleBaseOptions,
    @Optional() private readonly events?: ResilienceEvents,
  ) {}

  /**
   * With an `RmqDeadLetterStore` as the module's `deadLetterStore`, the dead-letter queues of `@RmqAcknowledge`
   * handlers become queues of `registry.deadLetters` at bootstrap, listed and replayed before any letter is written.
   */
  onModuleInit(): void {
    const store = this.options?.deadLetterStore;
    if (this.registry !== undefined && store instanceof RmqDeadLetterStore) {
      registerRmqDeadLetterQueues(this.modules, this.registry, store);
    }
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const handler = context.getHandler();
    const delivery = rmqDelivery(context);
    if (delivery === undefined) {
      if (!this.warned.has(handler)) {
        this.warned.add(handler);
        this.logger.warn(`${context.getClass().name}.${handler.name} has @RmqAcknowledge but its message is not RMQ`);
      }
      return next.handle();
    }
    const { options, isEvent } = this.settingsOf(handler);
    return new Observable<unknown>((subscriber) =>
      next.handle().subscribe({
        next: (value) => subscriber.next(value),
        complete: () => {
          try {
            delivery.channel.ack(delivery.message);
          } catch (error) {
            // The channel closed while the handler ran (a lost connection): the broker redelivers the message, and
            // an `@Idempotent` handler answers the redelivery from its record without running again.
            this.logger.warn(`could not acknowledge a message, the broker will redeliver it: ${describe(error)}`);
          }
          subscriber.complete();
        },
        error: (error: unknown) => {
          settleFailure(delivery, error, options).then(
            ({ outcome, deliveries, letterId }) => {
              if (letterId !== undefined && this.events?.observed === true) {
                // The same event as `@DeadLetter`'s: the letter is in the broker's dead-letter queue, by this id.
                this.events.emit({
                  type: 'dead-letter',
                  policy: options.deadLetterQueue,
                  target: { className: context.getClass().name, methodName: handler.name },
                  id: letterId,
                  attempts: deliveries,
                  error,
                });
              }
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

  private settingsOf(handler: object): HandlerSettings {
    let settings = this.handlers.get(handler);
    if (settings === undefined) {
      settings = {
        options: Reflect.getMetadata(RMQ_ACKNOWLEDGE_METADATA, handler) as ResolvedRmqAcknowledgeOptions,
        isEvent: Reflect.getMetadata(PATTERN_HANDLER_METADATA, handler) === EVENT_HANDLER,
      };
      this.handlers.set(handler, settings);
    }
    return settings;
  }
}

/** A handler's acknowledgement options, and whether it handles events (nobody waits for an answer). */
interface HandlerSettings {
  readonly options: ResolvedRmqAcknowledgeOptions;
  readonly isEvent: boolean;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
