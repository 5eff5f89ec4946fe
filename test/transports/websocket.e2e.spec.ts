import { Module, type INestApplication } from '@nestjs/common';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import type { Socket } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { CircuitBreaker, Fallback, RateLimit, ResilienceModule, Retry, Timeout } from '../../lib/index.js';
import { Downstream } from './downstream.js';
import { connectSocket, listenWithSocketIo, sendEvent } from './socket-client.js';

const downstream = new Downstream();

@WebSocketGateway()
class QuotesGateway {
  @SubscribeMessage('slow')
  @Timeout(50)
  async slow(): Promise<string> {
    return downstream.call('slow');
  }

  @SubscribeMessage('flaky')
  @Retry({ maxAttempts: 3, initialDelay: 1 })
  async flaky(): Promise<string> {
    return downstream.call('flaky');
  }

  @SubscribeMessage('with-fallback')
  @Fallback({ value: 'cached quote' })
  async withFallback(): Promise<string> {
    return downstream.call('with-fallback');
  }

  @SubscribeMessage('guarded')
  @CircuitBreaker({ consecutiveFailures: 2, openDuration: 60_000 })
  async guarded(): Promise<string> {
    return downstream.call('guarded');
  }

  @SubscribeMessage('limited')
  @RateLimit({ limit: 2, interval: 60_000 })
  limited(): string {
    return 'allowed';
  }
}

@Module({ imports: [ResilienceModule.forRoot()], providers: [QuotesGateway] })
class AppModule {}

let app: INestApplication | undefined;
const sockets: Socket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.disconnect();
  await app?.close();
  app = undefined;
  Object.assign(downstream, { calls: 0, failures: 0, down: false, hanging: false });
});

async function connect(): Promise<Socket> {
  app ??= await listenWithSocketIo(AppModule);
  return connectSocket(app, sockets);
}

describe('WebSocket gateway (Socket.IO, real client on 127.0.0.1)', () => {
  it('@Timeout: the client receives an exception event with code TIMEOUT', async () => {
    const socket = await connect();
    downstream.hanging = true;
    expect(await sendEvent(socket, 'slow')).toEqual({
      exception: expect.objectContaining({ status: 'error', code: 'TIMEOUT', policy: 'QuotesGateway.slow' }) as unknown,
    });
  });

  it('@Retry: a message that fails twice is acknowledged with the third attempt', async () => {
    const socket = await connect();
    downstream.failures = 2;
    expect(await sendEvent(socket, 'flaky')).toEqual({ ack: 'flaky #3' });
    expect(downstream.calls).toBe(3);
  });

  it('@Fallback: a failed message is acknowledged with the fallback value', async () => {
    const socket = await connect();
    downstream.down = true;
    expect(await sendEvent(socket, 'with-fallback')).toEqual({ ack: 'cached quote' });
  });

  it('@CircuitBreaker: after two failures the circuit opens and the downstream is not called', async () => {
    const socket = await connect();
    downstream.down = true;
    await sendEvent(socket, 'guarded');
    await sendEvent(socket, 'guarded');
    expect(await sendEvent(socket, 'guarded')).toEqual({
      exception: expect.objectContaining({ code: 'BROKEN_CIRCUIT', policy: 'QuotesGateway.guarded' }) as unknown,
    });
    expect(downstream.calls).toBe(2);
  });

  it('@RateLimit: per client address by default; the third message of a limit of 2 is refused', async () => {
    const first = await connect();
    expect(await sendEvent(first, 'limited')).toEqual({ ack: 'allowed' });
    expect(await sendEvent(first, 'limited')).toEqual({ ack: 'allowed' });
    expect(await sendEvent(first, 'limited')).toEqual({
      exception: expect.objectContaining({ code: 'RATE_LIMIT_EXCEEDED', policy: 'QuotesGateway.limited' }) as unknown,
    });
    // A second connection from the same address shares the bucket.
    const second = await connect();
    expect(await sendEvent(second, 'limited')).toMatchObject({ exception: { code: 'RATE_LIMIT_EXCEEDED' } });
  });
});
