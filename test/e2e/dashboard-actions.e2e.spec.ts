import { describe, expect, it } from 'vitest';
import { ResilienceRegistry } from '../../lib/index.js';
import { DashboardSessionGuard, dashboardLink } from '../../sample/06-observability/dashboard-session.guard.js';
import { listenOn, shopModule, useDashboardShop } from '../support/dashboard-shop.js';
import { PLATFORMS, type Platform } from './http-harness.js';

process.env.DASHBOARD_SECRET = 'a-test-secret-of-at-least-32-characters!';

/** The shop behind the sample's signed-link session guard, chaos on at rate 0.5 (the banner and its pause). */
function listen(platform: Platform, actions: boolean) {
  return listenOn(
    platform,
    shopModule(
      { guards: [DashboardSessionGuard], intervalMs: 100, actions },
      { chaos: { enabled: true, experiments: { gateway: { latency: { rate: 0.5, delay: 1 } } } } },
    ),
  );
}

/** A session cookie, as the signed link gives it (for requests made outside the browser). */
async function sessionCookie(url: string): Promise<string> {
  const answer = await fetch(dashboardLink(`${url}/resilience`));
  expect(answer.status).toBe(200);
  return answer.headers.get('set-cookie')!.split(';')[0];
}

function csrfOf(html: string): string {
  return /<meta name="resilience-csrf" content="([^"]+)">/.exec(html)![1];
}

const q = (selector: string) => JSON.stringify(selector);

describe.each(PLATFORMS)('dashboard guard and actions on %s', (platform) => {
  const suite = useDashboardShop();

  it('opens from a signed link in Chromium and stays live on its session cookie; 403 without it', async () => {
    const started = await listen(platform, false);
    suite.app = started.app;
    const page = (suite.page = await suite.browser.newPage());
    expect((await page.goto(`${started.url}/resilience`))?.status()).toBe(403);
    expect((await page.goto(`${started.url}/resilience?ticket=1.forged`))?.status()).toBe(403);
    expect((await page.goto(dashboardLink(`${started.url}/resilience`, -1)))?.status()).toBe(403); // expired
    expect((await page.goto(dashboardLink(`${started.url}/resilience`)))?.status()).toBe(200);
    // The EventSource sends no header, only the cookie: live means the guard let the feed through.
    await page.waitForSelector('#status[data-live="true"]', { timeout: 5_000 });
    expect((await page.goto(`${started.url}/resilience`))?.status()).toBe(200); // the link is not needed again
    expect(await page.evaluate(`document.querySelectorAll('#breakers button').length`)).toBe(0); // actions off
  });

  it('answers 404 to actions unless enabled', async () => {
    const started = await listen(platform, false);
    suite.app = started.app;
    const cookie = await sessionCookie(started.url);
    const answer = await fetch(`${started.url}/resilience/actions/chaos/pause`, {
      method: 'POST',
      headers: { cookie },
    });
    expect(answer.status).toBe(404);
    expect(started.app.get(ResilienceRegistry).chaos.paused).toBe(false);
  });

  it('refuses an action without the CSRF token, from another origin, or without the guard', async () => {
    const started = await listen(platform, true);
    suite.app = started.app;
    const registry = started.app.get(ResilienceRegistry);
    const cookie = await sessionCookie(started.url);
    const csrf = csrfOf(await (await fetch(`${started.url}/resilience`, { headers: { cookie } })).text());
    const action = `${started.url}/resilience/actions/breakers/gateway/force-open`;
    expect((await fetch(action, { method: 'POST', headers: { cookie } })).status).toBe(403);
    expect((await fetch(action, { method: 'POST', headers: { cookie, 'x-resilience-csrf': 'guess' } })).status).toBe(
      403,
    );
    const crossSite = { cookie, 'x-resilience-csrf': csrf, origin: 'https://evil.example' };
    expect((await fetch(action, { method: 'POST', headers: crossSite })).status).toBe(403);
    expect((await fetch(action, { method: 'POST', headers: { 'x-resilience-csrf': csrf } })).status).toBe(403);
    expect(registry.circuitBreakers.get('gateway').state).toBe('closed');
    const unknown = `${started.url}/resilience/actions/breakers/nope/reset`;
    expect((await fetch(unknown, { method: 'POST', headers: { cookie, 'x-resilience-csrf': csrf } })).status).toBe(404);
    expect((await fetch(action, { method: 'POST', headers: { cookie, 'x-resilience-csrf': csrf } })).status).toBe(204);
    expect(registry.circuitBreakers.get('gateway').state).toBe('forced_open');
  });

  it('force-opens, resets a breaker and pauses chaos from the buttons in Chromium', async () => {
    const started = await listen(platform, true);
    suite.app = started.app;
    const registry = started.app.get(ResilienceRegistry);
    const page = (suite.page = await suite.browser.newPage());
    await page.goto(dashboardLink(`${started.url}/resilience`));
    const row = '#breakers tr[data-name="gateway"]';
    await page.waitForSelector('#status[data-live="true"]', { timeout: 5_000 });
    expect(await page.evaluate(`document.getElementById('chaos-banner').hidden`)).toBe(false);

    await page.evaluate(
      `Array.from(document.querySelectorAll(${q(`${row} button`)}))` +
        `.find((b) => b.textContent === 'Force open').click()`,
    );
    await page.waitForSelector(`${row} .state[data-state="forced_open"]`, { timeout: 5_000 });
    expect(registry.circuitBreakers.get('gateway').state).toBe('forced_open');

    // Keyboard: focus the Reset button and press Enter.
    await page.evaluate(
      `Array.from(document.querySelectorAll(${q(`${row} button`)})).find((b) => b.textContent === 'Reset').focus()`,
    );
    await page.keyboard.press('Enter');
    await page.waitForSelector(`${row} .state[data-state="closed"]`, { timeout: 5_000 });

    await page.click('#chaos-banner button');
    await page.waitForFunction(`document.getElementById('chaos-banner').hidden`, { timeout: 5_000 });
    expect(registry.chaos.paused).toBe(true);
  });
});
