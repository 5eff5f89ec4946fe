/** Headers the library writes on messages it re-publishes and dead-letters (all prefixed `x-resilience-`). */
export const RMQ_HEADERS = Object.freeze({
  /** Deliveries already made of this message (the failed ones): the attempt budget, kept in the message. */
  deliveries: 'x-resilience-deliveries',
  /** The exchange and routing key the message was first published with: retries keep them, replays use them. */
  originalExchange: 'x-resilience-original-exchange',
  originalRoutingKey: 'x-resilience-original-routing-key',
  /** On a dead letter: the queue it failed in, the last error, and when (epoch ms, for people reading it). */
  queue: 'x-resilience-queue',
  errorName: 'x-resilience-error-name',
  errorMessage: 'x-resilience-error-message',
  errorCode: 'x-resilience-error-code',
  deadLetteredAt: 'x-resilience-dead-lettered-at',
  /** On a dead letter: its id in `registry.deadLetters` (a UUID), kept when a failed replay puts it back. */
  letterId: 'x-resilience-letter-id',
  /** On a dead letter written by `@DeadLetter` (`RmqDeadLetterStore#add`): its body is `{ pattern, args }`. */
  letterFormat: 'x-resilience-letter-format',
  /** On a dead letter whose last replay failed: when (epoch ms), and the error's name, message and code. */
  replayFailedAt: 'x-resilience-replay-failed-at',
  replayErrorName: 'x-resilience-replay-error-name',
  replayErrorMessage: 'x-resilience-replay-error-message',
  replayErrorCode: 'x-resilience-replay-error-code',
  /** On a replayed message: the id of the letter it was replayed from (a consumer may deduplicate on it). */
  replayOf: 'x-resilience-replay-of',
});

/** Deliveries a message has already had (0 on its first), as its header says; garbage counts as 0. */
export function deliveriesOf(headers: Record<string, unknown> | undefined): number {
  const value = Number(headers?.[RMQ_HEADERS.deliveries] ?? 0);
  return Number.isInteger(value) && value >= 0 ? value : 0;
}
