import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import type { Page } from 'puppeteer-core';
import { describe, expect, it } from 'vitest';
import { ResilienceRegistry } from '../../lib/index.js';
import { OperatorTokenGuard, failBurst, listenOn, shopModule, useDashboardShop } from '../support/dashboard-shop.js';
import { PLATFORMS, type Platform } from './http-harness.js';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** The shop with chaos enabled (an experiment at rate 0, so the banner shows) and the dashboard, actions as asked. */
function listen(platform: Platform, actions = false) {
  return listenOn(
    platform,
    shopModule(
      { guards: [OperatorTokenGuard], intervalMs: 100, actions },
      { chaos: { enabled: true, experiments: { gateway: { latency: { rate: 0, delay: 1 } } } } },
    ),
  );
}

const q = (selector: string) => JSON.stringify(selector);

describe.each(PLATFORMS)('the dashboard page on %s', (platform) => {
  const suite = useDashboardShop();

  async function open(url: string, blockFeed = false): Promise<Page> {
    const page = (suite.page = await suite.browser.newPage());
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
    suite.app = started.app;
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
    suite.app = started.app;
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
    suite.app = started.app;
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
    suite.app = started.app;
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
    suite.app = started.app;
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
    suite.app = started.app;
    const page = (suite.page = await suite.browser.newPage());
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
