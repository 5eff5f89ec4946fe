/**
 * Per-call overhead of nest-resilience policies on a real Nest application context: a service method returning a
 * resolved Promise (and one returning an Observable), called sequentially, bare and decorated.
 * Run with `npm run bench`. Figures are medians of interleaved rounds; "overhead" is decorated minus bare.
 */
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { lastValueFrom, Observable, of } from 'rxjs';
import { Fallback, ResilienceModule, Retry, Timeout } from '../lib/index.js';
import { measure, type BenchCase } from './measure.js';

@Injectable()
class Target {
  async bare(): Promise<number> {
    return 1;
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
  @Fallback({ value: 0 })
  @Retry()
  @Timeout(1000)
  async combined(): Promise<number> {
    return 1;
  }

  bare$(): Observable<number> {
    return of(1);
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
  @Fallback({ value: 0 })
  @Retry()
  @Timeout(1000)
  combined$(): Observable<number> {
    return of(1);
  }
}

@Module({ imports: [ResilienceModule.forRoot()], providers: [Target] })
class BenchModule {}

const app = await NestFactory.createApplicationContext(BenchModule, { logger: false });
const target = app.get(Target);

const promiseCases: BenchCase[] = [
  { name: 'bare', run: () => target.bare() },
  { name: 'Timeout', run: () => target.timeout() },
  { name: 'Retry', run: () => target.retry() },
  { name: 'Fallback', run: () => target.fallback() },
  { name: 'Timeout+Retry+Fallback', run: () => target.combined() },
];
const observableCases: BenchCase[] = [
  { name: 'bare', run: () => lastValueFrom(target.bare$()) },
  { name: 'Timeout', run: () => lastValueFrom(target.timeout$()) },
  { name: 'Retry', run: () => lastValueFrom(target.retry$()) },
  { name: 'Fallback', run: () => lastValueFrom(target.fallback$()) },
  { name: 'Timeout+Retry+Fallback', run: () => lastValueFrom(target.combined$()) },
];

const iterations = Number(process.env.BENCH_ITERATIONS ?? 100_000);
const promise = await measure(promiseCases, { iterations });
const observable = await measure(observableCases, { iterations });
await app.close();

const bare = (results: Map<string, number>) => results.get('bare')!;
const row = (name: string) => {
  const p = promise.get(name)!;
  const o = observable.get(name)!;
  const overhead = (value: number, base: number) => (name === 'bare' ? '-' : `${Math.round(value - base)}`);
  return `| ${name} | ${Math.round(p)} | ${overhead(p, bare(promise))} | ${Math.round(o)} | ${overhead(o, bare(observable))} |`;
};
console.log(`nest-resilience per-call overhead, Node ${process.version}, ${iterations} sequential calls x 7 rounds (median)\n`);
console.log('| case | Promise ns/call | Promise overhead ns | Observable ns/call | Observable overhead ns |');
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const entry of promiseCases) console.log(row(entry.name));
