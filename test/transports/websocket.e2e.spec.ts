import { Module, type INestApplication } from '@nestjs/common';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import type { Socket } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { CircuitBreaker, Fallback, RateLimit, ResilienceModule, Retry, Timeout } from '../../lib/index.js';
import { Downstream } from './downstream.js';
import { connectSocket, listenWithSocketIo, sendEvent, sendEventWithAck } from './socket-client.js';

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

async function connect(localAddress?: string): Promise<Socket> {
  app ??= await listenWithSocketIo(AppModule);
  return connectSocket(app, sockets, localAddress);
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
    // A client from another address has a bucket of its own (a global key would refuse it too).
    const other = await connect('127.0.0.2');
    expect(await sendEvent(other, 'limited')).toEqual({ ack: 'allowed' });
  });

  it('acknowledges a refused message sent with an acknowledgement callback, after an exception naming it', async () => {
    const socket = await connect();
    await sendEvent(socket, 'limited');
    await sendEvent(socket, 'limited');
    // Refused by the rate-limit guard: the client's callback is called (emitWithAck would otherwise never settle).
    const refused = await sendEventWithAck(socket, 'limited', { symbol: 'ACME' });
    const payload = {
      status: 'error',
      code: 'RATE_LIMIT_EXCEEDED',
      cause: { pattern: 'limited', data: { symbol: 'ACME' } },
    };
    expect(refused.ack).toMatchObject(payload);
    expect(refused.exceptions).toEqual([expect.objectContaining(payload)]);
    // Refused in the interceptor (a timeout): the same.
    downstream.hanging = true;
    const timedOut = await sendEventWithAck(socket, 'slow');
    expect(timedOut.ack).toMatchObject({ code: 'TIMEOUT', cause: { pattern: 'slow' } });
    expect(timedOut.exceptions).toEqual([
      expect.objectContaining({ code: 'TIMEOUT', cause: { pattern: 'slow', data: {} } }),
    ]);
  });

  it('names the refused message in the exception event of a client that asked for no acknowledgement', async () => {
    const socket = await connect();
    downstream.hanging = true;
    const exception = new Promise((resolve) => socket.once('exception', resolve));
    socket.emit('slow', { symbol: 'ACME' });
    expect(await exception).toMatchObject({ code: 'TIMEOUT', cause: { pattern: 'slow', data: { symbol: 'ACME' } } });
  });
});
