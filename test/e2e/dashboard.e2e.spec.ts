import type { Page } from 'puppeteer-core';
import { describe, expect, it, vi } from 'vitest';
import { DashboardFeed, ResilienceDashboardModule } from '../../lib/dashboard/index.js';
import { OperatorTokenGuard, failBurst, listenOn, shopModule, useDashboardShop } from '../support/dashboard-shop.js';
import { PLATFORMS, type Platform } from './http-harness.js';

/** The text of the first element matching `selector` in the page (run in the browser: no DOM types here). */
async function textOf(page: Page, selector: string): Promise<string> {
  return (await page.evaluate(`document.querySelector(${JSON.stringify(selector)})?.textContent ?? ''`)) as string;
}

function listen(platform: Platform, withDashboard: boolean) {
  return listenOn(platform, shopModule(withDashboard && { guards: [OperatorTokenGuard], intervalMs: 100 }));
}

describe.each(PLATFORMS)('the dashboard on %s', (platform) => {
  const suite = useDashboardShop();

  it('is not served unless the module is imported', async () => {
    const started = await listen(platform, false);
    suite.app = started.app;
    const answer = await fetch(`${started.url}/resilience`, { headers: { authorization: 'Bearer operator' } });
    expect(answer.status).toBe(404);
  });

  it('answers 403 without the guard letting the request through, page and feed alike', async () => {
    const started = await listen(platform, true);
    suite.app = started.app;
    expect((await fetch(`${started.url}/resilience`)).status).toBe(403);
    expect((await fetch(`${started.url}/resilience/events`)).status).toBe(403);
  });

  it('stops the feed of a page that went away: no interval left running', async () => {
    const started = await listen(platform, true);
    suite.app = started.app;
    const snapshot = vi.spyOn(suite.app.get(DashboardFeed), 'snapshot');
    // The feed's timer: rxjs's interval calls the global setInterval (100 ms here) and clearInterval on unsubscribe.
    const started100ms = vi.spyOn(globalThis, 'setInterval');
    const cleared = vi.spyOn(globalThis, 'clearInterval');
    const leaving = new AbortController();
    const answer = await fetch(`${started.url}/resilience/events`, {
      headers: { authorization: 'Bearer operator' },
      signal: leaving.signal,
    });
    expect(answer.headers.get('content-type')).toContain('text/event-stream');
    const reader = answer.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value as Uint8Array | undefined);
    try {
      expect(first).toMatch(/^data: \{"at":\d+,"breakers":\[\{"name":"gateway"/m);
      await vi.waitFor(() => expect(snapshot.mock.calls.length).toBeGreaterThanOrEqual(3));
    } finally {
      leaving.abort(); // an open event stream would hold the server's close
    }
    await reader.cancel().catch(() => undefined);
    const feedTimers = started100ms.mock.calls
      .map((call, index) => ({ delay: call[1], handle: started100ms.mock.results[index]?.value as unknown }))
      .filter((timer) => timer.delay === 100);
    expect(feedTimers).toHaveLength(1);
    // The page left: the feed's interval is cleared (an event to await, rather than watching for an absence).
    await vi.waitFor(() => expect(cleared.mock.calls.map((call) => call[0])).toContain(feedTimers[0].handle));
    started100ms.mockRestore();
    cleared.mockRestore();
  });

  it('loads in Chromium, shows the breaker closed, then open once failures open it, live', async () => {
    const started = await listen(platform, true);
    suite.app = started.app;
    const page = (suite.page = await suite.browser.newPage());
    const external: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(started.url)) external.push(request.url());
    });
    await page.setExtraHTTPHeaders({ authorization: 'Bearer operator' });
    const response = await page.goto(`${started.url}/resilience`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-type']).toContain('text/html');

    const state = '#breakers tr[data-name="gateway"] .state';
    await page.waitForSelector(`${state}[data-state="closed"]`, { timeout: 5_000 });
    expect(await textOf(page, '#bulkheads tr[data-name="db"]')).toContain('0 / 2');
    // Not called yet: an idle target has no percentiles, shown as "no data" rather than 0 ms.
    const idleRow = JSON.stringify('#targets tr[data-name="Gateway.charge"]');
    await page.waitForSelector('#targets tr[data-name="Gateway.charge"]', { timeout: 5_000 });
    const idleCells = (await page.evaluate(
      `Array.from(document.querySelector(${idleRow}).cells, (cell) => cell.textContent)`,
    )) as string[];
    expect([idleCells[1], idleCells[5]]).toEqual(['Gateway.charge', 'no data / no data']);

    await failBurst(started.url);

    await page.waitForSelector(`${state}[data-state="open"]`, { timeout: 5_000 });
    expect(await textOf(page, '#breakers tr[data-name="gateway"]')).toContain(
      'closed \u2192 open (consecutive-failures)',
    );
    const target = JSON.stringify('#targets tr[data-name="Gateway.charge"]');
    await page.waitForFunction(`document.querySelector(${target})?.textContent.includes('failure 3')`, {
      timeout: 5_000,
    });
    expect(await textOf(page, '#targets tr[data-name="Gateway.charge"] td:nth-child(6)')).not.toContain('no data');
    expect(await textOf(page, '#rate-limits tr[data-name="api"]')).toContain('100 per 60 s');
    expect(await page.evaluate(`document.getElementById('status').getAttribute('data-live')`)).toBe('true');
    expect(external).toEqual([]);
  });
});

describe('the dashboard options', () => {
  it('refuses a bad option when the module is declared, naming it', () => {
    expect(() => ResilienceDashboardModule.forRoot({ intervalMs: 0 })).toThrow(
      /Invalid dashboard option "intervalMs" = 0 .*greater than 0/,
    );
    expect(() => ResilienceDashboardModule.forRoot({ pth: '/x' } as never)).toThrow(/Did you mean "path"\?/);
  });
});
