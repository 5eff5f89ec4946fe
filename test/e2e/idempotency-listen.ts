import type { INestApplication, Type } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import type { Platform } from './http-harness.js';

/** One answer as a client on the wire saw it. */
export interface WireAnswer {
  status: number;
  body: unknown;
  headers: Headers;
}

/** A Nest app listening on 127.0.0.1, reached over real sockets with `fetch` (both platforms). */
export interface ListeningApp {
  app: INestApplication;
  /** Sends a request; `signal` lets the client go away mid-request. */
  send(
    url: string,
    options?: { method?: string; body?: string | object; headers?: Record<string, string>; signal?: AbortSignal },
  ): Promise<WireAnswer>;
  close(): Promise<void>;
}

/** `configure` runs before `init()` (global interceptors, pipes, body parsers). */
export async function listen(
  platform: Platform,
  rootModule: Type,
  configure?: (app: INestApplication) => void,
): Promise<ListeningApp> {
  const moduleRef = await Test.createTestingModule({ imports: [rootModule] }).compile();
  const app = moduleRef.createNestApplication(platform === 'express' ? new ExpressAdapter() : new FastifyAdapter(), {
    logger: false,
  });
  configure?.(app);
  await app.listen(0, '127.0.0.1');
  const base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return {
    app,
    async send(url, { method = 'POST', body, headers = {}, signal } = {}) {
      const json = body !== undefined && typeof body !== 'string';
      const response = await fetch(`${base}${url}`, {
        method,
        body: json ? JSON.stringify(body) : body,
        headers: json ? { 'content-type': 'application/json', ...headers } : headers,
        signal,
      });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
      return { status: response.status, body: parsed, headers: response.headers };
    },
    close: () => app.close(),
  };
}

/** A fresh `Idempotency-Key` header. */
export function freshKey(name: string): Record<string, string> {
  return { 'Idempotency-Key': `${name}-${Math.random().toString(36).slice(2)}` };
}
