import { randomUUID } from 'node:crypto';
import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { ResilienceEvents } from '../core/events/resilience-events.js';
import { MemoryOutboxStore } from '../core/outbox/memory-outbox.store.js';
import { OutboxState } from '../core/outbox/outbox.state.js';
import type { OutboxEntry, OutboxStore } from '../core/outbox/outbox.store.js';
import type { ResilienceRegistry } from '../core/registry/resilience-registry.js';
import { backoffDelay } from '../core/retry/backoff.js';
import { RmqConnection } from './rmq-connection.js';
import { notSent } from './rmq-publish.error.js';
import { CloseEndedWaits } from './close-ended-waits.js';
import {
  resolveRmqPublisherOptions,
  type ResolvedRmqPublisherOptions,
  type RmqEmitOptions,
  type RmqPublisherOptions,
  type RmqPublishOptions,
  type RmqPublishResult,
} from './rmq-publisher.options.js';
import { publishConfirmed } from './rmq-confirmed-publish.js';
import type { Lane, Pending } from './rmq-publish-lane.js';
import { decodeMessage, encodeMessage, laneOf, type RmqOutgoingMessage } from './rmq-outgoing-message.js';

/** A drain round's lease outlives a round: its confirms and the store's answers. */
const LEASE_MARGIN_MS = 10_000;

/**
 * A RabbitMQ publisher with publisher confirms, retries with backoff and an outbox: a message the broker does not
 * confirm (down, channel closed or blocked, a nack, no confirm within `confirmTimeout`) is sent again with backoff;
 * when the retries are spent it is parked in the outbox (with every later message of its exchange and routing key)
 * and sent, oldest first, once the broker is back. Each message keeps its `messageId` throughout: delivery is at
 * least once, and a consumer that deduplicates on the id (`@Idempotent`) handles each message once.
 *
 * `publish` resolves `{ status: 'confirmed' }` or `{ status: 'parked' }`, and rejects with an {@link RmqPublishError}
 * only when the message could not be parked either (outbox full, store down, publisher closed): never a silent loss.
 * Inject it with `@InjectRmqPublisher(name)` after `RmqPublisherModule.register({ name, urls })`.
 */
export class RmqPublisher implements OnApplicationBootstrap, OnApplicationShutdown {
  /** The options, defaults applied. */
  readonly options: ResolvedRmqPublisherOptions;
  private readonly store: OutboxStore;
  private readonly state: OutboxState;
  private readonly connection: RmqConnection;
  private readonly lanes = new Map<string, Lane>();
  /** Ids this process parked, with their lane: a drain of a shared outbox also sends other replicas' messages. */
  private readonly parkedIds = new Map<string, string>();
  /** Lanes that are running, to be awaited by `close`. */
  private readonly running = new Set<Promise<void>>();
  /** Backoff waits, ended early by `close`. */
  private readonly waits = new CloseEndedWaits();
  private readonly holder = randomUUID();
  private readonly limits: { maxMessages: number; maxBytes: number };
  /** The outbox held messages of an earlier run: every lane queues behind them until it is empty. */
  private backlog = false;
  private appending = 0;
  private draining: Promise<void> | undefined;
  private drainTimer: ReturnType<typeof setInterval> | undefined;
  private lastError: unknown = new Error('not connected yet');
  private closed = false;
  private started = false;

  constructor(
    options: RmqPublisherOptions,
    registry: ResilienceRegistry | undefined,
    private readonly events: ResilienceEvents | undefined,
  ) {
    this.options = resolveRmqPublisherOptions(options, 'RmqPublisherModule.register');
    const { name, outbox, urls, maxReconnectDelay, queue } = this.options;
    this.store = outbox.store ?? new MemoryOutboxStore();
    this.limits = { maxMessages: outbox.maxMessages, maxBytes: outbox.maxBytes };
    this.state = registry?.outboxes.obtain(name, () => new OutboxState(name)) ?? new OutboxState(name);
    this.connection = new RmqConnection(
      urls,
      maxReconnectDelay,
      {
        opened: () => {
          this.state.connected = true;
          this.drainSoon();
        },
        lost: (error) => {
          this.state.connected = false;
          this.lastError = error;
        },
      },
      // The queue of `emit`, asserted on every connection as Nest's ClientRMQ does: a message published to a queue
      // nobody declared yet would be confirmed and dropped.
      async (channel) => {
        if (queue !== undefined) await channel.assertQueue(queue, { durable: true });
      },
    );
  }

  /** @internal Nest: connects when the application starts. */
  onApplicationBootstrap(): Promise<void> {
    return this.start();
  }

  /** @internal Nest: closes when the application shuts down. */
  onApplicationShutdown(): Promise<void> {
    return this.close();
  }

  /** The publisher's name. */
  get name(): string {
    return this.options.name;
  }

  /** True while a channel to the broker is open. */
  get connected(): boolean {
    return this.connection.current !== undefined;
  }

