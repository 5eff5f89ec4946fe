import type { INestApplication, Type } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import type { HttpAnswer, Platform } from './http-harness.js';

/** A Nest app on 127.0.0.1 that takes requests with a JSON body and headers (`Idempotency-Key`). */
export interface KeyedApp {
  app: INestApplication;
  post(
    url: string,
    body: object,
    headers?: Record<string, string>,
    method?: 'POST' | 'PATCH' | 'PUT',
  ): Promise<HttpAnswer>;
  close(): Promise<void>;
}

export async function createKeyedApp(platform: Platform, rootModule: Type): Promise<KeyedApp> {
  const moduleRef = await Test.createTestingModule({ imports: [rootModule] }).compile();
  if (platform === 'express') {
    const app = moduleRef.createNestApplication(new ExpressAdapter(), { logger: false });
    await app.init();
    await app.listen(0, '127.0.0.1');
    return {
      app,
      async post(url, body, headers = {}, method = 'POST') {
        const agent = request(app.getHttpServer() as Parameters<typeof request>[0]);
        const response = await agent[method.toLowerCase() as 'post'](url).set(headers).send(body);
        return { status: response.status, body: response.body as unknown, headers: response.headers };
      },
      close: () => app.close(),
    };
  }
  const app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return {
    app,
    async post(url, body, headers = {}, method = 'POST') {
      const response = await app.inject({ method, url, payload: body, headers });
      let parsed: unknown = response.body;
      try {
        parsed = JSON.parse(response.body);
      } catch {
        // not JSON: keep the text
      }
      return { status: response.statusCode, body: parsed, headers: response.headers as HttpAnswer['headers'] };
    },
    close: () => app.close(),
  };
}
