import { randomUUID } from 'node:crypto';
import { Cluster, type Redis } from 'ioredis';
import type { CircuitCoordinator, CoordinatedCircuit } from '../core/circuit-breaker/circuit-coordinator.js';
import type { CoordinationErrorEvent } from '../core/events/resilience-event.interface.js';
import type { ResilienceEvents } from '../core/events/resilience-events.js';
import type { ResolvedRedisStoreOptions } from './redis-store-options.js';
import type { ScriptedClient } from './scripted-client.js';
import { sendWhenReady } from './send-when-ready.js';

/** A peer's message: breaker `name` opened until `retryAt` (epoch ms), sent by replica `from`. */
interface OpenMessage {
  readonly name: string;
  readonly retryAt: number;
  readonly from: string;
}

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
  private readonly circuits = new Map<string, CoordinatedCircuit>();
  private readonly channel: string;
  private subscriber: Redis | Cluster | undefined;
  private events: ResilienceEvents | undefined;

  constructor(
    private readonly client: ScriptedClient,
    private readonly options: ResolvedRedisStoreOptions,
  ) {
    this.channel = `${options.prefix}circuit-open`;
  }

  attach(events: ResilienceEvents): void {
    this.events = events;
  }

  join(circuit: CoordinatedCircuit): void {
    this.circuits.set(circuit.name, circuit);
    this.subscribe();
    // A breaker opened by a peer before this replica started is still open here.
    this.call(circuit.name, 'publish', () => this.client.get(this.openKey(circuit.name))).then(
      (value) => {
        if (value) circuit.openedByPeer(Number(value));
      },
      () => undefined,
    );
  }

  publishOpen(name: string, retryAt: number): void {
    const ttl = Math.max(1, Math.ceil(retryAt - Date.now()));
    const message: OpenMessage = { name, retryAt, from: this.replicaId };
    this.call(name, 'publish', () => this.client.set(this.openKey(name), String(retryAt), 'PX', ttl))
      .then(() => this.call(name, 'publish', () => this.client.publish(this.channel, JSON.stringify(message))))
      .catch(() => undefined);
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
    this.call(name, 'probe-lease', () => this.client.nestResilienceReleaseLease(this.leaseKey(name), this.replicaId)).catch(
      () => undefined,
    );
  }

  /** Closes the subscriber connection (the store closes the main one, when it owns it). */
  close(): void {
    this.subscriber?.disconnect();
    this.subscriber = undefined;
  }

  private subscribe(): void {
    if (this.subscriber) return;
    // A connection of its own (a subscribed connection can run nothing else), which queues the SUBSCRIBE until it
    // is connected and subscribes again after every reconnect.
    const overrides = { enableOfflineQueue: true, autoResubscribe: true };
    const subscriber =
      this.client instanceof Cluster ? this.client.duplicate(undefined, overrides) : this.client.duplicate(overrides);
    subscriber.on('error', () => undefined);
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
    this.circuits.get(message.name)?.openedByPeer(message.retryAt);
  }

  /** Runs one Redis command within the command timeout; a failure is reported and rethrown for the caller's fallback. */
  private async call<T>(
    policy: string,
    operation: CoordinationErrorEvent['operation'],
    command: () => Promise<T>,
  ): Promise<T> {
    try {
      return await sendWhenReady(this.client, command, this.options.commandTimeout);
    } catch (error) {
      if (this.events?.observed) this.events.emit({ type: 'coordination-error', policy, operation, error });
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
