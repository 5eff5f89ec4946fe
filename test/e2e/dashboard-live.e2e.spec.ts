import type { AddressInfo, Server } from 'node:net';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import {
  Body,
  Controller,
  Get,
  Post,
  HttpException,
  Injectable,
  Module,
  type CanActivate,
  type ExecutionContext,
  type INestApplication,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  Bulkhead,
  CircuitBreaker,
  Idempotent,
  RateLimit,
  ResilienceModule,
  ResilienceRegistry,
} from '../../lib/index.js';
import { ResilienceDashboardModule } from '../../lib/dashboard/index.js';
import { launchChromium } from '../support/chromium.js';
import { PLATFORMS, type Platform } from './http-harness.js';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** Lets through requests carrying the operator's token (puppeteer can add the header; a real browser cannot). */
@Injectable()
class TokenGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>();
    return request.headers.authorization === 'Bearer operator';
  }
}

const downstream = { healthy: true };

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

function appModule(actions: boolean) {
  @Module({
    imports: [
      ResilienceModule.forRoot({
        circuitBreakers: { gateway: { consecutiveFailures: 3, openDuration: 60_000 } },
        bulkheads: { db: { maxConcurrent: 2 } },
        rateLimits: { api: { limit: 100, interval: 60_000 } },
        chaos: { enabled: true, experiments: { gateway: { latency: { rate: 0, delay: 1 } } } },
      }),
      ResilienceDashboardModule.forRoot({ guards: [TokenGuard], intervalMs: 100, actions }),
    ],
    controllers: [ShopController],
    providers: [Gateway],
  })
  class ShopModule {}
  return ShopModule;
}

async function listen(platform: Platform, actions = false): Promise<{ app: INestApplication; url: string }> {
  const moduleRef = await Test.createTestingModule({ imports: [appModule(actions)] }).compile();
  const app = moduleRef.createNestApplication(platform === 'express' ? new ExpressAdapter() : new FastifyAdapter(), {
    logger: false,
    forceCloseConnections: true,
  });
  await app.listen(0, '127.0.0.1');
  const { port } = (app.getHttpServer() as Server).address() as AddressInfo;
  return { app, url: `http://127.0.0.1:${port}` };
}

async function failBurst(url: string): Promise<void> {
  expect((await fetch(`${url}/charge`)).status).toBe(200);
  downstream.healthy = false;
  for (let i = 0; i < 3; i++) expect((await fetch(`${url}/charge`)).status).toBe(502);
  expect((await fetch(`${url}/charge`)).status).toBe(503);
}

const q = (selector: string) => JSON.stringify(selector);

