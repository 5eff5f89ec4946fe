import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  CircuitBreaker,
  ResilienceEvents,
  ResilienceModule,
  ResilienceRegistry,
  type CircuitBreakerOptions,
  type ResilienceEvent,
} from '../../lib/index.js';
import { DEFAULT_CIRCUIT_BREAKER_OPTIONS } from '../../lib/core/circuit-breaker/circuit-breaker.options.js';
import { CircuitBreakerPolicy } from '../../lib/core/circuit-breaker/circuit-breaker.policy.js';
import { CircuitBreakerState } from '../../lib/core/circuit-breaker/circuit-breaker.state.js';
import { createResilientMethod } from '../../lib/core/pipeline/resilient-method.js';
import { RedisStore } from '../../lib/redis/index.js';
import { redisForSuite } from '../support/redis-suite.js';

const OPEN_DURATION = 300;
const options: CircuitBreakerOptions = {
  ...DEFAULT_CIRCUIT_BREAKER_OPTIONS,
  consecutiveFailures: 1,
  openDuration: OPEN_DURATION,
  coordination: 'redis',
};

/** One replica: its own Redis connection, registry and breaker "payments", and a downstream the test controls. */
function replica(url: string) {
  const store = new RedisStore({ url, prefix: `coordination-${prefix}:`, commandTimeout: 100 });
  const events = new ResilienceEvents();
  const seen: ResilienceEvent[] = [];
  events.subscribe((event) => seen.push(event));
  const registry = new ResilienceRegistry(events, store, store);
  const circuit = registry.circuitBreakerFor('payments', options);
  let outcome: () => Promise<string> = () => Promise.resolve('paid');
  const downstream = vi.fn(() => outcome());
  const charge = createResilientMethod(
    downstream,
    { className: 'Payments', methodName: 'charge' },
    [new CircuitBreakerPolicy(circuit)],
    'promise',
  ) as () => Promise<string>;
  return {
    store,
    circuit,
    seen,
    downstream,
    charge,
    answerWith(next: () => Promise<string>) {
      outcome = next;
    },
  };
}

let prefix = 0;

/**
 * Polls until `condition` holds. The timeout only stops a test that would otherwise hang: it is generous (a loaded
 * machine), and asserts no latency. How fast an opening propagates is measured in the fault suite, not here.
 */
async function until(condition: () => boolean, timeout = 5_000): Promise<void> {
  await vi.waitFor(() => expect(condition()).toBe(true), { timeout, interval: 5 });
}

/** Waits until `count` connections are subscribed to the coordination channel of `channelPrefix`. */
async function subscribed(admin: Redis, channelPrefix: string, count: number): Promise<void> {
  const channel = `${channelPrefix}circuit-open`;
  await vi.waitFor(
    async () => {
      const [, subscribers] = (await admin.pubsub('NUMSUB', channel)) as [string, number];
      expect(Number(subscribers)).toBe(count);
    },
    { timeout: 5_000, interval: 10 },
  );
}

