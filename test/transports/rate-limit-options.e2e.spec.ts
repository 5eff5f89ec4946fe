import { Controller, Module, type DynamicModule, type ExecutionContext, type Type } from '@nestjs/common';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { NestFactory } from '@nestjs/core';
import { GraphQLModule, Query, Resolver } from '@nestjs/graphql';
import { ClientProxyFactory, MessagePattern, Transport, type ClientProxy } from '@nestjs/microservices';
import { ExpressAdapter } from '@nestjs/platform-express';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { firstValueFrom } from 'rxjs';
import type { Socket } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { RateLimit, ResilienceModule, SkipRateLimit } from '../../lib/index.js';
import { createTestApp, PLATFORMS } from '../e2e/http-harness.js';
import { freePort } from './free-port.js';
import { connectSocket, listenWithSocketIo, sendEvent } from './socket-client.js';

/** A payload field or, for GraphQL, nothing: whether the caller asked to be let through. */
const internal = (context: ExecutionContext) =>
  context.getType() === 'rpc' ? (context.switchToRpc().getData<{ internal?: boolean }>()?.internal ?? false) : false;

/** The limits every transport below uses: one global limit of 2, and a handler limit with the new options. */
const resilience = () =>
  ResilienceModule.forRoot({
    rateLimits: { global: { limit: 2, interval: 60_000, message: 'Slow down' } },
    globalRateLimits: ['global'],
  });

const perRequest = {
  limit: () => 1,
  interval: 60_000,
  skipIf: internal,
  message: (context: ExecutionContext) => `Limited (${context.getType()})`,
  blockDuration: 60_000,
};

const opened: { close(): Promise<unknown> }[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.disconnect();
  for (const each of opened.splice(0).reverse()) await each.close();
});

// ---------------------------------------------------------------------------------------------------------------

@Controller()
class MessagesController {
  @MessagePattern('plain')
  plain(): string {
    return 'ok';
  }

  @MessagePattern('limited')
  @SkipRateLimit()
  @RateLimit(perRequest)
  limited(): string {
    return 'ok';
  }
}

@Module({ imports: [resilience()], controllers: [MessagesController] })
class MessagesModule {}

async function rpcClient(port: number): Promise<ClientProxy> {
  const proxy = ClientProxyFactory.create({ transport: Transport.TCP, options: { host: '127.0.0.1', port } });
  await proxy.connect();
  opened.push(proxy);
  return proxy;
}

const outcome = (rpc: ClientProxy, pattern: string, data: object = {}) =>
  firstValueFrom(rpc.send<string>(pattern, data)).then(
    (value) => value,
    (error: { code?: string; message?: string; policy?: string }) => error,
  );

describe.each([
  [
    'alone (createMicroservice)',
    async (port: number) => {
      const app = await NestFactory.createMicroservice(MessagesModule, {
        transport: Transport.TCP,
        options: { host: '127.0.0.1', port },
        logger: false,
      });
      await app.listen();
      opened.push(app);
    },
  ],
  [
    'in a hybrid app (connectMicroservice with inheritAppConfig, as the docs say)',
    async (port: number) => {
      const app = await NestFactory.create(MessagesModule, new ExpressAdapter(), { logger: false });
      // Nest applies global guards to a hybrid app's microservice only with inheritAppConfig.
      app.connectMicroservice(
        { transport: Transport.TCP, options: { host: '127.0.0.1', port } },
        { inheritAppConfig: true },
      );
      await app.startAllMicroservices();
      await app.init();
      opened.push(app);
    },
  ],
])('rate-limit options on microservice handlers, %s', (_name, start) => {
  it('applies globalRateLimits (with its message) to an undecorated message handler', async () => {
    const port = await freePort();
    await start(port);
    const rpc = await rpcClient(port);
    expect(await outcome(rpc, 'plain')).toBe('ok');
    expect(await outcome(rpc, 'plain')).toBe('ok');
    expect(await outcome(rpc, 'plain')).toMatchObject({
      code: 'RATE_LIMIT_EXCEEDED',
      policy: 'global',
      message: 'Slow down',
    });
  });

  it('applies a per-request limit, skipIf on the payload and the message computed from the context', async () => {
    const port = await freePort();
    await start(port);
    const rpc = await rpcClient(port);
    expect(await outcome(rpc, 'limited', { internal: true })).toBe('ok');
    expect(await outcome(rpc, 'limited', { internal: true })).toBe('ok');
    expect(await outcome(rpc, 'limited')).toBe('ok');
    expect(await outcome(rpc, 'limited')).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED', message: 'Limited (rpc)' });
  });
});

