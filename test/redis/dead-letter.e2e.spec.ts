import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  ClientProxyFactory,
  EventPattern,
  MessagePattern,
  Payload,
  Transport,
  type ClientProxy,
} from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import {
  DeadLetter,
  ResilienceEvents,
  ResilienceModule,
  ResilienceRegistry,
  ResilienceConfigError,
  Retry,
  type ResilienceEvent,
} from '../../lib/index.js';
import { RedisDeadLetterStore, RedisStore } from '../../lib/redis/index.js';
import { Redis } from 'ioredis';
import { RedisServer } from '../support/redis-server.js';
import { freePort } from '../transports/free-port.js';

/** The downstream the handlers call: a poison order fails until it is "fixed". */
const ledger = { fixed: false, calls: [] as string[] };

@Controller()
class OrdersController {
  @MessagePattern('charge')
  @DeadLetter('charges')
  @Retry({ maxAttempts: 3, initialDelay: 1, jitter: 'none' })
  async charge(@Payload() order: { id: string }): Promise<string> {
    ledger.calls.push(order.id);
    if (order.id.startsWith('poison') && !ledger.fixed) throw new Error(`cannot charge ${order.id}`);
    return `charged ${order.id}`;
  }

  @EventPattern('order-placed')
  @DeadLetter()
  @Retry({ maxAttempts: 2, initialDelay: 1, jitter: 'none' })
  async placed(@Payload() order: { id: string }): Promise<void> {
    ledger.calls.push(`event ${order.id}`);
    if (!ledger.fixed) throw new Error('warehouse down');
  }
}

/** How long a replay's claim holds a letter in these tests. */
const CLAIM_TTL = 400;

