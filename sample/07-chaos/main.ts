/**
 * 07-chaos (`npm run chaos`): the HTTP sample with faults and latency injected into the gateway calls. It drives a
 * bounded load itself over 127.0.0.1, prints live what the policies did, pauses the experiment two thirds of the way
 * (watch the breaker close again) and ends with a summary. Nothing leaves the machine.
 *   REQUESTS (default 240), SECONDS (default 20), CONCURRENCY (default 6)
 */
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ResilienceEvents, ResilienceModule, ResilienceRegistry, type ResilienceEvent } from 'nest-resilience';
import { PaymentsHttpModule } from '../02-http/payments-http.module.js';
import { PaymentGateway } from '../shared/payment-gateway.js';
import { chaosPolicies } from './chaos.options.js';

@Module({ imports: [ResilienceModule.forRoot(chaosPolicies), PaymentsHttpModule] })
class ChaosSampleModule {}

const requests = Number(process.env.REQUESTS ?? 240);
const seconds = Number(process.env.SECONDS ?? 20);
const concurrency = Number(process.env.CONCURRENCY ?? 6);

const app = await NestFactory.create(ChaosSampleModule, { logger: ['error', 'warn'] });
await app.listen(0, '127.0.0.1');
const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
// The simulated gateway itself behaves: every failure below is one the experiment injected.
Object.assign(app.get(PaymentGateway).behaviour, { failureRate: 0, latencyMs: 40 });
const registry = app.get(ResilienceRegistry);
const started = Date.now();
const elapsed = () => ((Date.now() - started) / 1000).toFixed(1).padStart(5);
const tally = new Map<string, number>();
const count = (key: string) => tally.set(key, (tally.get(key) ?? 0) + 1);

console.log(`07-chaos on ${url}: ${requests} requests at most, ${seconds} s at most, ${concurrency} at a time`);
app.get(ResilienceEvents).subscribe((event) => {
  count(event.type);
  const line = describe(event);
  if (line !== undefined) console.log(`${elapsed()}s  ${line}`);
});

function describe(event: ResilienceEvent): string | undefined {
  switch (event.type) {
    case 'circuit-state':
      return `breaker ${event.policy}: ${event.from} -> ${event.to} (${event.reason})`;
    case 'fallback':
      return `fallback served by ${event.policy}`;
    case 'retry':
      return `retry ${event.policy} after attempt ${event.attempt}, waiting ${Math.round(event.delay)} ms`;
    case 'timeout':
      return `timeout ${event.policy} (${event.scope}, ${event.duration} ms)`;
    default:
      // Injections are many: the summary counts them.
      return undefined;
  }
}

const statuses = new Map<number, number>();
let sent = 0;
let paused = false;
const deadline = started + seconds * 1000;
// Each worker paces itself so that the requests spread over the run rather than finishing in a burst.
const pause = (concurrency * seconds * 1000) / requests;

async function worker(id: number): Promise<void> {
  while (sent < requests && Date.now() < deadline) {
    const n = sent++;
    if (!paused && n >= (requests * 2) / 3) {
      paused = true;
      registry.chaos.pause();
      console.log(`${elapsed()}s  chaos paused through registry.chaos.pause(): calls run untouched from now on`);
    }
    const response =
      n % 12 === 11
        ? await fetch(`${url}/rates/EUR`)
        : await fetch(`${url}/payments`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ amount: id * 100 + n }),
          });
    await response.arrayBuffer();
    statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
}

await Promise.all(Array.from({ length: concurrency }, (_, id) => worker(id)));
const injected = registry.chaos.list();
console.log(`\nsummary after ${elapsed().trim()} s, ${sent} requests`);
console.log(`  answers: ${[...statuses].map(([status, n]) => `${n} x ${status}`).join(', ')}`);
for (const experiment of injected) {
  const { fault, latency, outcome } = experiment.injected;
  console.log(`  chaos "${experiment.name}": ${fault} faults, ${latency} delays, ${outcome} outcomes injected`);
}
console.log(
  `  policies: ${tally.get('retry') ?? 0} retries, ${tally.get('timeout') ?? 0} timeouts, ` +
    `${tally.get('circuit-state') ?? 0} breaker transitions, ${tally.get('fallback') ?? 0} fallbacks served`,
);
for (const breaker of registry.circuitBreakers.list()) console.log(`  breaker "${breaker.name}" ends ${breaker.state}`);
await app.close();
