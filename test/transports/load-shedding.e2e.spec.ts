import { Controller, Module, type INestApplication, type INestMicroservice } from '@nestjs/common';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { NestFactory } from '@nestjs/core';
import { GraphQLModule, Query, Resolver } from '@nestjs/graphql';
import {
  ClientProxyFactory,
  MessagePattern,
  Transport,
  type ClientProxy,
  type MicroserviceOptions,
} from '@nestjs/microservices';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { firstValueFrom } from 'rxjs';
import type { Socket } from 'socket.io-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  LoadShedderState,
  Priority,
  ResilienceModule,
  type LoadSample,
  type ResilienceModuleOptions,
} from '../../lib/index.js';
import { createTestApp, PLATFORMS, type TestApp } from '../e2e/http-harness.js';
import { freePort } from './free-port.js';
import { connectSocket, listenWithSocketIo, sendEvent } from './socket-client.js';

// Each transport's answer to a shed request, with the shedder driven by a sampler the test sets (no real overload).

const HEALTHY: LoadSample = { eventLoopDelay: 0, eventLoopUtilization: 0.2, heapUsed: 0.3 };
const load = { now: HEALTHY };
const SHEDDING: ResilienceModuleOptions = {
  loadShedding: {
    sampler: { sample: () => load.now },
    eventLoopDelay: { soft: 50, hard: 150 },
    retryAfter: 3_000,
    sampleInterval: 60_000, // the test samples when it sets the load
  },
};

/**
 * Past the hard threshold for 25 samples: the drop probability (up 0.045 a sample here) reaches 1, so every normal
 * request is shed; critical ones are still served (level 1.4, below hard plus the margin of 0.5).
 */
function overload(app: { get(token: typeof LoadShedderState): LoadShedderState }) {
  load.now = { ...HEALTHY, eventLoopDelay: 190 };
  for (let i = 0; i < 25; i++) app.get(LoadShedderState).sample();
}

/** The same thresholds, sampled on the default 500 ms interval (faked by the recovery tests). */
const SHEDDING_ON_A_TIMER: ResilienceModuleOptions = {
  loadShedding: { ...(SHEDDING.loadShedding as object), sampleInterval: 500 },
};

/**
 * Only the shedder's interval and clock are faked (set before the app starts, so that its timer is a fake one): the
 * servers, sockets and clients run for real.
 */
function fakeTheShedderClock() {
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'performance'] });
}

/** Ten seconds far past hard: every normal request is shed. */
function overloadForTenSeconds() {
  load.now = { ...HEALTHY, eventLoopDelay: 400 };
  vi.advanceTimersByTime(10_000);
}

/** The overload ends, and the documented five seconds pass with the loop idle. */
function idleForFiveSeconds() {
  load.now = { eventLoopDelay: 0, eventLoopUtilization: 0.05, heapUsed: 0.3 };
  vi.advanceTimersByTime(5_000);
}

/** What a shed request's client receives, whatever the transport: the code, the reason and when to come back. */
const SHED_ANSWER = { code: 'LOAD_SHED', policy: 'loadShedding', reason: 'event-loop-delay', retryAfter: 3 };

const opened: { close(): Promise<unknown> }[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.disconnect();
  for (const each of opened.splice(0).reverse()) await each.close();
  load.now = HEALTHY;
  vi.useRealTimers();
});

@Controller()
class QuotesController {
  @MessagePattern('quote')
  quote(): string {
    return 'ACME 42';
  }

  @MessagePattern('settle')
  @Priority('critical')
  settle(): string {
    return 'settled';
  }
}

