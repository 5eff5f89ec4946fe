import type { AddressInfo, Server } from 'node:net';
import {
  Body,
  Controller,
  Get,
  HttpException,
  Injectable,
  Module,
  Post,
  type CanActivate,
  type ExecutionContext,
  type INestApplication,
  type Type,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import {
  Bulkhead,
  CircuitBreaker,
  Idempotent,
  RateLimit,
  ResilienceModule,
  type ResilienceModuleOptions,
} from '../../lib/index.js';
import { ResilienceDashboardModule, type ResilienceDashboardOptions } from '../../lib/dashboard/index.js';
import type { Platform } from '../e2e/http-harness.js';
import { launchChromium } from './chromium.js';

/**
 * The small shop the dashboard specs watch: a breaker and a bulkhead on a gateway, a rate-limited route and an
 * idempotent POST, served on Express or Fastify with the dashboard in front of it. One place, so that the three
 * dashboard specs differ only in what they assert.
 */

/** Whether the gateway answers; a spec flips it to make the breaker open, and `useDashboardShop` resets it. */
export const downstream = { healthy: true };

/** Lets through requests carrying the operator's token, as an admin guard would (puppeteer can add the header). */
@Injectable()
export class OperatorTokenGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>();
    return request.headers.authorization === 'Bearer operator';
  }
}

@Injectable()
class Gateway {
  @CircuitBreaker('gateway')
  @Bulkhead('db')
  async charge(): Promise<{ charged: boolean }> {
    if (!downstream.healthy) throw new HttpException('gateway down', 502);
    return { charged: true };
  }
}

@Controller()
class ShopController {
  constructor(private readonly gateway: Gateway) {}

  @Get('charge')
  @RateLimit('api')
  charge() {
    return this.gateway.charge();
  }

  @Post('orders')
  @Idempotent()
  order(@Body() body: { item: string }) {
    return { ordered: body.item };
  }
}

/** The shop's policies: the breaker opens after 3 failures and stays open a minute. */
export const SHOP_POLICIES: ResilienceModuleOptions = {
  circuitBreakers: { gateway: { consecutiveFailures: 3, openDuration: 60_000 } },
  bulkheads: { db: { maxConcurrent: 2 } },
  rateLimits: { api: { limit: 100, interval: 60_000 } },
};

/** The shop's module, with the dashboard (`false`: without it) and extra module options (e.g. chaos). */
export function shopModule(dashboard: ResilienceDashboardOptions | false, options: ResilienceModuleOptions = {}): Type {
  @Module({
    imports: [
      ResilienceModule.forRoot({ ...SHOP_POLICIES, ...options }),
      ...(dashboard ? [ResilienceDashboardModule.forRoot(dashboard)] : []),
    ],
    controllers: [ShopController],
    providers: [Gateway],
  })
  class ShopModule {}
  return ShopModule;
}

/** Compiles `module` and listens on a free loopback port; connections are closed with the app. */
export async function listenOn(platform: Platform, module: Type): Promise<{ app: INestApplication; url: string }> {
  const moduleRef = await Test.createTestingModule({ imports: [module] }).compile();
  const app = moduleRef.createNestApplication(platform === 'express' ? new ExpressAdapter() : new FastifyAdapter(), {
    logger: false,
    forceCloseConnections: true,
  });
  await app.listen(0, '127.0.0.1');
  const { port } = (app.getHttpServer() as Server).address() as AddressInfo;
  return { app, url: `http://127.0.0.1:${port}` };
}

/** One success, then three 502s open the breaker, and the fifth call is refused with 503. */
export async function failBurst(url: string): Promise<void> {
  expect((await fetch(`${url}/charge`)).status).toBe(200);
  downstream.healthy = false;
  for (let i = 0; i < 3; i++) expect((await fetch(`${url}/charge`)).status).toBe(502);
  expect((await fetch(`${url}/charge`)).status).toBe(503);
}

/** What `useDashboardShop` holds for the current test: set `app` and `page`, and they are closed after it. */
export interface DashboardSuite {
  readonly browser: Browser;
  app?: INestApplication;
  page?: Page;
}

/**
 * Registers the suite's hooks: one headless Chromium for the file; after each test its page and app are closed and
 * the gateway is healthy again.
 */
export function useDashboardShop(): DashboardSuite {
  let browser: Browser | undefined;
  let closeBrowser: (() => Promise<void>) | undefined;
  const suite: DashboardSuite = {
    get browser(): Browser {
      if (!browser) throw new Error('Chromium is not started: call useDashboardShop() inside describe()');
      return browser;
    },
  };
  beforeAll(async () => {
    ({ browser, close: closeBrowser } = await launchChromium());
  });
  afterAll(async () => {
    await closeBrowser?.();
  });
  afterEach(async () => {
    await suite.page?.close();
    suite.page = undefined;
    await suite.app?.close();
    suite.app = undefined;
    downstream.healthy = true;
  });
  return suite;
}
