import type { ExecutionContext } from '@nestjs/common';

/** What the library uses of an amqplib message (`RmqContext.getMessage()`). */
export interface RmqMessage {
  readonly content: Buffer;
  readonly fields: { readonly exchange: string; readonly routingKey: string; readonly deliveryTag: number };
  readonly properties: { readonly headers?: Record<string, unknown> } & Record<string, unknown>;
}

/** What the library uses of an amqplib channel (`RmqContext.getChannelRef()`). */
export interface RmqChannel {
  ack(message: RmqMessage): void;
  publish(exchange: string, routingKey: string, content: Buffer, options?: Record<string, unknown>): boolean;
  assertQueue(queue: string, options?: Record<string, unknown>): Promise<unknown>;
}

/** One message being handled: the channel it came on and the message itself. */
export interface RmqDelivery {
  readonly channel: RmqChannel;
  readonly message: RmqMessage;
}

/**
 * The RMQ message of a microservice handler's context, or `undefined` on another transport. Read by shape, not by
 * `instanceof RmqContext`, so that two copies of `@nestjs/microservices` (or none, on HTTP) change nothing.
 */
export function rmqDelivery(context: ExecutionContext): RmqDelivery | undefined {
  if (context.getType() !== 'rpc') return undefined;
  const rpc = context.getArgByIndex<{ getMessage?: unknown; getChannelRef?: unknown } | undefined>(1);
  if (typeof rpc?.getMessage !== 'function' || typeof rpc.getChannelRef !== 'function') return undefined;
  const message = (rpc.getMessage as () => RmqMessage | undefined).call(rpc);
  const channel = (rpc.getChannelRef as () => RmqChannel | undefined).call(rpc);
  if (message?.fields === undefined || typeof channel?.ack !== 'function') return undefined;
  return { channel, message };
}
