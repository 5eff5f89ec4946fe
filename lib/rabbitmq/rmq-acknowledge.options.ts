import { OptionsValidator } from '../core/validation/options.validator.js';

/** Where `@RmqAcknowledge` records its validated options on the handler. */
export const RMQ_ACKNOWLEDGE_METADATA = 'nest-resilience:rmq-acknowledge';

/** Options of `@RmqAcknowledge`: how a failed message is retried through the broker and where it ends. */
export interface RmqAcknowledgeOptions {
  /**
   * The queue the handler consumes (the RMQ transport's `queue`). Retries go back to it and the default dead-letter
   * queue is named after it. Required.
   */
  readonly queue: string;
  /**
   * Deliveries of one message, the first included, before it is dead-lettered. The count travels in the message
   * (header `x-resilience-deliveries`), so it survives consumer restarts. An integer from 1 to 1000. Default `3`.
   */
  readonly maxDeliveries?: number;
  /**
   * Milliseconds before the next delivery of a failed message, or a function of the delivery that failed (1 for the
   * first). `0` re-publishes it to the work queue at once; above `0` it waits in a delay queue
   * `<queue>.delay.<ms>` (queue TTL, dead-lettered back to the work queue by the broker). Default `0`.
   */
  readonly delay?: number | ((delivery: number) => number);
  /**
   * Where a message goes after its last delivery (published through the default exchange). Default
   * `<queue>.dead-letter`.
   */
  readonly deadLetterQueue?: string;
  /**
   * Failures for which this returns `false` are dead-lettered at once, without another delivery. Default: every
   * failure is retried.
   */
  readonly retryIf?: (error: unknown) => boolean;
}

/** Validated `@RmqAcknowledge` options. */
export interface ResolvedRmqAcknowledgeOptions {
  readonly queue: string;
  readonly maxDeliveries: number;
  readonly delay: (delivery: number) => number;
  readonly deadLetterQueue: string;
  readonly retryIf: ((error: unknown) => boolean) | undefined;
}

/** Library defaults of `@RmqAcknowledge`. */
export const DEFAULT_RMQ_ACKNOWLEDGE_OPTIONS = Object.freeze({ maxDeliveries: 3, delay: 0 });

const OPTION_NAMES = ['queue', 'maxDeliveries', 'delay', 'deadLetterQueue', 'retryIf'];

/** The longest delay: RabbitMQ's TTLs are 32-bit milliseconds. */
const MAX_DELAY_MS = 2_147_483_647;

/** Checks `@RmqAcknowledge` options at decoration; a bad option fails naming it, its value and the handler. */
export function validateRmqAcknowledgeOptions(
  options: RmqAcknowledgeOptions,
  declaredAt: string,
): ResolvedRmqAcknowledgeOptions {
  const validator = new OptionsValidator('RmqAcknowledge', 'RmqAcknowledge', declaredAt);
  validator.objectOptions('options', options, "{ queue: 'orders' }", OPTION_NAMES);
  if (typeof options.queue !== 'string' || options.queue === '') {
    validator.fail('queue', options.queue, 'must be the non-empty name of the queue the handler consumes');
  }
  if (
    options.deadLetterQueue !== undefined &&
    (typeof options.deadLetterQueue !== 'string' || !options.deadLetterQueue)
  ) {
    validator.fail('deadLetterQueue', options.deadLetterQueue, 'must be a non-empty queue name');
  }
  validator.optionalFunction('retryIf', options.retryIf);
  const maxDeliveries = validator.integerBetween(
    'maxDeliveries',
    options.maxDeliveries ?? DEFAULT_RMQ_ACKNOWLEDGE_OPTIONS.maxDeliveries,
    1,
    1000,
  );
  const delayOption = options.delay ?? DEFAULT_RMQ_ACKNOWLEDGE_OPTIONS.delay;
  let delay: (delivery: number) => number;
  if (typeof delayOption === 'function') {
    // A function's answer is checked per message: a bad one fails that settlement (the broker keeps the message).
    delay = (delivery) => checkedDelay(delayOption(delivery), declaredAt);
  } else {
    const fixed = validator.integerBetween('delay', delayOption, 0, MAX_DELAY_MS);
    delay = () => fixed;
  }
  return {
    queue: options.queue,
    maxDeliveries,
    delay,
    deadLetterQueue: options.deadLetterQueue ?? `${options.queue}.dead-letter`,
    retryIf: options.retryIf,
  };
}

function checkedDelay(value: unknown, declaredAt: string): number {
  return new OptionsValidator('RmqAcknowledge', 'RmqAcknowledge', declaredAt).integerBetween(
    'delay',
    value,
    0,
    MAX_DELAY_MS,
  );
}