// ---------------------------------------------------------------------------------------------------------------

@WebSocketGateway()
class EventsGateway {
  @SubscribeMessage('plain')
  plain(): string {
    return 'ok';
  }

  @SubscribeMessage('limited')
  @SkipRateLimit()
  @RateLimit(perRequest)
  limited(): string {
    return 'ok';
  }
}

@Module({ imports: [resilience()], providers: [EventsGateway] })
class EventsModule {}

describe('rate-limit options on a WebSocket gateway (Socket.IO)', () => {
  async function connect(): Promise<Socket> {
    const app = await listenWithSocketIo(EventsModule);
    opened.push(app);
    return connectSocket(app, sockets);
  }

  it('applies globalRateLimits (with its message) to an undecorated message handler', async () => {
    const socket = await connect();
    expect(await sendEvent(socket, 'plain')).toEqual({ ack: 'ok' });
    expect(await sendEvent(socket, 'plain')).toEqual({ ack: 'ok' });
    const refused = await sendEvent(socket, 'plain');
    expect(refused.exception).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED', policy: 'global', message: 'Slow down' });
  });

  it('applies a per-request limit with the message computed from the context', async () => {
    const socket = await connect();
    expect(await sendEvent(socket, 'limited')).toEqual({ ack: 'ok' });
    const refused = await sendEvent(socket, 'limited');
    expect(refused.exception).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED', message: 'Limited (ws)' });
  });
});

// ---------------------------------------------------------------------------------------------------------------

@Resolver()
class QuotesResolver {
  @Query(() => String)
  plain(): string {
    return 'ok';
  }

  @Query(() => String)
  @SkipRateLimit()
  @RateLimit(perRequest)
  limited(): string {
    return 'ok';
  }
}

function graphql(platform: 'express' | 'fastify'): DynamicModule {
  return GraphQLModule.forRoot<ApolloDriverConfig>({
    driver: ApolloDriver,
    autoSchemaFile: true,
    context: platform === 'express' ? ({ req }: { req: unknown }) => ({ req }) : (req: unknown) => ({ req }),
  });
}

interface GraphQLAnswer {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

describe.each(PLATFORMS)('rate-limit options on GraphQL resolvers (%s)', (platform) => {
  async function boot() {
    @Module({ imports: [resilience(), graphql(platform)], providers: [QuotesResolver] })
    class AppModule {}
    const app = await createTestApp(platform, AppModule as Type);
    opened.push(app);
    return async (query: string) => (await app.send('POST', '/graphql', { query })).body as GraphQLAnswer;
  }

  it('applies globalRateLimits (with its message) to an undecorated query', async () => {
    const ask = await boot();
    expect(await ask('{ plain }')).toEqual({ data: { plain: 'ok' } });
    expect(await ask('{ plain }')).toEqual({ data: { plain: 'ok' } });
    const { errors } = await ask('{ plain }');
    expect(errors?.[0]).toMatchObject({ message: 'Slow down', extensions: { code: 'RATE_LIMIT_EXCEEDED' } });
  });

  it('applies a per-request limit with the message computed from the context', async () => {
    const ask = await boot();
    expect(await ask('{ limited }')).toEqual({ data: { limited: 'ok' } });
    const { errors } = await ask('{ limited }');
    expect(errors?.[0]).toMatchObject({ message: 'Limited (graphql)', extensions: { code: 'RATE_LIMIT_EXCEEDED' } });
  });
});