  /**
   * Connects, reads whether the outbox holds messages of an earlier run, and starts draining it. Resolves after the
   * first connection attempt, connected or not (the publisher keeps trying; publishes meanwhile are parked).
   */
  async start(): Promise<void> {
    if (this.started || this.closed) return;
    this.started = true;
    try {
      const size = await this.store.size(this.name);
      this.state.sized(size);
      if (size.count > 0) this.backlog = true;
    } catch {
      // The store will be asked again when draining.
    }
    this.drainTimer = setInterval(() => this.drainSoon(), this.options.outbox.drainInterval);
    this.drainTimer.unref();
    await this.connection.start();
  }

  /** Publishes `content` to `routingKey` through the options' exchange (default: the publisher's). */
  publish(routingKey: string, content: Buffer | string, options: RmqPublishOptions = {}): Promise<RmqPublishResult> {
    const messageId = options.messageId ?? randomUUID();
    const message: RmqOutgoingMessage = {
      exchange: options.exchange ?? this.options.exchange,
      routingKey,
      content: typeof content === 'string' ? Buffer.from(content) : content,
      properties: {
        messageId,
        persistent: options.persistent ?? true,
        ...(options.headers === undefined ? {} : { headers: options.headers }),
        ...(options.contentType === undefined ? {} : { contentType: options.contentType }),
        ...(options.correlationId === undefined ? {} : { correlationId: options.correlationId }),
        ...(options.type === undefined ? {} : { type: options.type }),
      },
    };
    return new Promise<RmqPublishResult>((resolve, reject) => {
      const entry: OutboxEntry = {
        id: messageId,
        lane: laneOf(message),
        body: encodeMessage(message),
        bytes: message.content.length,
      };
      this.enqueue({ message, entry, resolve, reject });
    });
  }

  /**
   * Sends an event as Nest's `ClientRMQ.emit` does (`{ pattern, data }` as JSON, to the publisher's `queue`), so an
   * `@EventPattern(pattern)` handler on Nest's RMQ transport receives `data`.
   */
  emit(pattern: string, data: unknown, options: RmqEmitOptions = {}): Promise<RmqPublishResult> {
    const routingKey = options.routingKey ?? this.options.queue;
    if (routingKey === undefined) {
      return Promise.reject(
        new TypeError(`RmqPublisher "${this.name}": emit needs the publisher's queue option or options.routingKey`),
      );
    }
    const { routingKey: _routingKey, ...publishOptions } = options;
    return this.publish(routingKey, JSON.stringify({ pattern, data }), {
      contentType: 'application/json',
      ...publishOptions,
    });
  }

  /** What the outbox holds now, as its store answers. */
  async outboxSize(): Promise<{ count: number; bytes: number }> {
    const size = await this.store.size(this.name);
    this.state.sized(size);
    return { ...size };
  }

  /**
   * Stops: messages still being retried are parked (a Redis outbox keeps them for the next run; a memory outbox
   * loses them with the process, as its name says), then the connection closes.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.drainTimer);
    this.waits.wakeAll();
    await Promise.all(this.running);
    await this.draining;
    await this.connection.close();
    this.state.connected = false;
  }

  private enqueue(pending: Pending): void {
    if (this.closed) {
      pending.reject(notSent(this.name, 'RMQ_PUBLISH_FAILED', pending.entry, 'the publisher is closed'));
      return;
    }
    let lane = this.lanes.get(pending.entry.lane);
    if (lane === undefined) this.lanes.set(pending.entry.lane, (lane = { queue: [], running: false, parked: 0 }));
    // Behind messages already parked: sent now, it would overtake them.
    if (this.backlog || lane.parked > 0) {
      void this.park(lane, [pending], undefined);
      return;
    }
    lane.queue.push(pending);
    if (!lane.running) {
      lane.running = true;
      const run = this.runLane(pending.entry.lane, lane).finally(() => this.running.delete(run));
      this.running.add(run);
    }
  }

  /** Sends a lane's messages in order, a batch at a time; retries from the first unconfirmed; parks when spent. */
  private async runLane(key: string, lane: Lane): Promise<void> {
    const { retry, maxInFlight } = this.options;
    let failures = 0;
    let previousDelay = 0;
    while (lane.queue.length > 0) {
      if (this.closed) {
        await this.park(lane, lane.queue.splice(0), new Error('the publisher closed'));
        break;
      }
      const batch = lane.queue.slice(0, maxInFlight);
      const results = await this.send(batch.map((pending) => pending.message));
      let confirmed = 0;
      while (confirmed < batch.length && results[confirmed] === undefined) confirmed++;
      lane.queue.splice(0, confirmed);
      for (let i = 0; i < confirmed; i++) {
        batch[i].resolve({ messageId: batch[i].entry.id, status: 'confirmed' });
      }
      if (confirmed === batch.length) {
        failures = 0;
        continue;
      }
      failures++;
      if (failures < retry.maxAttempts && !this.closed) {
        previousDelay = backoffDelay(retry, failures, previousDelay);
        await this.waits.wait(previousDelay);
        continue;
      }
      // Spent: the failed message and every later one of its lane wait in the outbox, in order.
      await this.park(lane, lane.queue.splice(0), results[confirmed]);
      failures = 0;
      previousDelay = 0;
    }
    lane.running = false;
    if (lane.queue.length === 0 && lane.parked === 0) this.lanes.delete(key); // per-lane state stays bounded
  }