describe('circuit breakers coordinated through Redis', () => {
  const redis = redisForSuite();
  let replicas: ReturnType<typeof replica>[] = [];

  afterEach(async () => {
    for (const each of replicas) await each.store.close();
    replicas = [];
    prefix++;
  });

  async function twoReplicas() {
    replicas = [replica(redis.url), replica(redis.url)];
    for (const each of replicas) await each.charge(); // connected
    await subscribed(redis.admin, `coordination-${prefix}:`, 2);
    return replicas;
  }

  it('a breaker opened on replica A opens on replica B through Redis, and B then fails fast', async () => {
    const [a, b] = await twoReplicas();
    a.answerWith(() => Promise.reject(new Error('gateway down')));
    await expect(a.charge()).rejects.toThrow('gateway down');
    expect(a.circuit.state).toBe('open');
    await until(() => b.circuit.state === 'open');
    expect(b.seen).toContainEqual(
      expect.objectContaining({ type: 'circuit-state', to: 'open', reason: 'peer-opened' }),
    );
    b.downstream.mockClear();
    await expect(b.charge()).rejects.toMatchObject({ code: 'BROKEN_CIRCUIT' });
    expect(b.downstream).not.toHaveBeenCalled();
  });

  it('a replica whose clock is 10 minutes ahead opens its peers for the open duration only', async () => {
    const [a] = await twoReplicas();
    // Replica "skewed": its own store and a breaker whose clock runs 10 minutes ahead.
    const store = new RedisStore({ url: redis.url, prefix: `coordination-${prefix}:`, commandTimeout: 100 });
    const skewedEvents = new ResilienceEvents();
    const skewed = new CircuitBreakerState('payments', options, skewedEvents, () => Date.now() + 600_000);
    skewed.coordinate(store.coordinator);
    replicas.push({ store } as ReturnType<typeof replica>);
    await subscribed(redis.admin, `coordination-${prefix}:`, 3);
    skewed.onFailure(skewed.acquire(), new Error('gateway down'), 0);
    expect(skewed.state).toBe('open');
    await until(() => a.circuit.state === 'open');
    // OPEN_DURATION (300 ms) on A's own clock, not the skewed replica's instant, which is 10 minutes away for A: had A
    // taken that instant, it would stay open for 10 minutes, far past this wait.
    await until(() => a.circuit.state === 'half_open', 10_000);
  });

  it('a breaker that opened while Redis stalled is announced once Redis answers', async () => {
    const [a, b] = await twoReplicas();
    a.answerWith(() => Promise.reject(new Error('gateway down')));
    redis.server.pause();
    try {
      await expect(a.charge()).rejects.toThrow('gateway down');
      expect(a.circuit.state).toBe('open');
      // The announcement failed (the command timed out), as A reports.
      await until(() => a.seen.some((event) => event.type === 'coordination-error'));
      expect(b.circuit.state).toBe('closed');
    } finally {
      redis.server.resume();
    }
    await until(() => b.circuit.state === 'open');
  });

  it('a replica that starts while the breaker is open elsewhere starts open', async () => {
    const [a] = await twoReplicas();
    a.answerWith(() => Promise.reject(new Error('gateway down')));
    await expect(a.charge()).rejects.toThrow();
    const late = replica(redis.url);
    replicas.push(late);
    await until(() => late.circuit.state === 'open');
  });

  it('in half-open, only one replica at a time sends the probe', async () => {
    const [a, b] = await twoReplicas();
    a.answerWith(() => Promise.reject(new Error('gateway down')));
    await expect(a.charge()).rejects.toThrow();
    await until(() => b.circuit.state === 'open');
    await sleep(OPEN_DURATION + 20); // the open duration itself: both may now ask for the probe

    let finishProbe!: () => void;
    const slowProbe = () => new Promise<string>((resolve) => (finishProbe = () => resolve('paid')));
    a.answerWith(slowProbe);
    b.answerWith(slowProbe);
    a.downstream.mockClear();
    b.downstream.mockClear();
    const settled: PromiseSettledResult<string>[] = [];
    const calls = [a.charge(), b.charge()].map((call) =>
      call.then(
        (value) => void settled.push({ status: 'fulfilled', value }),
        (reason: unknown) => void settled.push({ status: 'rejected', reason }),
      ),
    );
    // One replica was turned away (the lease is taken), the other's probe is running: it settles only when let go.
    await until(() => settled.length === 1);
    expect(settled[0]).toMatchObject({ status: 'rejected', reason: { code: 'BROKEN_CIRCUIT' } });
    expect(a.downstream.mock.calls.length + b.downstream.mock.calls.length).toBe(1);
    const prober = a.downstream.mock.calls.length === 1 ? a : b;
    const other = prober === a ? b : a;
    finishProbe();
    await Promise.all(calls);
    expect(settled[1]).toEqual({ status: 'fulfilled', value: 'paid' });
    await until(() => prober.circuit.state === 'closed');
    // The lease was given back: the other replica may now probe, and closes too.
    other.answerWith(() => Promise.resolve('paid'));
    await expect(other.charge()).resolves.toBe('paid');
    expect(other.circuit.state).toBe('closed');
  });

  it('a Redis outage neither opens nor closes a breaker: each replica decides alone, reports the error', async () => {
    const [a, b] = await twoReplicas();
    await redis.server.stop();
    try {
      for (let i = 0; i < 5; i++) await expect(a.charge()).resolves.toBe('paid');
      expect(a.circuit.state).toBe('closed');
      a.answerWith(() => Promise.reject(new Error('gateway down')));
      await expect(a.charge()).rejects.toThrow('gateway down');
      expect(a.circuit.state).toBe('open'); // opened by its own failure, as a lone replica would
      await until(() => a.seen.some((event) => event.type === 'coordination-error'));
      expect(b.circuit.state).toBe('closed');
      await sleep(OPEN_DURATION + 20);
      a.answerWith(() => Promise.resolve('paid'));
      await expect(a.charge()).resolves.toBe('paid'); // no lease to be had: probes as a lone replica
      expect(a.circuit.state).toBe('closed');
    } finally {
      await redis.server.restart();
    }
  });
});

