import type { OutboxStore } from '../core/outbox/outbox.store.js';
import { validateRetryOptions, type RetryOptions } from '../core/retry/retry.options.js';
import { OptionsValidator, typeOf } from '../core/validation/options.validator.js';

/** How a failed publish is retried before its message is parked: `@Retry`'s backoff options. */
export type RmqPublishRetryOptions = Partial<
  Pick<RetryOptions, 'maxAttempts' | 'backoff' | 'initialDelay' | 'maxDelay' | 'multiplier' | 'jitter'>
>;

/** Where messages wait while the broker cannot take them, and how much may wait. */
export interface RmqOutboxOptions {
  /**
   * The store: `MemoryOutboxStore` (this process, lost on exit) or `RedisOutboxStore` from `nest-resilience/redis`
   * (survives restarts; one outbox per publisher name shared by replicas, drained by one at a time). Default a new
   * `MemoryOutboxStore`.
   */
  readonly store?: OutboxStore;
  /** Messages the outbox may hold; a publish beyond it is refused (`RMQ_OUTBOX_FULL`). Default `10_000`. */
  readonly maxMessages?: number;
  /** Bytes of message content the outbox may hold; a publish beyond it is refused. Default `67_108_864` (64 MiB). */
  readonly maxBytes?: number;
  /** Parked messages sent per round while draining (each confirmed before the next round). Default `100`. */
  readonly drainBatch?: number;
  /** Milliseconds between checks of the outbox while connected (messages parked by another replica). Default `5000`. */
  readonly drainInterval?: number;
}

/** Options of one publisher: `RmqPublisherModule.register({ name, urls, ... })`. */
export interface RmqPublisherOptions {
  /** The publisher's name: `@InjectRmqPublisher(name)`, its outbox and its registry entry. Default `'default'`. */
  readonly name?: string;
  /** Broker URLs (`amqp://user:pass@host:5672/vhost`), tried in turn when connecting. Required. */
  readonly urls: readonly string[];
  /**
   * The queue `emit(pattern, data)` sends to (as Nest's `ClientRMQ` does), asserted (durable) on every connection.
   * Default: none (`emit` then needs `options.routingKey`).
   */
  readonly queue?: string;
  /** The exchange of `publish` when its options name none. Default `''` (the default exchange: routing key = queue). */
  readonly exchange?: string;
  /**
   * Milliseconds to wait for the broker's publisher confirm of one message; past it the publish counts as failed and
   * is retried (the broker may still have it: the consumer deduplicates on the message id). Default `5000`.
   */
  readonly confirmTimeout?: number;
  /** Retries of a failed publish before its message is parked. Default `{ maxAttempts: 3, initialDelay: 100 }`. */
  readonly retry?: RmqPublishRetryOptions;
  /** The outbox. Default: in memory, 10,000 messages, 64 MiB. */
  readonly outbox?: RmqOutboxOptions;
  /** Longest wait between two connection attempts while the broker is down, in ms (it grows to it). Default `5000`. */
  readonly maxReconnectDelay?: number;
  /**
   * Messages of one lane (exchange and routing key) published before their confirms come back. `1` sends each after
   * the previous one's confirm: order holds even when the broker refuses one message and takes the next. Default
   * `100`.
   */
  readonly maxInFlight?: number;
}

/** The options with defaults applied. */
export interface ResolvedRmqPublisherOptions {
  readonly name: string;
  readonly urls: readonly string[];
  readonly queue: string | undefined;
  readonly exchange: string;
  readonly confirmTimeout: number;
  readonly retry: RetryOptions;
  readonly outbox: {
    readonly store: OutboxStore | undefined;
    readonly maxMessages: number;
    readonly maxBytes: number;
    readonly drainBatch: number;
    readonly drainInterval: number;
  };
  readonly maxReconnectDelay: number;
  readonly maxInFlight: number;
}

/** Library defaults of `RmqPublisherOptions` (frozen). */
export const DEFAULT_RMQ_PUBLISHER_OPTIONS = Object.freeze({
  name: 'default',
  exchange: '',
  confirmTimeout: 5000,
  retry: Object.freeze({
    maxAttempts: 3,
    backoff: 'exponential',
    initialDelay: 100,
    maxDelay: 2000,
    multiplier: 2,
    jitter: 'full',
  } satisfies RetryOptions),
  outbox: Object.freeze({ maxMessages: 10_000, maxBytes: 64 * 1024 * 1024, drainBatch: 100, drainInterval: 5000 }),
  maxReconnectDelay: 5000,
  maxInFlight: 100,
});

const OPTION_NAMES = [
  'name',
  'urls',
  'queue',
  'exchange',
  'confirmTimeout',
  'retry',
  'outbox',
  'maxReconnectDelay',
  'maxInFlight',
];
const OUTBOX_OPTION_NAMES = ['store', 'maxMessages', 'maxBytes', 'drainBatch', 'drainInterval'];
const RETRY_OPTION_NAMES = ['maxAttempts', 'backoff', 'initialDelay', 'maxDelay', 'multiplier', 'jitter'];

