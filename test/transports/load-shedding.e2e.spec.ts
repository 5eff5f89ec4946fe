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
import { afterEach, describe, expect, it } from 'vitest';
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

/** What a shed request's client receives, whatever the transport: the code, the reason and when to come back. */
const SHED_ANSWER = { code: 'LOAD_SHED', policy: 'loadShedding', reason: 'event-loop-delay', retryAfter: 3 };

const opened: { close(): Promise<unknown> }[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.disconnect();
  for (const each of opened.splice(0).reverse()) await each.close();
  load.now = HEALTHY;
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
  async function start(): Promise<{ app: INestMicroservice; rpc: ClientProxy }> {
    @Module({ imports: [ResilienceModule.forRoot(SHEDDING)], controllers: [QuotesController] })
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

  async function connect(): Promise<Socket> {
    @Module({ imports: [ResilienceModule.forRoot(SHEDDING)], providers: [QuotesGateway] })
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

  it('answers a shed query with errors[0].extensions.code LOAD_SHED', async () => {
    @Module({
      imports: [
        ResilienceModule.forRoot(SHEDDING),
        GraphQLModule.forRoot<ApolloDriverConfig>({ driver: ApolloDriver, autoSchemaFile: true }),
      ],
      providers: [QuotesResolver],
    })
    class AppModule {}
    testApp = await createTestApp(platform, AppModule);
    opened.push(testApp);
    expect(await ask('{ quote }')).toEqual({ data: { quote: 'ACME 42' } });
    overload(testApp.app);
    const { data, errors } = await ask('{ quote }');
    expect(data).toBeNull();
    expect(errors?.[0]?.extensions).toMatchObject(SHED_ANSWER);
  });
});
