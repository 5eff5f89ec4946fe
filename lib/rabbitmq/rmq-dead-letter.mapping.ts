import { createHash } from 'node:crypto';
import type { DeadLetter, DeadLetterError, DeadLetterReplay } from '../core/dead-letter/dead-letter.interface.js';
import { deliveriesOf, RMQ_HEADERS } from './rmq-headers.js';

/** What a letter is read from: an amqplib message, by shape. */
export interface LetterMessage {
  readonly content: Buffer;
  readonly fields: { readonly routingKey: string };
  readonly properties: { readonly headers?: Record<string, unknown>; readonly messageId?: unknown };
}

/** A letter's body when `@DeadLetter` wrote it (`RmqDeadLetterStore#add`): the provider call's or message's data. */
export const ARGS_FORMAT = 'args';

/**
 * The id of a letter in a dead-letter queue: the `x-resilience-letter-id` header `@RmqAcknowledge` (and
 * `RmqDeadLetterStore#add`) write; else the message's `messageId`; else a digest of its body and headers, for letters
 * another tool dead-lettered (two identical ones share it: the first is the one replayed).
 */
export function letterIdOf(message: LetterMessage): string {
  const headers = message.properties.headers ?? {};
  const written = headers[RMQ_HEADERS.letterId];
  if (typeof written === 'string' && written !== '') return written;
  const { messageId } = message.properties;
  if (typeof messageId === 'string' && messageId !== '') return messageId;
  const digest = createHash('sha256').update(message.content).update(JSON.stringify(headers)).digest('hex');
  return `sha256-${digest.slice(0, 32)}`;
}

/**
 * A broker message of a dead-letter queue as the registry shows letters: the pattern and data of a Nest RMQ packet
 * (`{ pattern, data }`), the error, deliveries and time from the `x-resilience-*` headers.
 */
export function letterOf(queue: string, message: LetterMessage): DeadLetter {
  const headers = message.properties.headers ?? {};
  const { pattern, args } = bodyOf(message, headers);
  const replay = replayOf(headers);
  return {
    id: letterIdOf(message),
    queue,
    pattern,
    args,
    error: errorOf(headers, RMQ_HEADERS.errorName, RMQ_HEADERS.errorMessage, RMQ_HEADERS.errorCode) ?? {
      name: 'Error',
      message: 'dead-lettered without an error header',
    },
    // Broker letters count deliveries (each may have run `@Retry` attempts); `@DeadLetter` ones their attempts.
    attempts: Math.max(1, deliveriesOf(headers)),
    deadLetteredAt: numberOr(headers[RMQ_HEADERS.deadLetteredAt], 0),
    ...(replay === undefined ? {} : { replay }),
  };
}

/** The headers of a letter `@DeadLetter` hands to `RmqDeadLetterStore#add`. */
export function headersOfLetter(letter: Omit<DeadLetter, 'id'>, id: string): Record<string, unknown> {
  return {
    [RMQ_HEADERS.letterId]: id,
    [RMQ_HEADERS.letterFormat]: ARGS_FORMAT,
    [RMQ_HEADERS.deliveries]: letter.attempts,
    [RMQ_HEADERS.queue]: letter.queue,
    [RMQ_HEADERS.errorName]: letter.error.name,
    [RMQ_HEADERS.errorMessage]: letter.error.message,
    ...(letter.error.code === undefined ? {} : { [RMQ_HEADERS.errorCode]: letter.error.code }),
    [RMQ_HEADERS.deadLetteredAt]: letter.deadLetteredAt,
  };
}

/** The headers recording a failed replay on a letter put back in its queue. */
export function replayHeaders(replay: DeadLetterReplay): Record<string, unknown> {
  return {
    [RMQ_HEADERS.replayFailedAt]: replay.at,
    [RMQ_HEADERS.replayErrorName]: replay.error?.name ?? 'Error',
    [RMQ_HEADERS.replayErrorMessage]: replay.error?.message ?? '',
    ...(replay.error?.code === undefined ? {} : { [RMQ_HEADERS.replayErrorCode]: replay.error.code }),
  };
}

/**
 * The headers of a replayed message: the letter's own (the application's), without the library's `x-resilience-*`
 * ones, so the replay starts a fresh delivery budget; `x-resilience-replay-of` names the letter.
 */
export function headersForReplay(message: LetterMessage, id: string): Record<string, unknown> {
  const headers: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(message.properties.headers ?? {})) {
    if (!name.startsWith('x-resilience-')) headers[name] = value;
  }
  headers[RMQ_HEADERS.replayOf] = id;
  return headers;
}

function bodyOf(
  message: LetterMessage,
  headers: Record<string, unknown>,
): { pattern: unknown; args: readonly unknown[] } {
  let body: unknown;
  try {
    body = JSON.parse(message.content.toString('utf8'));
  } catch {
    // Not JSON: the routing key stands for the pattern, the text for the data.
    return { pattern: routingKeyOf(message, headers), args: [message.content.toString('utf8')] };
  }
  if (typeof body === 'object' && body !== null && 'pattern' in body) {
    const packet = body as { pattern: unknown; data?: unknown; args?: unknown };
    if (headers[RMQ_HEADERS.letterFormat] === ARGS_FORMAT && Array.isArray(packet.args)) {
      return { pattern: packet.pattern, args: packet.args as unknown[] };
    }
    return { pattern: packet.pattern, args: [packet.data] };
  }
  return { pattern: routingKeyOf(message, headers), args: [body] };
}

function routingKeyOf(message: LetterMessage, headers: Record<string, unknown>): string {
  const original = headers[RMQ_HEADERS.originalRoutingKey];
  return typeof original === 'string' ? original : message.fields.routingKey;
}

function replayOf(headers: Record<string, unknown>): DeadLetterReplay | undefined {
  if (headers[RMQ_HEADERS.replayFailedAt] === undefined) return undefined;
  const error = errorOf(
    headers,
    RMQ_HEADERS.replayErrorName,
    RMQ_HEADERS.replayErrorMessage,
    RMQ_HEADERS.replayErrorCode,
  );
  return {
    at: numberOr(headers[RMQ_HEADERS.replayFailedAt], 0),
    outcome: 'failed',
    ...(error === undefined ? {} : { error }),
  };
}

function errorOf(
  headers: Record<string, unknown>,
  nameHeader: string,
  messageHeader: string,
  codeHeader: string,
): DeadLetterError | undefined {
  const name = headers[nameHeader];
  const message = headers[messageHeader];
  if (name === undefined && message === undefined) return undefined;
  const code = headers[codeHeader];
  return {
    name: textOf(name, 'Error'),
    message: textOf(message, ''),
    ...(code === undefined ? {} : { code: textOf(code, '') }),
  };
}

/** Header strings may arrive as Buffers (long strings written by other clients): read both. */
function textOf(value: unknown, fallback: string): string {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (typeof value === 'number' || typeof value === 'boolean') return `${value}`;
  return fallback;
}

function numberOr(value: unknown, fallback: number): number {
  const number = Number(value);
  return Number.isFinite(number) ? number : fallback;
}
