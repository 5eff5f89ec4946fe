/** The error a message was dead-lettered for, as stored (errors are not JSON themselves). */
export interface DeadLetterError {
  readonly name: string;
  readonly message: string;
  /** The `code` of a `ResilienceError` (or any error that has one). */
  readonly code?: string;
}

/** What happened the last time a letter was replayed. */
export interface DeadLetterReplay {
  /** Epoch ms of the replay. */
  readonly at: number;
  /** `succeeded` letters are deleted; `failed` ones stay, with the error, and may be replayed again. */
  readonly outcome: 'succeeded' | 'failed';
  readonly error?: DeadLetterError;
}

/** A message (or provider call) the policies gave up on, kept for inspection and replay. */
export interface DeadLetter {
  /** Unique within its queue (Redis: the stream entry id). */
  readonly id: string;
  /** The dead-letter queue: the `@DeadLetter` name, or `Class.method`. */
  readonly queue: string;
  /** The message pattern (microservices), or `Class.method` for a provider method. */
  readonly pattern: unknown;
  /** The message's data (handlers: one element), or the provider method's arguments. */
  readonly args: readonly unknown[];
  readonly error: DeadLetterError;
  /** Attempts made before giving up (1 without `@Retry`). */
  readonly attempts: number;
  /** Epoch ms at which it was dead-lettered. */
  readonly deadLetteredAt: number;
  /** The outcome of its last replay, once one failed. */
  readonly replay?: DeadLetterReplay;
}

/**
 * Where dead letters are kept: memory (bounded) by default, Redis Streams with `RedisDeadLetterStore`
 * (`nest-resilience/redis`), or your broker's dead-letter queue. Every method may fail (reject): a failed `add`
 * makes the handler fail as it would have without `@DeadLetter`, so the broker keeps the message.
 */
export interface DeadLetterStore {
  /** Stores a letter; resolves with its id. */
  add(letter: Omit<DeadLetter, 'id'>): Promise<string>;
  /** The letters of `queue`, oldest first. */
  list(queue: string): Promise<DeadLetter[]>;
  /** One letter, or `undefined`. */
  get(queue: string, id: string): Promise<DeadLetter | undefined>;
  /**
   * Takes the right to replay a letter: resolves `true` for one caller at a time (across replicas for Redis),
   * `false` while another claim holds it or when it does not exist. A claim ends with `recordReplay` or `delete`,
   * or expires on its own (a replayer that crashed), so the letter can be replayed again.
   */
  claim(queue: string, id: string): Promise<boolean>;
  /** Records the outcome of a failed replay on the letter, which stays, and ends its claim. */
  recordReplay(queue: string, id: string, replay: DeadLetterReplay): Promise<void>;
  /** Removes a letter; resolves `true` when it existed. */
  delete(queue: string, id: string): Promise<boolean>;
}
