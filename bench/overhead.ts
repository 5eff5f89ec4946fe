/**
 * Per-call overhead of nest-resilience policies on a real Nest application context: a service method returning a
 * resolved Promise (and one returning an Observable), called sequentially, bare and decorated.
 * Run with `npm run bench`. Figures are medians of interleaved rounds; "overhead" is decorated minus bare.
 */
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { lastValueFrom, Observable, of, throwError } from 'rxjs';
import { CircuitBreaker, Fallback, ResilienceModule, ResilienceRegistry, Retry, Timeout } from '../lib/index.js';
import { measure, type BenchCase } from './measure.js';

const failure = new Error('down');

@Injectable()
class Target {
  async bare(): Promise<number> {
    return 1;
  }
  /** Baseline of a call that fails: Node's own cost of a rejected Promise and its handler. */
  rejecting(): Promise<number> {
    return Promise.reject(failure);
  }
  @Timeout(1000)
  async timeout(): Promise<number> {
    return 1;
  }
  @Retry()
  async retry(): Promise<number> {
    return 1;
  }
  @Fallback({ value: 0 })
  async fallback(): Promise<number> {
    return 1;
  }
  @CircuitBreaker('closed')
  async breaker(): Promise<number> {
    return 1;
  }
  @CircuitBreaker('open')
  async openBreaker(): Promise<number> {
    return 1;
  }
  @Fallback({ value: 0 })
  @Retry()
  @Timeout(1000)
  async combined(): Promise<number> {
    return 1;
  }

  bare$(): Observable<number> {
    return of(1);
  }
  rejecting$(): Observable<number> {
    return throwError(() => failure);
  }
  @Timeout(1000)
  timeout$(): Observable<number> {
    return of(1);
  }
  @Retry()
  retry$(): Observable<number> {
    return of(1);
  }
  @Fallback({ value: 0 })
  fallback$(): Observable<number> {
    return of(1);
  }
  @CircuitBreaker('closed')
  breaker$(): Observable<number> {
    return of(1);
  }
  @CircuitBreaker('open')
  openBreaker$(): Observable<number> {
    return of(1);
  }
  @Fallback({ value: 0 })
  @Retry()
  @Timeout(1000)
  combined$(): Observable<number> {
    return of(1);
  }
}

@Module({
  imports: [ResilienceModule.forRoot({ circuitBreakers: { closed: {}, open: {} } })],
  providers: [Target],
})
class BenchModule {}

const app = await NestFactory.createApplicationContext(BenchModule, { logger: false });
const target = app.get(Target);
app.get(ResilienceRegistry).forceOpen('open');
const rejected = () => 0;

const promiseCases: BenchCase[] = [
  { name: 'bare', run: () => target.bare() },
  { name: 'bare, rejecting', run: () => target.rejecting().catch(rejected) },
  { name: 'Timeout', run: () => target.timeout() },
  { name: 'Retry', run: () => target.retry() },
  { name: 'Fallback', run: () => target.fallback() },
  { name: 'CircuitBreaker (closed)', run: () => target.breaker() },
  { name: 'CircuitBreaker (open: rejects)', run: () => target.openBreaker().catch(rejected) },
  { name: 'Timeout+Retry+Fallback', run: () => target.combined() },
];
const observableCases: BenchCase[] = [
  { name: 'bare', run: () => lastValueFrom(target.bare$()) },
  { name: 'bare, rejecting', run: () => lastValueFrom(target.rejecting$()).catch(rejected) },
  { name: 'Timeout', run: () => lastValueFrom(target.timeout$()) },
  { name: 'Retry', run: () => lastValueFrom(target.retry$()) },
  { name: 'Fallback', run: () => lastValueFrom(target.fallback$()) },
  { name: 'CircuitBreaker (closed)', run: () => lastValueFrom(target.breaker$()) },
  { name: 'CircuitBreaker (open: rejects)', run: () => lastValueFrom(target.openBreaker$()).catch(rejected) },
  { name: 'Timeout+Retry+Fallback', run: () => lastValueFrom(target.combined$()) },
];

const iterations = Number(process.env.BENCH_ITERATIONS ?? 100_000);
const promise = await measure(promiseCases, { iterations });
const observable = await measure(observableCases, { iterations });
await app.close();

const row = (name: string) => {
  const p = promise.get(name)!;
  const o = observable.get(name)!;
  // A rejection is compared with a bare call that rejects: Node's rejected-Promise bookkeeping is not ours.
  const base = (results: Map<string, number>) => results.get(name.includes('open') ? 'bare, rejecting' : 'bare')!;
  const overhead = (value: number, baseline: number) => (name.startsWith('bare') ? '-' : `${Math.round(value - baseline)}`);
  return `| ${name} | ${Math.round(p)} | ${overhead(p, base(promise))} | ${Math.round(o)} | ${overhead(o, base(observable))} |`;
};
console.log(`nest-resilience per-call overhead, Node ${process.version}, ${iterations} sequential calls x 7 rounds (median)\n`);
console.log('| case | Promise ns/call | Promise overhead ns | Observable ns/call | Observable overhead ns |');
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const entry of promiseCases) console.log(row(entry.name));
