import { randomUUID } from 'node:crypto';
import type { DeadLetter, DeadLetterReplay, DeadLetterStore } from '../core/dead-letter/dead-letter.interface.js';
import { OptionsValidator, typeOf } from '../core/validation/options.validator.js';
import {
  headersForReplay,
  headersOfLetter,
  letterIdOf,
  letterOf,
  replayHeaders,
  type LetterMessage,
} from './rmq-dead-letter.mapping.js';
import { RMQ_HEADERS } from './rmq-headers.js';

/** An amqplib message as the store reads it from a queue (`channel.get`). */
interface BrokerMessage extends LetterMessage {
  readonly fields: { readonly exchange: string; readonly routingKey: string; readonly deliveryTag: number };
}

/** The amqplib channel the store browses a queue with (`connection.createChannel()`). */
interface BrowseChannel {
  get(queue: string, options: { noAck: false }): Promise<BrokerMessage | false>;
  ack(message: BrokerMessage): void;
  nack(message: BrokerMessage, allUpTo?: boolean, requeue?: boolean): void;
  checkQueue(queue: string): Promise<unknown>;
  close(): Promise<void>;
  on(event: 'error' | 'close', listener: (...args: never[]) => void): unknown;
}

/** The amqplib confirm channel the store publishes with (`connection.createConfirmChannel()`). */
interface ConfirmChannel {
  publish(
    exchange: string,
    routingKey: string,
    content: Buffer,
    options: Record<string, unknown>,
    callback: (error: unknown) => void,
  ): boolean;
  assertQueue(queue: string, options: Record<string, unknown>): Promise<unknown>;
  close(): Promise<void>;
  on(event: 'error' | 'close' | 'return', listener: (...args: never[]) => void): unknown;
  removeListener(event: 'return' | 'close', listener: (...args: never[]) => void): unknown;
}

/** What the store needs of an amqplib connection (`await connect(url)` from `amqplib`). */
export interface RmqDeadLetterConnection {
  createChannel(): Promise<unknown>;
  createConfirmChannel(): Promise<unknown>;
}

/** Options of a {@link RmqDeadLetterStore}. */
export interface RmqDeadLetterStoreOptions {
  /**
   * Milliseconds a publish (a replay, a letter `@DeadLetter` writes, a failed replay put back) waits for the broker's
   * confirm before it counts as failed. Default `30_000`.
   */
  readonly confirmTimeout?: number;
  /**
   * The most messages one `list`, `get` or `claim` reads of a queue (each is held unacknowledged until the browse
   * ends, then put back). An integer from 1 to 1,000,000. Default `10_000`.
   */
  readonly maxBrowse?: number;
}

/** A letter taken off its queue by `claim`: held unacknowledged on a channel of its own until the replay ends. */
interface Held {
  readonly channel: BrowseChannel;
  readonly message: BrokerMessage;
}

/**
 * Dead letters in RabbitMQ queues: the dead-letter queues `@RmqAcknowledge` publishes to (`<queue>.dead-letter`),
 * which `registry.deadLetters` then lists and replays, and the queues `@DeadLetter` writes to when this is the
 * module's `deadLetterStore`. Give it an amqplib connection (`await connect(url)`); it opens its own channels and
 * leaves the connection to you (close it after the application).
 *
 * AMQP 0-9-1 has no way to read a queue without taking its messages, so `list` and `get` take them with `basic.get`
 * unacknowledged and put them all back (`nack` with requeue: a classic queue puts them back in place), serialized per
 * store. `claim` takes one letter the same way and keeps it unacknowledged on a channel of its own: nobody else can
 * get it meanwhile, and if this process dies the broker puts it back (the claim of a crashed replayer ends with its
 * connection). A replay re-publishes the letter to its original exchange and routing key on a confirm channel
 * (`mandatory`: an unroutable message fails the replay), and only once the broker confirmed it is the letter
 * acknowledged, so it leaves the queue; a second replay then finds nothing and is `skipped`.
 *
 * @example
 * ```ts
 * const connection = await connect('amqp://localhost');
 * ResilienceModule.forRoot({ deadLetterStore: new RmqDeadLetterStore(connection) });
 * // registry.deadLetters.list('orders.dead-letter'), registry.deadLetters.replay('orders.dead-letter', id)
 * ```
 */
