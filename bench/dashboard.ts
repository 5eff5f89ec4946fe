/**
 * The dashboard at scale, and its screenshots. Starts an application with BENCH_TARGETS measured targets (200),
 * a breaker and a bulkhead per ten targets, fills the five minutes of trends, keeps traffic flowing, opens the page
 * in Debian's headless Chromium and measures: the page's bytes (empty and with every target), the first draw, the
 * time to draw each live update (BENCH_UPDATES, 30) and the frame times meanwhile (requestAnimationFrame gaps, long
 * tasks). Writes bench/results/dashboard.md.
 * Run: `npm run bench:dashboard`; `npm run bench:dashboard -- --screenshots` writes docs/images/dashboard-*.png
 * instead.
 */
import 'reflect-metadata';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import puppeteer, { type Page } from 'puppeteer-core';
import { ResilienceModule, ResilienceRegistry } from '../lib/index.js';
import { ResilienceDashboardModule } from '../lib/dashboard/index.js';
import { DashboardHistory } from '../lib/dashboard/dashboard.history.js';
import { DEFAULT_CIRCUIT_BREAKER_OPTIONS } from '../lib/core/circuit-breaker/circuit-breaker.options.js';
import { DEFAULT_BULKHEAD_OPTIONS } from '../lib/core/bulkhead/bulkhead.options.js';
import { renderDashboardPage } from '../lib/dashboard/page/page.markup.js';
import type { CallOutcome } from '../lib/core/metrics/call-outcome.js';
import { writeResults } from './support/results.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const SCREENSHOTS = process.argv.includes('--screenshots');
const SMOKE = process.env.BENCH_SMOKE === '1';
const TARGETS = SCREENSHOTS ? 4 : SMOKE ? 20 : Number(process.env.BENCH_TARGETS ?? 200);
const UPDATES = SMOKE ? 2 : Number(process.env.BENCH_UPDATES ?? 30);
const SERVICES = ['PaymentsService.charge', 'InventoryService.reserve', 'ShippingService.quote', 'MailService.send'];

function targetName(i: number): string {
  return SCREENSHOTS ? SERVICES[i] : `Service${String(i).padStart(3, '0')}.call`;
}

@Module({
  imports: [ResilienceModule.forRoot(), ResilienceDashboardModule.forRoot({ actions: true })],
})
class BenchModule {}

async function start(): Promise<{ app: INestApplication; url: string; registry: ResilienceRegistry }> {
  const app = await NestFactory.create(BenchModule, { logger: false, forceCloseConnections: true });
  await app.listen(0, '127.0.0.1');
  const { port } = (app.getHttpServer() as Server).address() as AddressInfo;
  return { app, url: `http://127.0.0.1:${port}`, registry: app.get(ResilienceRegistry) };
}

/** One second of traffic: each target gets calls; `failing` targets fail most of theirs. */
function traffic(registry: ResilienceRegistry, failing: ReadonlySet<number>): void {
  for (let i = 0; i < TARGETS; i++) {
    const target = registry.targets.targetFor(targetName(i));
    const calls = 5 + ((i * 7) % 40);
    for (let c = 0; c < calls; c++) {
      const roll = Math.random();
      const outcome: CallOutcome = failing.has(i)
        ? roll < 0.6
          ? 'failure'
          : roll < 0.8
            ? 'fallback'
            : 'success'
        : SCREENSHOTS || roll >= 0.02
          ? 'success'
          : roll < 0.01
            ? 'failure'
            : 'fallback';
      target.record(outcome, 2 + Math.random() * (i % 5 === 0 ? 200 : 30));
    }
  }
}

async function launch() {
  const profile = mkdtempSync(join(tmpdir(), 'nest-resilience-bench-'));
  const browser = await puppeteer.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', `--user-data-dir=${profile}`],
  });
  return { browser, close: async () => (await browser.close(), rmSync(profile, { recursive: true, force: true })) };
}

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

function spread(values: readonly number[]): string {
  return [quantile(values, 0.5), quantile(values, 0.95), Math.max(...values)].map((v) => v.toFixed(1)).join(' / ');
}

function longest(tasks: readonly number[]): string {
  return tasks.length ? ` (max ${Math.max(...tasks).toFixed(0)} ms)` : '';
}

