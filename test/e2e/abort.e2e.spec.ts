import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Controller, Get, Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { getTimeoutSignal, ResilienceModule, Timeout, TimeoutError, TimeoutSignal } from '../../lib/index.js';
import { createTestApp, PLATFORMS } from './http-harness.js';

/** A downstream that never answers in time, and records whether the client hung up on it. */
function slowServer() {
  const requests: { url: string; closedByClient: boolean }[] = [];
  const server: Server = createServer((request: IncomingMessage, response) => {
    const record = { url: request.url ?? '', closedByClient: false };
    requests.push(record);
    // Far beyond every timeout here, so that only an abort can close the connection first, however loaded the machine.
    const answer = setTimeout(() => response.end('too late'), 10_000);
    response.on('close', () => {
      clearTimeout(answer);
      record.closedByClient = !response.writableEnded;
    });
  });
  return { server, requests };
}

/**
 * Long enough that, on a loaded machine, the request reaches the downstream before the deadline: with 100 ms the
 * abort sometimes came before fetch had connected, the downstream never saw the request, and there was no hang-up
 * to observe.
 */
const DEADLINE_MS = 1_000;

describe('a timeout really stops the work', () => {
  const downstream = slowServer();
  let baseUrl = '';
  beforeAll(async () => {
    await new Promise<void>((resolve) => downstream.server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(downstream.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    downstream.server.closeAllConnections();
    await new Promise((resolve) => downstream.server.close(resolve));
  });

  it('aborts the fetch of a service method through getTimeoutSignal()', async () => {
    @Injectable()
    class Catalogue {
      @Timeout(DEADLINE_MS)
      async load(): Promise<string> {
        const response = await fetch(`${baseUrl}/service`, { signal: getTimeoutSignal() });
        return response.text();
      }
    }
    @Module({ imports: [ResilienceModule.forRoot()], providers: [Catalogue] })
    class AppModule {}
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    await moduleRef.init();

    // A TimeoutError, not the downstream's late answer: the call gave up at its deadline.
    await expect(moduleRef.get(Catalogue).load()).rejects.toBeInstanceOf(TimeoutError);
    await vi.waitFor(
      () =>
        expect(downstream.requests.some((request) => request.url === '/service' && request.closedByClient)).toBe(true),
      { timeout: 5_000 },
    );
    expect(downstream.requests.find((request) => request.url === '/service')).toEqual({
      url: '/service',
      closedByClient: true,
    });
    await moduleRef.close();
  });

  it.each(PLATFORMS)('aborts the fetch of a controller handler through @TimeoutSignal() on %s', async (platform) => {
    @Controller()
    class ProxyController {
      @Get('proxy')
      @Timeout(DEADLINE_MS)
      async proxy(@TimeoutSignal() signal: AbortSignal) {
        const response = await fetch(`${baseUrl}/${platform}`, { signal });
        return response.text();
      }
    }
    @Module({ imports: [ResilienceModule.forRoot()], controllers: [ProxyController] })
    class AppModule {}
    const testApp = await createTestApp(platform, AppModule);
    expect((await testApp.send('GET', '/proxy')).status).toBe(504);
    await vi.waitFor(
      () =>
        expect(downstream.requests.some((request) => request.url === `/${platform}` && request.closedByClient)).toBe(
          true,
        ),
      { timeout: 5_000 },
    );
    expect(downstream.requests.find((request) => request.url === `/${platform}`)?.closedByClient).toBe(true);
    await testApp.close();
  });
});
