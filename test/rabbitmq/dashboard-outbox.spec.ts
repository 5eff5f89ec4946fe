import { Module, type INestApplication } from '@nestjs/common';
import { connect } from 'amqplib';
import type { Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResilienceDashboardModule } from '../../lib/dashboard/index.js';
import { ResilienceModule } from '../../lib/index.js';
import { getRmqPublisherToken, RmqPublisherModule, type RmqPublisher } from '../../lib/rabbitmq/index.js';
import { launchChromium } from '../support/chromium.js';
import { listenOn } from '../support/dashboard-shop.js';
import { RabbitMqServer } from '../support/rabbitmq-server.js';

const QUEUE = 'dashboard.orders';

/** The cells of the outbox row named `name`, as the page shows them (run in the browser). */
async function outboxRow(page: Page, name: string): Promise<string[]> {
  const selector = JSON.stringify(`#outboxes tr[data-name="${name}"]`);
  return (await page.evaluate(
    `Array.from(document.querySelector(${selector})?.cells ?? [], (cell) => cell.textContent)`,
  )) as string[];
}

describe('the dashboard lists publishers’ outboxes (real broker, real Chromium)', { timeout: 240_000 }, () => {
  let broker: RabbitMqServer;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let app: INestApplication | undefined;

  beforeAll(async () => {
    [broker, browser] = await Promise.all([RabbitMqServer.start(), launchChromium()]);
    const connection = await connect(broker.url);
    await (await connection.createChannel()).assertQueue(QUEUE, { durable: true });
    await connection.close();
  }, 300_000);
  afterAll(async () => {
    await app?.close();
    await browser?.close();
    await broker?.dispose();
  }, 180_000);

  it('shows messages parked while the broker is down, in the summary too, and the drain once it is back', async () => {
    @Module({
      imports: [
        ResilienceModule.forRoot(),
        ResilienceDashboardModule.forRoot({ intervalMs: 100 }),
        RmqPublisherModule.register({
          name: 'orders',
          urls: [broker.url],
          retry: { maxAttempts: 2, initialDelay: 20, maxDelay: 50 },
          confirmTimeout: 2000,
          maxReconnectDelay: 300,
          outbox: { drainInterval: 300 },
        }),
      ],
    })
    class ProducerModule {}
    const started = await listenOn('express', ProducerModule);
    app = started.app;
    const publisher = app.get<RmqPublisher>(getRmqPublisherToken('orders'));
    const page = await browser.browser.newPage();
    await page.goto(`${started.url}/resilience`);
    await page.waitForFunction(
      `document.querySelector('#outboxes tr[data-name="orders"]')?.cells[1].textContent === 'connected'`,
    );
    expect(await outboxRow(page, 'orders')).toEqual(['orders', 'connected', '0', '0', '0', '0', '0']);
    expect(await page.evaluate(`document.getElementById('summary').getAttribute('data-fire')`)).toBe('false');

    await broker.stop();
    const outcomes = [];
    for (const id of ['o-1', 'o-2', 'o-3']) outcomes.push(await publisher.publish(QUEUE, id, { messageId: id }));
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['parked', 'parked', 'parked']);
    // The page follows the feed: three parked, none sent, the broker gone; the summary says so.
    await page.waitForFunction(
      `(() => { const cells = document.querySelector('#outboxes tr[data-name="orders"]')?.cells;
        return cells && cells[1].textContent === 'disconnected' && cells[2].textContent === '3'; })()`,
      { timeout: 10_000 },
    );
    const parkedRow = await outboxRow(page, 'orders');
    expect([parkedRow[4], parkedRow[5], parkedRow[6]]).toEqual(['3', '0', '0']);
    expect(Number(parkedRow[3])).toBeGreaterThan(0); // bytes held
    expect(await page.evaluate(`document.getElementById('summary').getAttribute('data-fire')`)).toBe('true');
    expect(await page.evaluate(`document.getElementById('summary').textContent`)).toContain(
      'Publisher orders: broker disconnected: 3 messages wait in its outbox',
    );

    await broker.restart();
    // Reconnected and drained: the outbox is empty, three sent, and the summary is clear again.
    await page.waitForFunction(
      `(() => { const cells = document.querySelector('#outboxes tr[data-name="orders"]')?.cells;
        return cells && cells[1].textContent === 'connected' && cells[2].textContent === '0'; })()`,
      { timeout: 60_000 },
    );
    expect(await outboxRow(page, 'orders')).toEqual(['orders', 'connected', '0', '0', '3', '3', '0']);
    expect(await page.evaluate(`document.getElementById('summary').getAttribute('data-fire')`)).toBe('false');
    await page.close();
  });
});
