import type { DeadLetter, DeadLetterReplay, DeadLetterStore } from '../core/dead-letter/dead-letter.interface.js';
import { randomUUID } from 'node:crypto';
import { COMPENSATION_WINDOW_MS, sameSlotKey } from './compensations.js';
import type { RedisStore } from './redis-store.js';
import type { ScriptedClient } from './scripted-client.js';
import { sendWhenReady } from './send-when-ready.js';

/** Options of a {@link RedisDeadLetterStore}. */
export interface RedisDeadLetterStoreOptions {
  /** Each queue's stream keeps about this many letters (`XADD ... MAXLEN ~`); the oldest go first. Default `10_000`. */
  readonly maxLength?: number;
  /** Key prefix after the store's own prefix. Default `dlq:`. */
  readonly prefix?: string;
}

/**
 * Dead letters in Redis Streams, one stream per queue (`XADD` with `MAXLEN ~`), through a {@link RedisStore}'s
 * connection: they survive restarts and every replica sees them. Replays are claimed in a hash (`HSETNX`), so a
 * letter is replayed at most once across replicas; the outcome of a failed replay is kept there too.
 *
 * An `add` that failed or timed out never appears later: the handler has failed and the broker redelivers the
 * message, so a letter written late would be replayed besides the redelivery. Each add carries a token; when it
 * fails, a cancel (queued on the connection behind it, sent again until Redis answers) deletes the entry it wrote
 * or marks the token cancelled so that the add refuses itself (see `dead-letter.script.ts`).
 *
 * @example `ResilienceModule.forRoot({ store, deadLetterStore: new RedisDeadLetterStore(store) })`
 */
export class RedisDeadLetterStore implements DeadLetterStore {
  private readonly prefix: string;
  private readonly maxLength: number;

  constructor(
    private readonly store: RedisStore,
    options: RedisDeadLetterStoreOptions = {},
  ) {
    this.prefix = store.options.prefix + (options.prefix ?? 'dlq:');
    this.maxLength = options.maxLength ?? 10_000;
  }

  add(letter: Omit<DeadLetter, 'id'>): Promise<string> {
    // JSON.stringify throws for payloads that are not JSON: the add rejects, and the handler fails as before.
    const body = JSON.stringify(letter);
    const stream = this.stream(letter.queue);
    const marker = sameSlotKey(stream, `:added:${randomUUID()}`);
    return this.send((client) =>
      client.nestResilienceDeadLetterAdd(stream, marker, this.maxLength, body, COMPENSATION_WINDOW_MS),
    ).then(
      (id) => {
        if (id === null) throw new Error('the dead letter was cancelled before it was written');
        return id;
      },
      (error: unknown) => {
        this.store.compensations.run(() =>
          this.send((client) => client.nestResilienceDeadLetterCancel(stream, marker, COMPENSATION_WINDOW_MS)),
        );
        throw error;
      },
    );
  }

  async list(queue: string): Promise<DeadLetter[]> {
    const [entries, replays] = await Promise.all([
      this.send((client) => client.xrange(this.stream(queue), '-', '+')),
      this.send((client) => client.hgetall(this.replays(queue))),
    ]);
    return entries.map(([id, fields]) => letterOf(id, fields, replays[id]));
  }

  async get(queue: string, id: string): Promise<DeadLetter | undefined> {
    const [entries, replay] = await Promise.all([
      this.send((client) => client.xrange(this.stream(queue), id, id)),
      this.send((client) => client.hget(this.replays(queue), id)),
    ]);
    return entries.length === 0 ? undefined : letterOf(entries[0][0], entries[0][1], replay ?? undefined);
  }

  async claim(queue: string, id: string): Promise<boolean> {
    if ((await this.get(queue, id)) === undefined) return false;
    const claimed = await this.send((client) =>
      client.hsetnx(this.replays(queue), id, JSON.stringify({ at: Date.now(), outcome: 'claimed' })),
    );
    return claimed === 1;
  }

  async recordReplay(queue: string, id: string, replay: DeadLetterReplay): Promise<void> {
    await this.send((client) => client.hset(this.replays(queue), id, JSON.stringify(replay)));
  }

  async delete(queue: string, id: string): Promise<boolean> {
    const [removed] = await Promise.all([
      this.send((client) => client.xdel(this.stream(queue), id)),
      this.send((client) => client.hdel(this.replays(queue), id)),
    ]);
    return removed > 0;
  }

  private stream(queue: string): string {
    return `${this.prefix}${queue}`;
  }

  private replays(queue: string): string {
    return `${this.prefix}${queue}:replays`;
  }

  private send<T>(command: (client: ScriptedClient) => Promise<T>): Promise<T> {
    const client = this.store.redis as ScriptedClient;
    return sendWhenReady(client, () => command(client), this.store.options.commandTimeout);
  }
}

function letterOf(id: string, fields: string[], replay: string | undefined): DeadLetter {
  const body = JSON.parse(fields[fields.indexOf('letter') + 1]) as Omit<DeadLetter, 'id'>;
  const recorded = replay === undefined ? undefined : (JSON.parse(replay) as DeadLetterReplay | { outcome: 'claimed' });
  // A claim without an outcome yet is a replay in progress: shown as none until it ends.
  return recorded === undefined || recorded.outcome === 'claimed' ? { ...body, id } : { ...body, id, replay: recorded };
}