/** Checks a publisher's options; a mistake throws a `ResilienceConfigError` naming the option, value and publisher. */
export function resolveRmqPublisherOptions(
  options: RmqPublisherOptions,
  declaredAt: string,
): ResolvedRmqPublisherOptions {
  const name = typeof options?.name === 'string' ? options.name : DEFAULT_RMQ_PUBLISHER_OPTIONS.name;
  const validator = new OptionsValidator('RmqPublisher', name, declaredAt);
  validator.objectOptions('options', options, "{ urls: ['amqp://localhost'] }", OPTION_NAMES);
  if (options.name !== undefined && (typeof options.name !== 'string' || options.name.trim() === '')) {
    validator.fail('name', options.name, 'must be a non-empty string');
  }
  if (
    !Array.isArray(options.urls) ||
    options.urls.length === 0 ||
    !options.urls.every((url: unknown) => typeof url === 'string' && url !== '')
  ) {
    validator.fail('urls', options.urls, "must be a non-empty array of broker URLs such as ['amqp://localhost:5672']");
  }
  if (options.queue !== undefined && (typeof options.queue !== 'string' || options.queue === '')) {
    validator.fail('queue', options.queue, 'must be a non-empty queue name');
  }
  if (options.exchange !== undefined && typeof options.exchange !== 'string') {
    validator.fail(
      'exchange',
      options.exchange,
      `must be an exchange name (a string), got ${typeOf(options.exchange)}`,
    );
  }
  const retryOption: RmqPublishRetryOptions = options.retry ?? {};
  if (typeof retryOption !== 'object' || retryOption === null) {
    validator.fail('retry', retryOption, `must be an object such as { maxAttempts: 3 }, got ${typeOf(retryOption)}`);
  }
  new OptionsValidator('RmqPublisher retry', name, declaredAt).knownOptions(retryOption, RETRY_OPTION_NAMES);
  const retry = validateRetryOptions(
    { ...DEFAULT_RMQ_PUBLISHER_OPTIONS.retry, ...retryOption },
    new OptionsValidator('RmqPublisher retry', name, declaredAt),
  );
  const outbox: RmqOutboxOptions = options.outbox ?? {};
  if (typeof outbox !== 'object' || outbox === null) {
    validator.fail('outbox', outbox, `must be an object such as { maxMessages: 10000 }, got ${typeOf(outbox)}`);
  }
  const outboxValidator = new OptionsValidator('RmqPublisher outbox', name, declaredAt);
  outboxValidator.knownOptions(outbox, OUTBOX_OPTION_NAMES);
  if (outbox.store !== undefined && !isOutboxStore(outbox.store)) {
    outboxValidator.fail('store', outbox.store, 'must be an OutboxStore (MemoryOutboxStore, RedisOutboxStore)');
  }
  const defaults = DEFAULT_RMQ_PUBLISHER_OPTIONS.outbox;
  return {
    name,
    urls: [...options.urls],
    queue: options.queue,
    exchange: options.exchange ?? DEFAULT_RMQ_PUBLISHER_OPTIONS.exchange,
    confirmTimeout: validator.integerBetween(
      'confirmTimeout',
      options.confirmTimeout ?? DEFAULT_RMQ_PUBLISHER_OPTIONS.confirmTimeout,
      1,
      2_147_483_647,
    ),
    retry,
    outbox: {
      store: outbox.store,
      maxMessages: outboxValidator.integerBetween('maxMessages', outbox.maxMessages ?? defaults.maxMessages, 1, 1e8),
      maxBytes: outboxValidator.integerBetween('maxBytes', outbox.maxBytes ?? defaults.maxBytes, 1, 2 ** 40),
      drainBatch: outboxValidator.integerBetween('drainBatch', outbox.drainBatch ?? defaults.drainBatch, 1, 10_000),
      drainInterval: outboxValidator.integerBetween(
        'drainInterval',
        outbox.drainInterval ?? defaults.drainInterval,
        1,
        2_147_483_647,
      ),
    },
    maxReconnectDelay: validator.integerBetween(
      'maxReconnectDelay',
      options.maxReconnectDelay ?? DEFAULT_RMQ_PUBLISHER_OPTIONS.maxReconnectDelay,
      1,
      2_147_483_647,
    ),
    maxInFlight: validator.integerBetween(
      'maxInFlight',
      options.maxInFlight ?? DEFAULT_RMQ_PUBLISHER_OPTIONS.maxInFlight,
      1,
      10_000,
    ),
  };
}

function isOutboxStore(value: unknown): value is OutboxStore {
  const store = value as Partial<Record<keyof OutboxStore, unknown>> | null;
  return (
    typeof store === 'object' &&
    store !== null &&
    ['append', 'peek', 'remove', 'size', 'lease', 'release'].every(
      (method) => typeof store[method as keyof OutboxStore] === 'function',
    )
  );
}

/** Options of one `publish` or `emit`. */
export interface RmqPublishOptions {
  /** The exchange. Default: the publisher's `exchange` (`''`, the default exchange). */
  readonly exchange?: string;
  /**
   * The message's id (AMQP `messageId`), kept across retries and the outbox: what a consumer deduplicates on (e.g.
   * `@Idempotent({ key: (msg, ctx) => ctx.getMessage().properties.messageId })`). Default: a random UUID.
   */
  readonly messageId?: string;
  /** AMQP headers. */
  readonly headers?: Readonly<Record<string, unknown>>;
  /** Written to disk by the broker (with a durable queue, it survives a broker restart). Default `true`. */
  readonly persistent?: boolean;
  /** AMQP `contentType`. Default `application/json` for `emit`, none for `publish`. */
  readonly contentType?: string;
  /** AMQP `correlationId`. */
  readonly correlationId?: string;
  /** AMQP `type`. */
  readonly type?: string;
}

/** Options of `emit`: also the routing key, when it is not the publisher's `queue`. */
export interface RmqEmitOptions extends RmqPublishOptions {
  /** Default: the publisher's `queue`. */
  readonly routingKey?: string;
}

/**
 * How a publish ended: `confirmed` (the broker confirmed it) or `parked` (it waits in the outbox and will be sent,
 * in order, when the broker takes it again).
 */
export interface RmqPublishResult {
  readonly messageId: string;
  readonly status: 'confirmed' | 'parked';
}
