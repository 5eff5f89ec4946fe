import { randomUUID } from 'node:crypto';
import { Cluster, type Redis } from 'ioredis';
import type { CircuitCoordinator, CoordinatedCircuit } from '../core/circuit-breaker/circuit-coordinator.interface.js';
import type { CoordinationErrorEvent } from '../core/events/resilience-event.interface.js';
import type { ResilienceEvents } from '../core/events/resilience-events.js';
import type { ResolvedRedisStoreOptions } from './redis-store.options.js';
import type { ScriptedClient } from './scripted-client.js';
import { sendWhenReady } from './send-when-ready.js';

/**
 * A peer's message: breaker `name` opened and stays open `remainingMs` more, sent by replica `from`. A duration, not
 * an instant: an instant would be read against the receiver's clock, so a sender ten minutes ahead would keep every
 * other replica open ten minutes longer.
 */
interface OpenMessage {
  readonly name: string;
  readonly remainingMs: number;
  readonly from: string;
}

/** The first pause before announcing again an opening Redis did not take, doubled up to {@link MAX_RETRY_MS}. */
const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 2000;

/**
 * Coordinates circuit breakers between replicas through Redis. Nothing here runs while a breaker is closed. An
 * opening is written as a key that expires when the breaker would let probes through (read by replicas that start
 * later) and published on a channel (peers open at once). In half-open, the probe lease is a `SET NX PX` key, so one
 * replica at a time probes. Any Redis error falls back to the local decision and is reported as a
 * `coordination-error` event: an outage never opens or closes a breaker by itself.
 */
export class RedisCircuitCoordinator implements CircuitCoordinator {
  /** Identifies this replica in messages and leases. */
  readonly replicaId = randomUUID();
  /** By name; a set because several applications sharing the store may each have a breaker of that name. */
  private readonly circuits = new Map<string, Set<CoordinatedCircuit>>();
  private readonly channel: string;
  private subscriber: Redis | Cluster | undefined;
  /** The event streams of the applications using the store (see `RedisStore.attach`). */
  private readonly attached: ResilienceEvents[] = [];
  /** Reads the openings missed while disconnected, each time a connection becomes ready. */
  private readonly catchUp = () => {
    for (const circuits of this.circuits.values()) for (const circuit of circuits) this.readOpening(circuit);
    // Openings Redis did not take while it was away: announced now rather than at their next retry.
    for (const [name, pending] of this.unannounced) {
      if (pending.timer === undefined) continue;
      clearTimeout(pending.timer);
      pending.timer = undefined;
      this.announce(name, pending.until, FIRST_RETRY_MS);
    }
  };

  /** The store's client now (the store makes a new one when reused after every app released it). */
  private readonly clientOf: () => ScriptedClient;
  /** The client whose 'ready' events trigger {@link catchUp}. */
  private listenedClient: ScriptedClient | undefined;
  /** Openings not announced yet (Redis did not answer), by name: until when they last, on this replica's clock. */
  private readonly unannounced = new Map<string, { until: number; timer: NodeJS.Timeout | undefined }>();

  constructor(
    client: ScriptedClient | (() => ScriptedClient),
    private readonly options: ResolvedRedisStoreOptions,
  ) {
    this.clientOf = typeof client === 'function' ? client : () => client;
    this.channel = `${options.prefix}circuit-open`;
  }

  private get client(): ScriptedClient {
    return this.clientOf();
  }

  attach(events: ResilienceEvents): void {
    this.attached.push(events);
  }

  /** The application whose event stream is `events` stopped using the store. */
  detach(events: ResilienceEvents | undefined): void {
    const index = events === undefined ? -1 : this.attached.indexOf(events);
    if (index >= 0) this.attached.splice(index, 1);
  }

  join(circuit: CoordinatedCircuit): void {
    let named = this.circuits.get(circuit.name);
    if (named === undefined) this.circuits.set(circuit.name, (named = new Set()));
    named.add(circuit);
    this.subscribe();
    // A breaker opened by a peer before this replica started is still open here.
    this.readOpening(circuit);
  }

  publishOpen(name: string, remainingMs: number): void {
    const pending = this.unannounced.get(name);
    if (pending?.timer !== undefined) clearTimeout(pending.timer);
    this.unannounced.delete(name);
    this.announce(name, performance.now() + remainingMs, FIRST_RETRY_MS);
  }