describe('@DeadLetter on TCP message handlers, letters in Redis Streams', () => {
  let server: RedisServer;
  let microservice: INestMicroservice;
  let client: ClientProxy;
  let registry: ResilienceRegistry;
  let deadLetterStore: RedisDeadLetterStore;
  const events: ResilienceEvent[] = [];

  beforeAll(async () => {
    server = await RedisServer.start();
    const store = new RedisStore({ url: server.url, prefix: 'dlq-test:' });
    deadLetterStore = new RedisDeadLetterStore(store, { maxLength: 100, replayClaimTtl: CLAIM_TTL });
    @Module({
      imports: [ResilienceModule.forRoot({ store, deadLetterStore })],
      controllers: [OrdersController],
    })
    class AppModule {}
    const port = await freePort();
    microservice = await NestFactory.createMicroservice(AppModule, {
      transport: Transport.TCP,
      options: { host: '127.0.0.1', port },
      logger: false,
    });
    await microservice.listen();
    registry = microservice.get(ResilienceRegistry);
    microservice.get(ResilienceEvents).subscribe((event) => events.push(event));
    client = ClientProxyFactory.create({ transport: Transport.TCP, options: { host: '127.0.0.1', port } });
    await client.connect();
  });
  afterAll(async () => {
    await client?.close();
    await microservice?.close();
    await server.stop();
  });
  beforeEach(() => {
    ledger.fixed = false;
    ledger.calls = [];
    events.length = 0;
  });

  it('stores a poison message after maxAttempts, answers with no error, replays it once after the fix', async () => {
    const answer = await lastValueFrom(client.send<string>('charge', { id: 'poison-1' }), { defaultValue: 'no value' });
    expect(answer).toBe('no value'); // handled: the broker would not redeliver it
    expect(ledger.calls).toEqual(['poison-1', 'poison-1', 'poison-1']);
    const [letter, ...others] = await registry.deadLetters.list('charges');
    expect(others).toHaveLength(0);
    expect(letter).toMatchObject({
      queue: 'charges',
      pattern: 'charge',
      args: [{ id: 'poison-1' }],
      attempts: 3,
      error: { name: 'Error', message: 'cannot charge poison-1' },
    });
    expect(events).toContainEqual(expect.objectContaining({ type: 'dead-letter', id: letter.id, attempts: 3 }));

    // A healthy message still goes through, and the poison one is not called again meanwhile.
    await expect(lastValueFrom(client.send('charge', { id: 'good' }))).resolves.toBe('charged good');
    expect(ledger.calls.filter((id) => id === 'poison-1')).toHaveLength(3);

    ledger.fixed = true;
    await expect(registry.deadLetters.replay('charges', letter.id)).resolves.toEqual({
      id: letter.id,
      outcome: 'succeeded',
    });
    expect(ledger.calls.filter((id) => id === 'poison-1')).toHaveLength(4);
    await expect(registry.deadLetters.list('charges')).resolves.toEqual([]);
    // At most once: a second replay of the same letter does nothing.
    await expect(registry.deadLetters.replay('charges', letter.id)).resolves.toEqual({
      id: letter.id,
      outcome: 'skipped',
    });
    expect(ledger.calls.filter((id) => id === 'poison-1')).toHaveLength(4);
  });

  it('records a failed replay on the letter, which stays, is replayable again and in replay("all")', async () => {
    await lastValueFrom(client.send('charge', { id: 'poison-2' }), { defaultValue: undefined });
    const [letter] = await registry.deadLetters.list('charges');
    const replayed = await registry.deadLetters.replay('charges', 'all');
    expect(replayed).toEqual([
      { id: letter.id, outcome: 'failed', error: { name: 'Error', message: 'cannot charge poison-2' } },
    ]);
    expect(ledger.calls).toHaveLength(6); // 3 live attempts, 3 on replay (through the same @Retry)
    const [kept] = await registry.deadLetters.list('charges');
    expect(kept.replay).toMatchObject({ outcome: 'failed' });
    ledger.fixed = true;
    await expect(registry.deadLetters.replay('charges', 'all')).resolves.toEqual([
      { id: letter.id, outcome: 'succeeded' },
    ]);
    expect(ledger.calls).toHaveLength(7);
    await expect(registry.deadLetters.list('charges')).resolves.toEqual([]);
    await expect(registry.deadLetters.delete('charges', letter.id)).resolves.toBe(false);
  });

  it('the claim of a crashed replayer expires (replayClaimTtl, Redis expiry); until then replays skip', async () => {
    await lastValueFrom(client.send('charge', { id: 'poison-crash' }), { defaultValue: undefined });
    const [letter] = await registry.deadLetters.list('charges');
    // Another replica claimed the letter and crashed before recording anything.
    const claimedAt = performance.now();
    expect(await deadLetterStore.claim('charges', letter.id)).toBe(true);
    ledger.fixed = true;
    await expect(registry.deadLetters.replay('charges', letter.id)).resolves.toEqual({
      id: letter.id,
      outcome: 'skipped',
    });
    await vi.waitFor(
      async () =>
        expect(await registry.deadLetters.replay('charges', letter.id)).toEqual({
          id: letter.id,
          outcome: 'succeeded',
        }),
      { timeout: 5000, interval: 50 },
    );
    expect(performance.now() - claimedAt).toBeGreaterThanOrEqual(CLAIM_TTL);
    expect(ledger.calls.filter((id) => id === 'poison-crash')).toHaveLength(4);
  });

  it('dead-letters events too, into a queue named after the handler', async () => {
    await lastValueFrom(client.emit('order-placed', { id: 'o-1' }), { defaultValue: undefined });
    await vi.waitFor(async () =>
      expect(await registry.deadLetters.list('OrdersController.placed')).toEqual([
        expect.objectContaining({ pattern: 'order-placed', args: [{ id: 'o-1' }], attempts: 2 }),
      ]),
    );
  });

  it('when Redis is down, the handler fails as before (the broker keeps the message) and nothing is lost', async () => {
    await server.stop();
    try {
      const error = await lastValueFrom(client.send<string>('charge', { id: 'poison-3' })).catch(
        (caught: unknown) => caught,
      );
      // What a failing handler always answered (Nest hides errors that are not RpcExceptions).
      expect(error).toEqual({ status: 'error', message: 'Internal server error' });
      expect(ledger.calls).toEqual(['poison-3', 'poison-3', 'poison-3']);
      expect(events).toContainEqual(expect.objectContaining({ type: 'dead-letter-store-error', policy: 'charges' }));
      expect(registry.deadLetters.snapshots()).toContainEqual(
        expect.objectContaining({ name: 'charges', storeErrors: 1 }),
      );
    } finally {
      await server.restart();
    }
  });

  it('an XADD that timed out (Redis paused) never appears later: the redelivery is dead-lettered once', async () => {
    // The store's connection is up (again, after the restart above): the XADD reaches Redis's socket.
    await vi.waitFor(() => registry.deadLetters.list('charges'), { timeout: 5000 });
    server.pause();
    let error: unknown;
    try {
      error = await lastValueFrom(client.send<string>('charge', { id: 'poison-late' })).catch(
        (caught: unknown) => caught,
      );
    } finally {
      server.resume();
    }
    // The handler failed (the store timed out): the broker keeps the message and redelivers it.
    expect(error).toEqual({ status: 'error', message: 'Internal server error' });
    expect(events).toContainEqual(expect.objectContaining({ type: 'dead-letter-store-error', policy: 'charges' }));
    const admin = new Redis(server.url);
    try {
      // Redis ran the stalled XADD when it resumed, and the cancel queued behind it removed the entry again.
      await vi.waitFor(async () => expect(await admin.xlen('dlq-test:dlq:charges')).toBe(0));
      const info = (await admin.call('XINFO', 'STREAM', 'dlq-test:dlq:charges')) as unknown[];
      const added = Number(info[info.indexOf('entries-added') + 1]);
      await expect(registry.deadLetters.list('charges')).resolves.toEqual([]);

      await lastValueFrom(client.send('charge', { id: 'poison-late' }), { defaultValue: undefined }); // redelivery
      const letters = await registry.deadLetters.list('charges');
      expect(letters).toEqual([expect.objectContaining({ args: [{ id: 'poison-late' }] })]);
      expect(
        Number(
          ((await admin.call('XINFO', 'STREAM', 'dlq-test:dlq:charges')) as unknown[])[
            info.indexOf('entries-added') + 1
          ],
        ),
      ).toBe(added + 1);
      ledger.fixed = true;
      await expect(registry.deadLetters.replay('charges', 'all')).resolves.toEqual([
        { id: letters[0].id, outcome: 'succeeded' },
      ]);
      expect(ledger.calls.filter((id) => id === 'poison-late')).toHaveLength(7); // 3 + 3 live, 1 replay
    } finally {
      admin.disconnect();
    }
  });

  it('refuses maxLength 0, NaN, a fraction or an empty string with a ResilienceConfigError', () => {
    const store = new RedisStore({ url: server.url });
    onTestFinished(() => store.close());
    for (const maxLength of [0, -1, Number.NaN, 1.5, '', 100_000_001]) {
      expect(() => new RedisDeadLetterStore(store, { maxLength: maxLength as number })).toThrow(
        /Invalid store option "maxLength" = .* for policy "RedisDeadLetterStore".*integer from 1 to 100,000,000/,
      );
    }
    expect(() => new RedisDeadLetterStore(store, { maxLength: '' as never })).toThrow(ResilienceConfigError);
  });
});