describe('breaker coordination configured through ResilienceModule', () => {
  @Injectable()
  class Gateway {
    failing = false;
    calls = 0;

    @CircuitBreaker('gateway')
    async charge(): Promise<string> {
      this.calls++;
      if (this.failing) throw new Error('gateway down');
      return 'paid';
    }
  }

  async function replicaApp(url: string, wiring: 'store' | 'coordination' = 'store') {
    @Module({
      imports: [
        ResilienceModule.forRoot({
          // Either Redis serves both seams, or the rate limits stay in memory and only breakers coordinate.
          ...(wiring === 'store'
            ? { store: new RedisStore({ url, prefix: `nest-coordination-${wiring}:` }) }
            : { coordination: new RedisStore({ url, prefix: `nest-coordination-${wiring}:` }) }),
          circuitBreakers: { gateway: { consecutiveFailures: 1, openDuration: 5_000, coordination: 'redis' } },
        }),
      ],
      providers: [Gateway],
    })
    class ReplicaModule {}
    const moduleRef = await Test.createTestingModule({ imports: [ReplicaModule] }).compile();
    await moduleRef.init();
    return moduleRef;
  }

  const redis = redisForSuite();

  it('a closed coordinated breaker sends nothing to Redis on its calls', async () => {
    const app = await replicaApp(redis.url);
    try {
      await app.get(Gateway).charge();
      await subscribed(redis.admin, 'nest-coordination-store:', 1); // its start-up commands are done
      const before = await commandsRun(redis.admin);
      for (let i = 0; i < 20; i++) await app.get(Gateway).charge();
      expect(await commandsRun(redis.admin)).toBe(before);
    } finally {
      await app.close();
    }
  });

  it.each(['store', 'coordination'] as const)(
    'a breaker opened by one app opens in the other app, whose method is then not called (Redis as %s)',
    async (wiring) => {
      const [a, b] = [await replicaApp(redis.url, wiring), await replicaApp(redis.url, wiring)];
      try {
        await expect(b.get(Gateway).charge()).resolves.toBe('paid'); // connected
        await subscribed(redis.admin, `nest-coordination-${wiring}:`, 2);
        a.get(Gateway).failing = true;
        await expect(a.get(Gateway).charge()).rejects.toThrow('gateway down');
        const stateOnB = () =>
          b
            .get(ResilienceRegistry)
            .circuitBreakers.list()
            .find((breaker) => breaker.name === 'gateway')?.state;
        await until(() => stateOnB() === 'open');
        const callsBefore = b.get(Gateway).calls;
        await expect(b.get(Gateway).charge()).rejects.toMatchObject({ code: 'BROKEN_CIRCUIT', policy: 'gateway' });
        expect(b.get(Gateway).calls).toBe(callsBefore);
      } finally {
        await a.close();
        await b.close();
      }
    },
  );
});

/** Commands Redis has run, other than the INFO that asks. */
async function commandsRun(admin: Redis): Promise<number> {
  const stats = await admin.info('commandstats');
  let total = 0;
  for (const [, name, calls] of stats.matchAll(/cmdstat_(\w+):calls=(\d+)/g))
    if (name !== 'info') total += Number(calls);
  return total;
}