  /** Parks messages in order; resolves their callers with `parked`, or rejects them all when the store refuses. */
  private async park(lane: Lane, pendings: readonly Pending[], error: unknown): Promise<void> {
    if (pendings.length === 0) return;
    lane.parked += pendings.length; // before the await: later messages of the lane queue behind these
    this.appending++;
    try {
      const result = await this.store.append(
        this.name,
        pendings.map((pending) => pending.entry),
        this.limits,
      );
      if (!result.accepted) {
        lane.parked -= pendings.length;
        this.state.sized(result.size);
        for (const pending of pendings) {
          this.state.countRefused();
          this.events?.emit({
            type: 'outbox-full',
            policy: this.name,
            messageId: pending.entry.id,
            lane: pending.entry.lane,
            limit: result.limit,
            depth: result.size.count,
          });
          pending.reject(
            notSent(
              this.name,
              'RMQ_OUTBOX_FULL',
              pending.entry,
              `the broker did not confirm it and the outbox is full (${result.limit}: ` +
                `${result.limit === 'maxMessages' ? this.limits.maxMessages : this.limits.maxBytes})`,
              error,
            ),
          );
        }
        return;
      }
      this.state.sized(result.size);
      this.state.countParked(pendings.length);
      for (const pending of pendings) {
        this.parkedIds.set(pending.entry.id, pending.entry.lane);
        if (this.events?.observed === true) {
          this.events.emit({
            type: 'outbox-parked',
            policy: this.name,
            messageId: pending.entry.id,
            lane: pending.entry.lane,
            error,
            depth: result.size.count,
          });
        }
        pending.resolve({ messageId: pending.entry.id, status: 'parked' });
      }
    } catch (storeError) {
      lane.parked -= pendings.length;
      for (const pending of pendings) {
        pending.reject(
          notSent(
            this.name,
            'RMQ_PUBLISH_FAILED',
            pending.entry,
            'the broker did not confirm it and the outbox store failed',
            storeError,
          ),
        );
      }
    } finally {
      this.appending--;
    }
    this.drainSoon();
  }

  /** Starts a drain unless one runs (or the publisher is closed, or not connected). */
  private drainSoon(): void {
    if (this.draining !== undefined || this.closed || this.connection.current === undefined) return;
    this.draining = this.drain().finally(() => (this.draining = undefined));
  }

  /**
   * Sends the outbox, oldest first, a batch at a time, each batch confirmed before its entries are removed; stops at
   * the first message not confirmed (the next connection, or the next interval, starts again). With a shared store,
   * only the holder of the drain lease drains.
   */
  private async drain(): Promise<void> {
    const { confirmTimeout, outbox } = this.options;
    const leaseTtl = confirmTimeout * 2 + LEASE_MARGIN_MS;
    let leased = false;
    try {
      for (;;) {
        if (this.closed || this.connection.current === undefined) return;
        leased = await this.store.lease(this.name, this.holder, leaseTtl);
        if (!leased) return;
        const entries = await this.store.peek(this.name, outbox.drainBatch);
        if (entries.length === 0) {
          this.state.sized({ count: 0, bytes: 0 });
          // Appends still on their way to the store drain on their own (`park` calls `drainSoon`).
          if (this.appending === 0) this.backlog = false;
          return;
        }
        const results = await this.send(entries.map((entry) => decodeMessage(entry.body)));
        let confirmed = 0;
        while (confirmed < entries.length && results[confirmed] === undefined) confirmed++;
        if (confirmed === 0) return;
        const sent = entries.slice(0, confirmed);
        const size = await this.store.remove(
          this.name,
          sent.map((entry) => entry.id),
        );
        this.state.sized(size);
        this.state.countSent(confirmed);
        for (const entry of sent) this.sent(entry, size.count);
        if (confirmed < entries.length) return;
      }
    } catch {
      // The store or the broker failed mid-drain: what was not removed is sent again next time (at least once).
    } finally {
      if (leased) await this.store.release(this.name, this.holder).catch(() => undefined);
    }
  }

  private sent(entry: OutboxEntry, depth: number): void {
    const laneKey = this.parkedIds.get(entry.id);
    if (laneKey !== undefined) {
      this.parkedIds.delete(entry.id);
      const lane = this.lanes.get(laneKey);
      if (lane !== undefined && --lane.parked === 0 && !lane.running && lane.queue.length === 0) {
        this.lanes.delete(laneKey);
      }
    }
    if (this.events?.observed === true) {
      this.events.emit({ type: 'outbox-sent', policy: this.name, messageId: entry.id, lane: entry.lane, depth });
    }
  }

  /** Publishes `messages` on the open channel and waits for their confirms: `undefined` each, or why not. */
  private send(messages: readonly RmqOutgoingMessage[]): Promise<unknown[]> {
    const { current, blocked } = this.connection;
    return publishConfirmed(current, blocked, this.lastError, messages, this.options.confirmTimeout);
  }
}