export class RmqDeadLetterStore implements DeadLetterStore {
  private readonly confirmTimeout: number;
  private readonly maxBrowse: number;
  private readonly held = new Map<string, Held>();
  private confirm: Promise<ConfirmChannel> | undefined;
  private readonly asserted = new Set<string>();
  /** Browses and publishes run one at a time: two browses of a queue would each see it without the other's letters. */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly connection: RmqDeadLetterConnection,
    options: RmqDeadLetterStoreOptions = {},
  ) {
    const validator = new OptionsValidator('store', 'RmqDeadLetterStore', 'new RmqDeadLetterStore(...)');
    const given = connection as Partial<RmqDeadLetterConnection> | null | undefined;
    if (typeof given?.createChannel !== 'function' || typeof given.createConfirmChannel !== 'function') {
      validator.fail(
        'connection',
        connection,
        `must be an amqplib connection (await connect(url) from 'amqplib'), got ${typeOf(connection)}`,
      );
    }
    validator.objectOptions('options', options, '{ confirmTimeout: 30000 }', ['confirmTimeout', 'maxBrowse']);
    this.confirmTimeout = validator.positiveDuration('confirmTimeout', options.confirmTimeout ?? 30_000);
    this.maxBrowse = validator.integerBetween('maxBrowse', options.maxBrowse ?? 10_000, 1, 1_000_000);
  }

  /** Publishes a `@DeadLetter` letter to the queue named after it (declared durable), confirmed; resolves its id. */
  add(letter: Omit<DeadLetter, 'id'>): Promise<string> {
    return this.serial(async () => {
      const id = randomUUID();
      // JSON.stringify throws for data that is not JSON: the add rejects, and the handler fails as before.
      const content = Buffer.from(JSON.stringify({ pattern: letter.pattern, args: letter.args }));
      const channel = await this.confirmChannel();
      if (!this.asserted.has(letter.queue)) {
        await channel.assertQueue(letter.queue, { durable: true });
        this.asserted.add(letter.queue);
      }
      await this.publish('', letter.queue, content, { headers: headersOfLetter(letter, id), persistent: true });
      return id;
    });
  }

  /** The letters waiting in `queue`, oldest first (at most `maxBrowse`; letters being replayed are not among them). */
  list(queue: string): Promise<DeadLetter[]> {
    return this.serial(() => this.browse(queue, () => false)).then(({ seen }) => seen.map((m) => letterOf(queue, m)));
  }

  /** One letter, or `undefined` (also while another store's replay holds it). */
  async get(queue: string, id: string): Promise<DeadLetter | undefined> {
    const held = this.held.get(heldKey(queue, id));
    if (held !== undefined) return letterOf(queue, held.message);
    const { found } = await this.serial(() => this.browse(queue, (message) => letterIdOf(message) === id));
    return found === undefined ? undefined : letterOf(queue, found);
  }

  /**
   * Takes the letter off the queue, unacknowledged, for a replay: `false` when it is not there (replayed already,
   * deleted, or held by another replay, here or in another process).
   */
  claim(queue: string, id: string): Promise<boolean> {
    return this.serial(async () => {
      const key = heldKey(queue, id);
      if (this.held.has(key)) return false;
      const { found, channel } = await this.browse(queue, (message) => letterIdOf(message) === id, true);
      if (found === undefined || channel === undefined) return false;
      this.held.set(key, { channel, message: found });
      // A channel that closes (the connection dropped) gives the letter back to the broker: the claim ends with it.
      channel.on('close', () => {
        if (this.held.get(key)?.channel === channel) this.held.delete(key);
      });
      return true;
    });
  }

  /**
   * Re-publishes a claimed letter to its original exchange and routing key (from its headers), without the library's
   * headers (a fresh delivery budget) and with `x-resilience-replay-of`; resolves once the broker confirmed it. The
   * replayer `registry.deadLetters` uses for `@RmqAcknowledge` queues.
   */
  republish(queue: string, id: string): Promise<void> {
    return this.serial(async () => {
      const held = this.held.get(heldKey(queue, id));
      if (held === undefined) throw new Error(`dead letter ${id} of ${queue} is not claimed by this store`);
      const { message } = held;
      const headers = message.properties.headers ?? {};
      const exchange = headers[RMQ_HEADERS.originalExchange];
      const routingKey = headers[RMQ_HEADERS.originalRoutingKey];
      if (typeof exchange !== 'string' || typeof routingKey !== 'string') {
        throw new Error(`dead letter ${id} of ${queue} has no original exchange and routing key to replay to`);
      }
      const { headers: _headers, ...properties } = message.properties as Record<string, unknown>;
      await this.publish(exchange, routingKey, message.content, {
        ...properties,
        headers: headersForReplay(message, id),
        persistent: true,
      });
    });
  }

  /** Puts a letter whose replay failed back at the end of its queue, the outcome in headers, then acks the old one. */
  recordReplay(queue: string, id: string, replay: DeadLetterReplay): Promise<void> {
    return this.serial(async () => {
      const key = heldKey(queue, id);
      const held = this.held.get(key);
      if (held === undefined) return;
      const { message } = held;
      const { headers, ...properties } = message.properties as Record<string, unknown>;
      await this.publish('', queue, message.content, {
        ...properties,
        headers: { ...(headers as Record<string, unknown>), [RMQ_HEADERS.letterId]: id, ...replayHeaders(replay) },
        persistent: true,
      });
      await this.release(key, held);
    });
  }

  /** Acknowledges the letter (claimed, or found in the queue): it leaves the queue. `true` when it was there. */
  delete(queue: string, id: string): Promise<boolean> {
    return this.serial(async () => {
      const key = heldKey(queue, id);
      let held = this.held.get(key);
      if (held === undefined) {
        const { found, channel } = await this.browse(queue, (message) => letterIdOf(message) === id, true);
        if (found === undefined || channel === undefined) return false;
        held = { channel, message: found };
      }
      await this.release(key, held);
      return true;
    });
  }

  /**
   * Takes messages of `queue` one by one, unacknowledged, until `match` says so or the queue is empty, then puts back
   * every one but the match. `keep`: the match stays unacknowledged on the returned channel; else it goes back too.
   */
  private async browse(
    queue: string,
    match: (message: BrokerMessage) => boolean,
    keep = false,
  ): Promise<{ seen: BrokerMessage[]; found?: BrokerMessage; channel?: BrowseChannel }> {
    const channel = (await this.connection.createChannel()) as BrowseChannel;
    channel.on('error', () => undefined); // a missing queue closes the channel with a 404: seen as an empty queue
    const seen: BrokerMessage[] = [];
    let found: BrokerMessage | undefined;
    try {
      try {
        await channel.checkQueue(queue);
      } catch {
        return { seen };
      }
      while (seen.length < this.maxBrowse) {
        const message = await channel.get(queue, { noAck: false });
        if (message === false) break;
        if (match(message)) {
          found = message;
          break;
        }
        seen.push(message);
      }
      for (const message of seen) channel.nack(message, false, true);
      if (found !== undefined && keep) return { seen, found, channel };
      if (found !== undefined) channel.nack(found, false, true);
      await channel.close(); // closing after the nacks: the broker has them back in the queue when it resolves
      return { seen, found };
    } catch (error) {
      await channel.close().catch(() => undefined); // what it held goes back to the queue
      throw error;
    }
  }

  /** Acknowledges a held letter and closes its channel: the broker has processed the ack once that resolves. */
  private async release(key: string, held: Held): Promise<void> {
    this.held.delete(key);
    held.channel.ack(held.message);
    await held.channel.close();
  }

  /**
   * Publishes `mandatory` on the confirm channel and resolves once the broker confirmed it; rejects when it was
   * returned (no queue bound to the routing key), nacked, the channel closed (an exchange that does not exist), or no
   * confirm came within `confirmTimeout`.
   */
  private async publish(
    exchange: string,
    routingKey: string,
    content: Buffer,
    options: Record<string, unknown>,
  ): Promise<void> {
    const channel = await this.confirmChannel();
    await new Promise<void>((resolve, reject) => {
      let returned = false;
      // Publishes are serialized: a return while this one waits for its confirm is this one's (AMQP sends it first).
      const onReturn = (): void => {
        returned = true;
      };
      const onClose = (): void => finish(new Error(`the channel closed before ${exchange || '(default)'} confirmed`));
      const timer = setTimeout(
        () => finish(new Error(`no publisher confirm within ${this.confirmTimeout} ms`)),
        this.confirmTimeout,
      );
      const finish = (error: unknown): void => {
        clearTimeout(timer);
        channel.removeListener('return', onReturn);
        channel.removeListener('close', onClose);
        if (error instanceof Error) reject(error);
        else if (error !== null && error !== undefined) reject(new Error('the broker refused the publish'));
        else if (returned) reject(new Error(`unroutable: no queue is bound to "${routingKey}" on "${exchange}"`));
        else resolve();
      };
      channel.on('return', onReturn);
      channel.on('close', onClose);
      channel.publish(exchange, routingKey, content, { ...options, mandatory: true }, finish);
    });
  }

  private confirmChannel(): Promise<ConfirmChannel> {
    if (this.confirm !== undefined) return this.confirm;
    const opening = (this.connection.createConfirmChannel() as Promise<ConfirmChannel>).then((channel) => {
      channel.on('error', () => undefined); // a publish to a missing exchange closes it: that publish fails
      channel.on('close', () => {
        if (this.confirm === opening) this.confirm = undefined;
        this.asserted.clear();
      });
      return channel;
    });
    this.confirm = opening;
    opening.catch(() => {
      if (this.confirm === opening) this.confirm = undefined;
    });
    return opening;
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.tail.then(work, work);
    this.tail = run.catch(() => undefined);
    return run;
  }
}

function heldKey(queue: string, id: string): string {
  return `${queue}\u0000${id}`;
}