describe('a TCP microservice under load shedding', () => {
  async function start(options = SHEDDING): Promise<{ app: INestMicroservice; rpc: ClientProxy }> {
    @Module({ imports: [ResilienceModule.forRoot(options)], controllers: [QuotesController] })
    class AppModule {}
    const port = await freePort();
    const app = await NestFactory.createMicroservice<MicroserviceOptions>(AppModule, {
      transport: Transport.TCP,
      options: { host: '127.0.0.1', port },
      logger: false,
    });
    await app.listen();
    opened.push(app);
    const rpc = ClientProxyFactory.create({ transport: Transport.TCP, options: { host: '127.0.0.1', port } });
    await rpc.connect();
    opened.push(rpc);
    return { app, rpc };
  }

  it('answers a shed message with the RpcException payload { status: "error", code: "LOAD_SHED" }', async () => {
    const { app, rpc } = await start();
    await expect(firstValueFrom(rpc.send('quote', {}))).resolves.toBe('ACME 42');
    overload(app);
    const error = await firstValueFrom(rpc.send('quote', {})).then(
      (value: unknown) => ({ unexpectedValue: value }),
      (thrown: unknown) => thrown,
    );
    expect(error).toMatchObject({ status: 'error', ...SHED_ANSWER });
    await expect(firstValueFrom(rpc.send('settle', {}))).resolves.toBe('settled'); // critical: still served
  });

  it('answers every message again within five seconds of the overload ending', async () => {
    fakeTheShedderClock();
    const { rpc } = await start(SHEDDING_ON_A_TIMER);
    overloadForTenSeconds();
    await expect(firstValueFrom(rpc.send('quote', {}))).rejects.toMatchObject({ code: 'LOAD_SHED' });
    idleForFiveSeconds();
    const answers = await Promise.all(Array.from({ length: 10 }, () => firstValueFrom(rpc.send('quote', {}))));
    expect(answers).toEqual(Array.from({ length: 10 }, () => 'ACME 42'));
  });
});

@WebSocketGateway()
class QuotesGateway {
  @SubscribeMessage('quote')
  quote(): string {
    return 'ACME 42';
  }
}

describe('a WebSocket gateway under load shedding', () => {
  let app: INestApplication;

  async function connect(options = SHEDDING): Promise<Socket> {
    @Module({ imports: [ResilienceModule.forRoot(options)], providers: [QuotesGateway] })
    class AppModule {}
    app = await listenWithSocketIo(AppModule);
    opened.push(app);
    return connectSocket(app, sockets);
  }

  it('sends a shed message an exception event with code LOAD_SHED', async () => {
    const socket = await connect();
    expect(await sendEvent(socket, 'quote')).toEqual({ ack: 'ACME 42' });
    overload(app);
    expect(await sendEvent(socket, 'quote')).toMatchObject({ exception: { status: 'error', ...SHED_ANSWER } });
  });

  it('acknowledges every message again within five seconds of the overload ending', async () => {
    fakeTheShedderClock();
    const socket = await connect(SHEDDING_ON_A_TIMER);
    overloadForTenSeconds();
    expect(await sendEvent(socket, 'quote')).toMatchObject({ exception: SHED_ANSWER });
    idleForFiveSeconds();
    const answers = await Promise.all(Array.from({ length: 10 }, () => sendEvent(socket, 'quote')));
    expect(answers).toEqual(Array.from({ length: 10 }, () => ({ ack: 'ACME 42' })));
  });
});

@Resolver()
class QuotesResolver {
  @Query(() => String)
  quote(): string {
    return 'ACME 42';
  }
}

describe.each(PLATFORMS)('a GraphQL resolver (Apollo) on %s under load shedding', (platform) => {
  let testApp: TestApp;

  async function ask(query: string) {
    const answer = await testApp.send('POST', '/graphql', { query });
    return answer.body as { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] };
  }

  async function start(options: ResilienceModuleOptions) {
    @Module({
      imports: [
        ResilienceModule.forRoot(options),
        GraphQLModule.forRoot<ApolloDriverConfig>({ driver: ApolloDriver, autoSchemaFile: true }),
      ],
      providers: [QuotesResolver],
    })
    class AppModule {}
    testApp = await createTestApp(platform, AppModule);
    opened.push(testApp);
  }

  it('answers every query again within five seconds of the overload ending', async () => {
    fakeTheShedderClock();
    await start(SHEDDING_ON_A_TIMER);
    overloadForTenSeconds();
    expect((await ask('{ quote }')).errors?.[0]?.extensions).toMatchObject({ code: 'LOAD_SHED' });
    idleForFiveSeconds();
    const answers = await Promise.all(Array.from({ length: 10 }, () => ask('{ quote }')));
    expect(answers).toEqual(Array.from({ length: 10 }, () => ({ data: { quote: 'ACME 42' } })));
  });

  it('answers a shed query with errors[0].extensions.code LOAD_SHED', async () => {
    await start(SHEDDING);
    expect(await ask('{ quote }')).toEqual({ data: { quote: 'ACME 42' } });
    overload(testApp.app);
    const { data, errors } = await ask('{ quote }');
    expect(data).toBeNull();
    expect(errors?.[0]?.extensions).toMatchObject(SHED_ANSWER);
  });
});
