/** A message on its way to the broker: what `channel.publish` takes. */
export interface RmqOutgoingMessage {
  readonly exchange: string;
  readonly routingKey: string;
  readonly content: Buffer;
  readonly properties: { readonly messageId: string; readonly persistent: boolean } & Readonly<Record<string, unknown>>;
}

/** The order of a lane is kept: one per exchange and routing key. */
export function laneOf(message: Pick<RmqOutgoingMessage, 'exchange' | 'routingKey'>): string {
  return `${message.exchange}/${message.routingKey}`;
}

/** A message as an outbox keeps it: JSON, its content in base64 (any bytes survive a Redis string). */
export function encodeMessage(message: RmqOutgoingMessage): string {
  return JSON.stringify({
    exchange: message.exchange,
    routingKey: message.routingKey,
    content: message.content.toString('base64'),
    properties: message.properties,
  });
}

/** The message an outbox entry holds. */
export function decodeMessage(body: string): RmqOutgoingMessage {
  const parsed = JSON.parse(body) as Omit<RmqOutgoingMessage, 'content'> & { content: string };
  return { ...parsed, content: Buffer.from(parsed.content, 'base64') };
}