  /** Writes the opening and publishes it; when Redis does not take it, tries again while the opening lasts. */
  private announce(name: string, until: number, retryMs: number): void {
    const remainingMs = Math.ceil(until - performance.now());
    if (remainingMs <= 0) return;
    const message: OpenMessage = { name, remainingMs, from: this.replicaId };
    this.call(name, 'publish', () => this.client.set(this.openKey(name), '1', 'PX', remainingMs))
      .then(() => this.call(name, 'publish', () => this.client.publish(this.channel, JSON.stringify(message))))
      .then(
        () => {
          if (this.unannounced.get(name)?.until === until) this.unannounced.delete(name);
        },
        () => {
          const current = this.unannounced.get(name);
          if (current !== undefined && current.until !== until) return; // a newer opening took over
          const entry = { until, timer: undefined as NodeJS.Timeout | undefined };
          entry.timer = setTimeout(() => {
            entry.timer = undefined;
            this.announce(name, until, Math.min(MAX_RETRY_MS, retryMs * 2));
          }, retryMs);
          entry.timer.unref();
          this.unannounced.set(name, entry);
        },
      );
  }

  acquireProbeLease(name: string, ttlMs: number): Promise<boolean> {
    const lease = () => this.client.set(this.leaseKey(name), this.replicaId, 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX');
    return this.call(name, 'probe-lease', lease).then(
      (reply) => reply === 'OK',
      // Redis cannot tell: behave as a lone replica and probe.
      () => true,
    );
  }

  releaseProbeLease(name: string): void {
    this.call(name, 'probe-lease', () =>
      this.client.nestResilienceReleaseLease(this.leaseKey(name), this.replicaId),
    ).catch(() => undefined);
  }

  /**
   * Closes the subscriber connection and forgets the breakers (the store closes the main connection, when it owns
   * it): called when no application uses the store any more. A later {@link join} subscribes again.
   */
  close(): void {
    for (const { timer } of this.unannounced.values()) if (timer !== undefined) clearTimeout(timer);
    this.unannounced.clear();
    this.listenedClient?.off('ready', this.catchUp);
    this.listenedClient = undefined;
    this.subscriber?.disconnect();
    this.subscriber = undefined;
    this.circuits.clear();
  }

  /** Opens `circuit` here if a peer's opening of it is still current in Redis (for the key's time to live). */
  private readOpening(circuit: CoordinatedCircuit): void {
    this.call(circuit.name, 'publish', () => this.client.pttl(this.openKey(circuit.name))).then(
      (remainingMs) => {
        if (remainingMs > 0) circuit.openedByPeer(remainingMs);
      },
      () => undefined,
    );
  }

  private subscribe(): void {
    if (this.subscriber) return;
    // A connection of its own (a subscribed connection can run nothing else), which queues the SUBSCRIBE until it
    // is connected and subscribes again after every reconnect. `maxRetriesPerRequest: null`: the store's client has
    // 0 (a request never waits for Redis), and copied here it dropped the queued SUBSCRIBE at the first failed
    // connection attempt, so a replica started during an outage never subscribed, even after Redis came back.
    const overrides = { enableOfflineQueue: true, autoResubscribe: true, maxRetriesPerRequest: null };
    const client = this.client;
    const subscriber = client instanceof Cluster ? client.duplicate(undefined, overrides) : client.duplicate(overrides);
    subscriber.on('error', () => undefined);
    // Openings published while this replica could not hear them are still in Redis as keys until they expire: read
    // them whenever a connection comes back (either one may be the last to reconnect).
    subscriber.on('ready', this.catchUp);
    client.on('ready', this.catchUp);
    this.listenedClient = client;
    subscriber.on('message', (channel: string, text: string) => {
      if (channel === this.channel) this.receive(text);
    });
    subscriber.subscribe(this.channel).catch(() => undefined);
    this.subscriber = subscriber;
  }

  private receive(text: string): void {
    let message: OpenMessage;
    try {
      message = JSON.parse(text) as OpenMessage;
    } catch {
      return;
    }
    if (message.from === this.replicaId) return;
    const circuits = this.circuits.get(message.name);
    const { remainingMs } = message;
    if (typeof remainingMs !== 'number' || !(remainingMs > 0)) return; // an older replica's message, or garbage
    if (circuits) for (const circuit of circuits) circuit.openedByPeer(remainingMs);
  }

  /**
   * Runs one Redis command within the command timeout; a failure is reported and rethrown for the caller's fallback.
   */
  private async call<T>(
    policy: string,
    operation: CoordinationErrorEvent['operation'],
    command: () => Promise<T>,
  ): Promise<T> {
    try {
      return await sendWhenReady(this.client, command, this.options.commandTimeout);
    } catch (error) {
      for (const events of this.attached) {
        if (events.observed) events.emit({ type: 'coordination-error', policy, operation, error });
      }
      throw error;
    }
  }

  private openKey(name: string): string {
    return `${this.options.prefix}circuit:${name}:open`;
  }

  private leaseKey(name: string): string {
    return `${this.options.prefix}circuit:${name}:probe`;
  }
}
