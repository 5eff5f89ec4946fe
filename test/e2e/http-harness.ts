import type { INestApplication, Type } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import request from 'supertest';

export type Platform = 'express' | 'fastify';
export const PLATFORMS: Platform[] = ['express', 'fastify'];

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';

export interface HttpAnswer {
  status: number;
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
}

/** A real Nest HTTP app on the given platform, and a way to send it requests. */
export interface TestApp {
  app: INestApplication;
  send(method: Method, url: string, body?: object): Promise<HttpAnswer>;
  /** Sends with extra headers and, on Fastify, a client address. */
  sendWith(method: Method, url: string, headers: Record<string, string>, remoteAddress?: string): Promise<HttpAnswer>;
  close(): Promise<void>;
}

/** `configure` runs before `init()`, e.g. for `useGlobalFilters` / `useGlobalInterceptors`. */
export async function createTestApp(
  platform: Platform,
  rootModule: Type,
  configure?: (app: INestApplication) => void,
): Promise<TestApp> {
  const moduleRef = await Test.createTestingModule({ imports: [rootModule] }).compile();
  if (platform === 'express') {
    const app = moduleRef.createNestApplication(new ExpressAdapter(), { logger: false });
    configure?.(app);
    await app.init();
    return {
      app,
      async send(method, url, body) {
        const agent = request(app.getHttpServer() as Parameters<typeof request>[0]);
        const pending = agent[method.toLowerCase() as 'get'](url);
        const response = body ? await pending.send(body) : await pending;
        return { status: response.status, body: response.body as unknown, headers: response.headers };
      },
      async sendWith(method, url, headers) {
        const agent = request(app.getHttpServer() as Parameters<typeof request>[0]);
        const response = await agent[method.toLowerCase() as 'get'](url).set(headers);
        return { status: response.status, body: response.body as unknown, headers: response.headers };
      },
      close: () => app.close(),
    };
  }
  const app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
  configure?.(app);
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  const inject = async (
    method: Method,
    url: string,
    headers: Record<string, string>,
    remoteAddress?: string,
    body?: object,
  ) => {
    const response = await app.inject({ method, url, payload: body, headers, remoteAddress });
    const text = response.body;
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: response.statusCode, body: parsed, headers: response.headers as HttpAnswer['headers'] };
  };
  return {
    app,
    send: (method, url, body) => inject(method, url, {}, undefined, body),
    sendWith: (method, url, headers, remoteAddress) => inject(method, url, headers, remoteAddress),
    close: () => app.close(),
  };
}
