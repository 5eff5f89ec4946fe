import type { DeadLetter, DeadLetterReplay, DeadLetterStore } from '../core/dead-letter/dead-letter.interface.js';
import { randomUUID } from 'node:crypto';
import { COMPENSATION_WINDOW_MS, sameSlotKey } from './compensations.js';
import { validateReplayClaimTtl } from '../core/dead-letter/dead-letter-store.bounds.js';
import { OptionsValidator, typeOf } from '../core/validation/options.validator.js';
import type { RedisStore } from './redis-store.js';
import type { ScriptedClient } from './scripted-client.js';
import { sendWhenReady } from './send-when-ready.js';

/** Options of a {@link RedisDeadLetterStore}. */
export interface RedisDeadLetterStoreOptions {
  /**
   * Each queue's stream keeps about this many letters (`XADD ... MAXLEN ~`); the oldest go first. An integer from 1
   * to 100,000,000 (`0`, an empty string, `NaN` or a fraction fail with a `ResilienceConfigError`). Default `10_000`.
   */
  readonly maxLength?: number;
  /** Key prefix after the store's own prefix. Default `dlq:`. */
  readonly prefix?: string;
  /**
   * Milliseconds a replay's claim holds a letter (a Redis key's expiry): a replayer that crashed mid-replay lets it
   * go after this, so it can be replayed again. Set it above the longest replay. Default `300_000`.
   */
  readonly replayClaimTtl?: number;
}

/** The most letters a Redis stream may be asked to keep. */
export const MAX_REDIS_DEAD_LETTERS = 100_000_000;

/**
 * Dead letters in Redis Streams, one stream per queue (`XADD` with `MAXLEN ~`), through a {@link RedisStore}'s
 * connection: they survive restarts and every replica sees them. A replay claims its letter with a key that expires
 * (`SET NX PX replayClaimTtl`, in a script that also checks the letter exists), so one replica at a time replays it
 * and a replayer that crashed lets it go; the outcome of a failed replay is kept in a hash, and the letter may be
 * replayed again.
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
  private readonly claimTtl: number;

  constructor(
    private readonly store: RedisStore,
    options: RedisDeadLetterStoreOptions = {},
  ) {
    const validator = new OptionsValidator('store', 'RedisDeadLetterStore', 'new RedisDeadLetterStore(...)');
    validator.objectOptions('options', options, '{ maxLength: 10000 }', ['maxLength', 'prefix', 'replayClaimTtl']);
    if (options.prefix !== undefined && typeof options.prefix !== 'string') {
      validator.fail('prefix', options.prefix, `must be a string, got ${typeOf(options.prefix)}`);
    }
    this.prefix = store.options.prefix + (options.prefix ?? 'dlq:');
    this.maxLength = validator.integerBetween(
      'maxLength',
      options.maxLength ?? 10_000,
      1,
      MAX_REDIS_DEAD_LETTERS,
      'a stream that long holds hundreds of GB of Redis memory',
    );
    this.claimTtl = validateReplayClaimTtl(validator, options.replayClaimTtl);
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
    const stream = this.stream(queue);
    const claimed = await this.send((client) =>
      client.nestResilienceDeadLetterClaim(stream, this.claimKey(stream, id), id, this.claimTtl),
    );
    return claimed === 1;
  }

  /** Keeps the outcome on the letter and ends the claim: a letter whose replay failed may be replayed again. */
  async recordReplay(queue: string, id: string, replay: DeadLetterReplay): Promise<void> {
    const stream = this.stream(queue);
    await this.send((client) => client.hset(this.replays(queue), id, JSON.stringify(replay)));
    await this.send((client) => client.del(this.claimKey(stream, id)));
  }

  async delete(queue: string, id: string): Promise<boolean> {
    const stream = this.stream(queue);
    const [removed] = await Promise.all([
      this.send((client) => client.xdel(stream, id)),
      this.send((client) => client.hdel(this.replays(queue), id)),
      this.send((client) => client.del(this.claimKey(stream, id))),
    ]);
    return removed > 0;
  }

  private stream(queue: string): string {
    return `${this.prefix}${queue}`;
  }

  /** The claim of one letter's replay: a key in the stream's slot, expiring on its own. */
  private claimKey(stream: string, id: string): string {
    return sameSlotKey(stream, `:claim:${id}`);
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
  // A claim kept in the hash by an earlier version is a replay in progress: shown as none.
  return recorded === undefined || recorded.outcome === 'claimed' ? { ...body, id } : { ...body, id, replay: recorded };
}