async function measure(): Promise<void> {
  const { app, url, registry } = await start();
  const history = app.get(DashboardHistory);
  for (let i = 0; i < TARGETS; i++) registry.targets.targetFor(targetName(i));
  for (let b = 0; b < TARGETS / 10; b++) {
    registry.circuitBreakerFor(`dependency-${b}`, DEFAULT_CIRCUIT_BREAKER_OPTIONS);
    registry.bulkheadFor(`pool-${b}`, { ...DEFAULT_BULKHEAD_OPTIONS, maxConcurrent: 10 });
  }
  const failing = new Set([3, 17, 42]);
  // Five minutes of history at once: what a page opened after a while receives.
  for (let s = 0; s < 300; s++) {
    traffic(registry, failing);
    history.sample();
  }
  registry.circuitBreakers.forceOpen('dependency-1');
  const feeding = setInterval(() => traffic(registry, failing), 1000);
  const emptyBytes = Buffer.byteLength(
    renderDashboardPage(
      {
        at: 0,
        breakers: [],
        bulkheads: [],
        rateLimits: [],
        targets: [],
        retryBudgets: [],
        chaos: { paused: false, experiments: [] },
        loadShedding: null,
        deadLetters: [],
        idempotency: [],
        outboxes: [],
        trends: { seq: 0, from: 1, everyMs: 1000, targets: {}, bulkheads: {}, rateLimits: {} },
      },
      { intervalMs: 1000, actions: false, csrfToken: '' },
    ),
  );
  const { browser, close } = await launch();
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 900 });
    const answer = await page.goto(`${url}/resilience`);
    const fullBytes = (await answer!.buffer()).length;
    const firstDraw = (await page.evaluate('window.__dashboardDrawMs')) as number;
    await page.evaluate(`
      window.__frames = []; window.__longTasks = [];
      new PerformanceObserver((list) => list.getEntries().forEach((e) => window.__longTasks.push(e.duration)))
        .observe({ type: 'longtask', buffered: false });
      (function frame(last) {
        requestAnimationFrame((now) => { if (last) window.__frames.push(now - last); frame(now); });
      })(0);
      window.__draws = [];
      const original = window.__dashboardUpdates || 0;
      window.__drawWatch = setInterval(() => {
        if ((window.__dashboardUpdates || 0) > (window.__lastSeen || original)) {
          window.__lastSeen = window.__dashboardUpdates; window.__draws.push(window.__dashboardDrawMs);
        }
      }, 20);`);
    await page.waitForFunction(`window.__draws.length >= ${UPDATES}`, { timeout: (UPDATES + 30) * 1000 });
    const draws = (await page.evaluate('window.__draws')) as number[];
    const frames = (await page.evaluate('window.__frames')) as number[];
    const longTasks = (await page.evaluate('window.__longTasks')) as number[];
    const rows = (await page.evaluate(`document.querySelectorAll('#targets tbody tr').length`)) as number;
    const charts = (await page.evaluate(`document.querySelectorAll('#targets svg.spark').length`)) as number;
    const lines = [
      `# Dashboard at ${TARGETS} targets`,
      '',
      `Headless Chromium (Debian), ${TARGETS} targets, ${TARGETS / 10} breakers and bulkheads, 5 minutes of trends, ` +
        `updates every second under traffic; ${rows} target rows, ${charts} sparklines.`,
      '',
      '| figure | value |',
      '| --- | --- |',
      `| page bytes, no policy (markup, style, script) | ${emptyBytes} |`,
      `| page bytes with ${TARGETS} targets and their 5-minute trends embedded | ${fullBytes} |`,
      `| first draw (ms) | ${firstDraw.toFixed(1)} |`,
      `| update draw, median / p95 / max (ms) | ${spread(draws)} |`,
      `| frame time, median / p95 / max (ms) | ${spread(frames)} |`,
      `| long tasks (> 50 ms) during ${draws.length} updates | ${longTasks.length}${longest(longTasks)} |`,
    ];
    console.log(lines.join('\n'));
    writeResults('dashboard.md', lines.join('\n'));
  } finally {
    clearInterval(feeding);
    await close();
    await app.close();
  }
}

async function screenshots(): Promise<void> {
  const { app, url, registry } = await start();
  const history = app.get(DashboardHistory);
  for (let i = 0; i < TARGETS; i++) registry.targets.targetFor(targetName(i));
  const payments = registry.circuitBreakerFor('payments', {
    ...DEFAULT_CIRCUIT_BREAKER_OPTIONS,
    consecutiveFailures: 5,
    openDuration: 60_000,
  });
  registry.circuitBreakerFor('inventory', DEFAULT_CIRCUIT_BREAKER_OPTIONS);
  registry.bulkheadFor('mail', { ...DEFAULT_BULKHEAD_OPTIONS, maxConcurrent: 10 });
  registry.chaosFor('shipping', { latency: { rate: 0, delay: { min: 5, max: 50 } } });
  // An idempotent checkout: the counters its requests would have left (illustration, like the traffic).
  Object.assign(registry.idempotencyFor('OrdersController.checkout'), { executed: 1287, replayed: 14, conflicts: 2 });
  for (let s = 0; s < 240; s++) {
    traffic(registry, new Set());
    history.sample();
  }
  let failing = new Set<number>();
  const feeding = setInterval(() => traffic(registry, failing), 1000);
  const { browser, close } = await launch();
  const dir = join(root, 'docs/images');
  mkdirSync(dir, { recursive: true });
  const shoot = async (page: Page, name: string) => {
    await page.reload();
    await page.waitForSelector('#status[data-live="true"]');
    await page.screenshot({ path: join(dir, `dashboard-${name}.png`), fullPage: true });
  };
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1500, height: 900 });
    await page.goto(`${url}/resilience`);
    await shoot(page, 'normal');
    // A failure burst on payments: its breaker opens, the countdown starts.
    failing = new Set([0]);
    for (let s = 0; s < 40; s++) {
      traffic(registry, failing);
      history.sample();
    }
    for (let i = 0; i < 5; i++) {
      const permit = payments.admit();
      if (typeof permit === 'number') payments.onFailure(permit, new Error('gateway down'), 5);
    }
    // Some seconds open, sampled by the page's own one-second history: the timeline shows the open band.
    await new Promise((resolve) => setTimeout(resolve, 12_000));
    await shoot(page, 'open');
    registry.chaos.set('shipping', { latency: 0.3 });
    await shoot(page, 'chaos');
  } finally {
    clearInterval(feeding);
    await close();
    await app.close();
  }
}

await (SCREENSHOTS ? screenshots() : measure());
