import { connect, type ChannelModel, type ConfirmChannel } from 'amqplib';
import { backoffDelay } from '../core/retry/backoff.js';

/** What the connection tells its owner. */
export interface RmqConnectionListener {
  /** A confirm channel is open (first time, or after a reconnection). */
  opened(channel: ConfirmChannel): void;
  /** The channel is gone (broker down, connection lost, channel error): publishes fail until the next `opened`. */
  lost(error: unknown): void;
}

/**
 * One connection and one confirm channel to the broker, opened again (exponential backoff up to `maxDelay`, the
 * URLs in turn) whenever they close, until `close()`. Owned here rather than by amqp-connection-manager, whose
 * channel buffers publishes in memory without a bound while disconnected: the publisher's outbox is that buffer,
 * bounded and visible.
 */
export class RmqConnection {
  private model: ChannelModel | undefined;
  private channel: ConfirmChannel | undefined;
  private closed = false;
  private failures = 0;
  private previousDelay = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private attempt: Promise<void> | undefined;
  /** The broker said it blocks publishers (a resource alarm): `blocked` names why. */
  blocked: string | undefined;

  constructor(
    private readonly urls: readonly string[],
    private readonly maxDelay: number,
    private readonly listener: RmqConnectionListener,
    private readonly prepare: (channel: ConfirmChannel) => Promise<void>,
  ) {}

  /** The open channel, or `undefined` while there is none. */
  get current(): ConfirmChannel | undefined {
    return this.channel;
  }

  /** Connects now; resolves once the first attempt ended (connected or not: later attempts follow by themselves). */
  start(): Promise<void> {
    return (this.attempt ??= this.open());
  }

  private async open(): Promise<void> {
    const url = this.urls[this.failures % this.urls.length];
    let model: ChannelModel | undefined;
    try {
      model = await connect(url);
      if (this.closed) return void model.close().catch(() => undefined);
      const channel = await model.createConfirmChannel();
      await this.prepare(channel);
      if (this.closed) return void model.close().catch(() => undefined);
      let gone = false;
      const lose = (error: unknown) => {
        if (gone) return;
        gone = true;
        if (this.channel === channel) this.channel = undefined;
        this.model = undefined;
        this.blocked = undefined;
        model?.close().catch(() => undefined);
        this.listener.lost(error);
        this.schedule();
      };
      model.on('error', () => undefined); // 'close' follows with the reason
      model.on('close', (error?: unknown) => lose(error ?? new Error('connection closed')));
      channel.on('error', () => undefined);
      channel.on('close', () => lose(new Error('channel closed')));
      model.on('blocked', (reason: string) => (this.blocked = reason));
      model.on('unblocked', () => (this.blocked = undefined));
      this.model = model;
      this.channel = channel;
      this.failures = 0;
      this.previousDelay = 0;
      this.listener.opened(channel);
    } catch (error) {
      model?.close().catch(() => undefined);
      this.failures++;
      this.listener.lost(error);
      this.schedule();
    } finally {
      this.attempt = undefined;
    }
  }

  private schedule(): void {
    if (this.closed || this.timer !== undefined) return;
    const delay = backoffDelay(
      { backoff: 'exponential', initialDelay: 100, maxDelay: this.maxDelay, multiplier: 2, jitter: 'equal' },
      Math.max(1, this.failures),
      this.previousDelay,
    );
    this.previousDelay = delay;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.start();
    }, delay);
  }

  /** Stops reconnecting and closes the connection. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    const model = this.model;
    this.model = undefined;
    this.channel = undefined;
    await this.attempt;
    await model?.close().catch(() => undefined);
  }
}