describe.each(PLATFORMS)('the dashboard page on %s', (platform) => {
  let browser: Browser;
  let closeBrowser: () => Promise<void>;
  let app: INestApplication | undefined;
  let page: Page | undefined;

  beforeAll(async () => {
    ({ browser, close: closeBrowser } = await launchChromium());
  });
  afterAll(async () => {
    await closeBrowser();
  });
  afterEach(async () => {
    await page?.close();
    page = undefined;
    await app?.close();
    app = undefined;
    downstream.healthy = true;
  });

  async function open(url: string, blockFeed = false): Promise<Page> {
    page = await browser.newPage();
    await page.setExtraHTTPHeaders({ authorization: 'Bearer operator' });
    if (blockFeed) {
      await page.setRequestInterception(true);
      page.on('request', (request) => {
        if (request.url().includes('/events')) void request.abort();
        else void request.continue();
      });
    }
    const response = await page.goto(`${url}/resilience`);
    expect(response?.status()).toBe(200);
    return page;
  }

  it('draws the current state on first load, before any live update arrives', async () => {
    const started = await listen(platform);
    app = started.app;
    await failBurst(started.url);
    const shown = await open(started.url, true);
    // The feed is blocked: whatever is drawn came with the page.
    expect(await shown.evaluate(`document.getElementById('status').textContent`)).not.toContain('live');
    expect(
      await shown.evaluate(`document.querySelector(${q('#breakers tr[data-name="gateway"] .state')}).dataset.state`),
    ).toBe('open');
    expect(await shown.evaluate(`document.getElementById('summary').textContent`)).toMatch(
      /Breaker gateway is open \(consecutive-failures\) since .*next probe in \d+ s/,
    );
    const cells = (await shown.evaluate(
      `Array.from(document.querySelector(${q('#targets tr[data-name="Gateway.charge"]')}).cells, (c) => c.textContent)`,
    )) as string[];
    expect(cells[1]).toBe('Gateway.charge');
    expect(cells[9]).toContain('failure 3');
    expect(
      await shown.evaluate(`document.querySelector(${q('#rate-limits tr[data-name="api"]')}).textContent`),
    ).toContain('100 per 60 s');
  });

  it('says "no data" for an idle target and the window of every figure', async () => {
    const started = await listen(platform);
    app = started.app;
    const shown = await open(started.url);
    const cells = (await shown.evaluate(
      `Array.from(document.querySelector(${q('#targets tr[data-name="Gateway.charge"]')}).cells, ` +
        `(c) => c.textContent.trim())`,
    )) as string[];
    expect(cells.slice(0, 6)).toEqual(['no calls', 'Gateway.charge', '0', 'no data', 'no data', 'no data / no data']);
    const windows = (await shown.evaluate(
      `Array.from(document.querySelectorAll('section'), (s) => s.querySelector('.window')?.textContent ?? '')`,
    )) as string[];
    expect(windows.length).toBeGreaterThanOrEqual(8);
    for (const window of windows) expect(window).toMatch(/since start|last|window|now|sample/);
  });

  it('shows charts per target, an open band after a failure burst and a countdown that decreases', async () => {
    const started = await listen(platform);
    app = started.app;
    const shown = await open(started.url);
    const row = '#targets tr[data-name="Gateway.charge"]';
    expect(await shown.evaluate(`document.querySelectorAll(${q(`${row} svg.spark`)}).length`)).toBe(3);
    await failBurst(started.url);
    const breaker = '#breakers tr[data-name="gateway"]';
    await shown.waitForSelector(`${breaker} svg.timeline rect[data-state="open"]`, { timeout: 5_000 });
    const band = (await shown.evaluate(
      `document.querySelector(${q(`${breaker} svg.timeline rect[data-state="open"] title`)}).textContent`,
    )) as string;
    expect(band).toContain('closed \u2192 open: consecutive-failures');
    const countdown = `${breaker} .countdown`;
    await shown.waitForSelector(`${countdown}[data-ms]`, { timeout: 5_000 });
    const first = Number(await shown.evaluate(`document.querySelector(${q(countdown)}).dataset.ms`));
    expect(first).toBeGreaterThan(50_000);
    expect(first).toBeLessThanOrEqual(60_000);
    await shown.waitForFunction(`Number(document.querySelector(${q(countdown)}).dataset.ms) < ${first - 500}`, {
      timeout: 5_000,
    });
    expect(await shown.evaluate(`document.querySelector(${q(countdown)}).textContent`)).toMatch(/^in \d+ s$/);
    // Sampled once per second in the background: the calls chart gets points, the glyph turns red.
    await shown.waitForFunction(`document.querySelector(${q(`${row} svg.spark path.s-calls`)}).getAttribute('d')`, {
      timeout: 5_000,
    });
    await shown.waitForSelector(`${row}[data-health="bad"]`, { timeout: 5_000 });
    expect(await shown.evaluate(`document.getElementById('summary').dataset.fire`)).toBe('true');
  });

  it('shows a banner while a chaos experiment runs, and every policy section', async () => {
    const started = await listen(platform);
    app = started.app;
    const shown = await open(started.url);
    expect(await shown.evaluate(`document.getElementById('chaos-banner').hidden`)).toBe(true);
    started.app.get(ResilienceRegistry).chaos.set('gateway', { latency: 0.5 });
    await shown.waitForFunction(`!document.getElementById('chaos-banner').hidden`, { timeout: 5_000 });
    expect(await shown.evaluate(`document.getElementById('chaos-banner').textContent`)).toContain(
      'Chaos running: gateway (latency 50 %)',
    );
    expect(
      await shown.evaluate(`document.querySelector(${q('#chaos tr[data-name="gateway"]')}).textContent`),
    ).toContain('running');
    started.app.get(ResilienceRegistry).chaos.pause();
    await shown.waitForFunction(`document.getElementById('chaos-banner').hidden`, { timeout: 5_000 });
    for (const id of ['load-shedding', 'retry-budgets', 'dead-letters', 'bulkheads']) {
      expect(await shown.evaluate(`document.querySelectorAll(${q(`#${id} tbody tr`)}).length`)).toBeGreaterThan(0);
    }
    expect(await shown.evaluate(`document.querySelector('#load-shedding tbody').textContent`)).toContain('off');
  });

  it('counts idempotent requests live: executed, replayed, a reused key with another body', async () => {
    const started = await listen(platform);
    app = started.app;
    const shown = await open(started.url);
    const order = (item: string) =>
      fetch(`${started.url}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': 'order-1' },
        body: JSON.stringify({ item }),
      });
    expect((await order('book')).status).toBe(201);
    const again = await order('book');
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect((await order('lamp')).status).toBe(422);
    const row = q('#idempotency tr[data-name="ShopController.order"]');
    await shown.waitForFunction(`document.querySelector(${row})?.cells[5].textContent === '1'`, { timeout: 5_000 });
    const cells = (await shown.evaluate(
      `[...document.querySelector(${row}).cells].map((c) => c.textContent)`,
    )) as string[];
    // handler, running, executed, replayed, conflicts (409), mismatches (422), store errors
    expect(cells).toEqual(['ShopController.order', '0', '1', '1', '0', '1', '0']);
  });

  it('passes axe-core with no serious or critical violation, and loads nothing from elsewhere', async () => {
    const started = await listen(platform, true);
    app = started.app;
    page = await browser.newPage();
    const external: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(started.url)) external.push(request.url());
    });
    await page.setExtraHTTPHeaders({ authorization: 'Bearer operator' });
    await page.goto(`${started.url}/resilience`);
    await failBurst(started.url);
    started.app.get(ResilienceRegistry).chaos.set('gateway', { latency: 0.5 });
    await page.waitForFunction(`!document.getElementById('chaos-banner').hidden`, { timeout: 5_000 });
    expect(external).toEqual([]);
    await page.addScriptTag({ content: AXE_SOURCE });
    const violations = (await page.evaluate(
      `axe.run(document, { resultTypes: ['violations'] })` +
        `.then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length })))`,
    )) as { id: string; impact: string }[];
    expect(violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')).toEqual([]);
    // Keyboard: every action is a focusable button.
    const focusable = (await page.evaluate(
      `Array.from(document.querySelectorAll('button')).every((b) => b.tabIndex === 0)`,
    )) as boolean;
    expect(focusable).toBe(true);
  });
});
