/**
 * The cases of the per-call overhead benchmark: the same trivial method (a resolved Promise, or `of(1)`), bare, behind
 * each of our policies, behind our full pipeline, and behind the peers' equivalents. `bench/overhead.ts` runs each
 * case in a fresh process, so one case's JIT state cannot help or hurt another.
 */
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  bulkhead,
  circuitBreaker,
  ConsecutiveBreaker,
  ExponentialBackoff,
  fallback,
  handleAll,
  retry,
  timeout,
  TimeoutStrategy,
  wrap,
} from 'cockatiel';
import OpossumBreaker from 'opossum';
import { Registry } from 'prom-client';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { lastValueFrom, Observable, of, throwError } from 'rxjs';
import {
  Bulkhead,
  CircuitBreaker,
  Fallback,
  Hedge,
  RateLimit,
  ResilienceModule,
  ResilienceRegistry,
  ResilienceService,
  Retry,
  Timeout,
  getTimeoutSignal,
  type ResiliencePipeline,
} from 'nest-resilience';
import { ResiliencePrometheusModule } from 'nest-resilience/prometheus';
import { ResilienceMetricProducer, ResilienceOpenTelemetryModule } from 'nest-resilience/opentelemetry';

const failure = new Error('down');
const HIGH = { limit: 1e9, interval: 1000 }; // the most a limit may be; never reached here
const rejected = () => 0;
/** A result of about 1 KB as JSON, as a quote or a short list would be: what a last-known-good step serializes. */
const QUOTE = {
  symbol: 'ACME',
  prices: Array.from({ length: 40 }, (_, index) => ({ at: 1_764_000_000_000 + index, price: 100 + index / 10 })),
};

const one = () => 1;

@Injectable()
class Target {
  /** The same policies as `combined`, built without decorators. */
  private readonly pipeline: ResiliencePipeline<number>;

  constructor(resilience: ResilienceService) {
    this.pipeline = resilience.pipeline({ fallback: { value: 0 }, retry: {}, timeout: 1000 });
  }

  /** `combined` through `ResilienceService.pipeline(...).execute(fn)`. */
  viaPipeline(): Promise<number> {
    return this.pipeline.execute(one);
  }

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
  /**
   * Like for like with cockatiel's cooperative timeout, which makes an AbortController and a timer on every call: the
   * method asks for its signal, so ours makes one too.
   */
  @Timeout(1000)
  async timeoutSignal(): Promise<number> {
    return getTimeoutSignal() ? 1 : 0;
  }
  @Retry()
  async retry(): Promise<number> {
    return 1;
  }
  @Fallback({ value: 0 })
  async fallback(): Promise<number> {
    return 1;
  }
  @Fallback([{ lastKnownGood: { maxAge: 60_000 } }, { value: 0 }])
  async chain(): Promise<number> {
    return 1;
  }
  @Fallback([{ lastKnownGood: { maxAge: 60_000, refreshInterval: 0 } }, { value: 0 }])
  async chainObject(): Promise<typeof QUOTE> {
    return QUOTE;
  }
  @CircuitBreaker('closed')
  async breaker(): Promise<number> {
    return 1;
  }
  @CircuitBreaker('open')
  async openBreaker(): Promise<number> {
    return 1;
  }
  @RateLimit(HIGH)
  async rateLimit(): Promise<number> {
    return 1;
  }
  @Bulkhead({ maxConcurrent: 10 })
  async bulkhead(): Promise<number> {
    return 1;
  }
  @Retry({ budget: 'default' })
  async retryBudget(): Promise<number> {
    return 1;
  }
  @Bulkhead({ adaptive: { algorithm: 'gradient2' } })
  async adaptiveBulkhead(): Promise<number> {
    return 1;
  }
  @Hedge({ delay: 100 })
  async hedge(): Promise<number> {
    return 1;
  }
  @Fallback({ value: 0 })
  @Retry()
  @Timeout(1000)
  async combined(): Promise<number> {
    return 1;
  }
  @Fallback({ value: 0 })
  @Retry()
  @CircuitBreaker('full')
  @RateLimit(HIGH)
  @Timeout(1000)
  @Bulkhead({ maxConcurrent: 10 })
  async full(): Promise<number> {
    return 1;
  }
  /** cockatiel's wrap exactly: the same five policies (no rate limit), the method asking for its signal. */
  @Fallback({ value: 0 })
  @Retry()
  @CircuitBreaker('full')
  @Timeout(1000)
  @Bulkhead({ maxConcurrent: 10 })
  async fiveSignal(): Promise<number> {
    return getTimeoutSignal() ? 1 : 0;
  }
  /** `full` whose method asks for its timeout signal, as a cooperative cockatiel timeout always makes one. */
  @Fallback({ value: 0 })
  @Retry()
  @CircuitBreaker('full')
  @RateLimit(HIGH)
  @Timeout(1000)
  @Bulkhead({ maxConcurrent: 10 })
  async fullSignal(): Promise<number> {
    return getTimeoutSignal() ? 1 : 0;
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
  @Fallback([{ lastKnownGood: { maxAge: 60_000 } }, { value: 0 }])
  chain$(): Observable<number> {
    return of(1);
  }
  @Fallback([{ lastKnownGood: { maxAge: 60_000, refreshInterval: 0 } }, { value: 0 }])
  chainObject$(): Observable<typeof QUOTE> {
    return of(QUOTE);
  }
  @CircuitBreaker('closed')
  breaker$(): Observable<number> {
    return of(1);
  }
  @CircuitBreaker('open')
  openBreaker$(): Observable<number> {
    return of(1);
  }
  @RateLimit(HIGH)
  rateLimit$(): Observable<number> {
    return of(1);
  }
  @Bulkhead({ maxConcurrent: 10 })
  bulkhead$(): Observable<number> {
    return of(1);
  }
  @Retry({ budget: 'default' })
  retryBudget$(): Observable<number> {
    return of(1);
  }
  @Bulkhead({ adaptive: { algorithm: 'gradient2' } })
  adaptiveBulkhead$(): Observable<number> {
    return of(1);
  }
  @Hedge({ delay: 100 })
  hedge$(): Observable<number> {
    return of(1);
  }
  @Fallback({ value: 0 })
  @Retry()
  @Timeout(1000)
  combined$(): Observable<number> {
    return of(1);
  }
  @Fallback({ value: 0 })
  @Retry()
  @CircuitBreaker('full')
  @RateLimit(HIGH)
  @Timeout(1000)
  @Bulkhead({ maxConcurrent: 10 })
  full$(): Observable<number> {
    return of(1);
  }
}

/**
 * Every setup configures what every method of `Target` names (`@Retry({ budget: 'default' })` included), or the app
 * refuses to start.
 */
const OPTIONS = { circuitBreakers: { closed: {}, open: {}, full: {} }, retryBudgets: { default: {} } };

@Module({
  imports: [ResilienceModule.forRoot(OPTIONS)],
  providers: [Target],
})
class BenchModule {}

/**
 * How the application of a case is set up: call metrics off (the default), on, or exported (OpenTelemetry: the call
 * duration through a `ResilienceMetricProducer`, or `opentelemetry-sync` through the SDK's synchronous histogram).
 */
export type BenchSetup = 'plain' | 'metrics' | 'prometheus' | 'opentelemetry' | 'opentelemetry-sync';

/**
 * An SDK with an in-memory reader that never exports during the run: the cost measured is the recording. With a
 * producer, the reader takes it in `metricProducers`, as the docs wire it.
 */
function meterProvider(producer?: ResilienceMetricProducer): MeterProvider {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const metricProducers = producer === undefined ? [] : [producer];
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000, metricProducers });
  return new MeterProvider({ readers: [reader] });
}

function openTelemetry(sync: boolean) {
  if (sync) return ResilienceOpenTelemetryModule.forRoot({ meterProvider: meterProvider() });
  const metricProducer = new ResilienceMetricProducer();
  return ResilienceOpenTelemetryModule.forRoot({ meterProvider: meterProvider(metricProducer), metricProducer });
}

function moduleFor(setup: BenchSetup): object {
  if (setup === 'plain') return BenchModule;
  const exporter =
    setup === 'prometheus'
      ? [ResiliencePrometheusModule.forRoot({ registry: new Registry() })]
      : setup === 'opentelemetry' || setup === 'opentelemetry-sync'
        ? [openTelemetry(setup === 'opentelemetry-sync')]
        : [];
  @Module({
    imports: [ResilienceModule.forRoot({ ...OPTIONS, metrics: true }), ...exporter],
    providers: [Target],
  })
  class MeasuredBenchModule {}
  return MeasuredBenchModule;
}

/** One benchmark case: what it measures, and one call of it for each result shape it supports. */
export interface OverheadCase {
  readonly name: string;
  /** The case whose ns/call is subtracted to give the overhead. */
  readonly baseline: 'bare' | 'bare, rejecting';
  /** The peer case this one is compared with, if any. */
  readonly peer?: string;
  /** How its application is set up. Default `plain`: call metrics off. */
  readonly setup?: BenchSetup;
  readonly promise?: (target: Target) => () => Promise<unknown>;
  readonly observable?: (target: Target) => () => Promise<unknown>;
}

const resolved = () => Promise.resolve(1);
const cockatielTimeout = timeout(1000, TimeoutStrategy.Cooperative);
const cockatielBreaker = circuitBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) });
const cockatielFull = wrap(
  fallback(handleAll, () => 0),
  retry(handleAll, { maxAttempts: 2, backoff: new ExponentialBackoff() }),
  circuitBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) }),
  timeout(1000, TimeoutStrategy.Cooperative),
  bulkhead(10),
);
const opossum = new OpossumBreaker(resolved);

const ours = (name: string, method: keyof Target, extra: Partial<OverheadCase> = {}): OverheadCase => {
  const rejects = extra.baseline === 'bare, rejecting';
  const call = (key: keyof Target) => (target: Target) => {
    const method = (target[key] as () => Promise<number> | Observable<number>).bind(target);
    const once = key.endsWith('$')
      ? () => lastValueFrom(method() as Observable<number>)
      : (method as () => Promise<number>);
    return rejects ? () => once().catch(rejected) : once;
  };
  return { name, baseline: 'bare', promise: call(method), observable: call(`${method}$` as keyof Target), ...extra };
};

export const CASES: OverheadCase[] = [
  ours('bare', 'bare'),
  ours('bare, rejecting', 'rejecting', { baseline: 'bare, rejecting' }),
  ours('Timeout (no signal asked for)', 'timeout', { peer: 'cockatiel timeout' }),
  {
    name: 'Timeout, the method calls getTimeoutSignal()',
    baseline: 'bare',
    peer: 'cockatiel timeout',
    promise: (target) => () => target.timeoutSignal(),
  },
  ours('Retry', 'retry'),
  ours('Fallback', 'fallback'),
  ours('Fallback chain [lastKnownGood, value] (success, one key: rewritten once a second)', 'chain'),
  ours(
    'Fallback chain [lastKnownGood, value] (success, refreshInterval 0: writes 1.4 KB JSON each call)',
    'chainObject',
  ),
  ours('CircuitBreaker (closed)', 'breaker', { peer: 'cockatiel circuitBreaker' }),
  ours('CircuitBreaker (open: rejects)', 'openBreaker', { baseline: 'bare, rejecting' }),
  ours('RateLimit (allowed, memory)', 'rateLimit'),
  ours('Bulkhead (free slot)', 'bulkhead'),
  ours('Retry with a budget', 'retryBudget'),
  ours('Bulkhead adaptive (gradient2, under the limit)', 'adaptiveBulkhead'),
  ours('Hedge (fixed 100 ms delay, answered before it)', 'hedge'),
  ours('Timeout+Retry+Fallback', 'combined'),
  {
    name: 'Timeout+Retry+Fallback, ResilienceService pipeline',
    baseline: 'bare',
    peer: 'Timeout+Retry+Fallback',
    promise: (target) => () => target.viaPipeline(),
  },
  ours('full pipeline (Fallback+Retry+CircuitBreaker+RateLimit+Timeout+Bulkhead)', 'full', {
    peer: 'cockatiel wrap(fallback, retry, circuitBreaker, timeout, bulkhead)',
  }),
  {
    name: 'full pipeline, the method calls getTimeoutSignal()',
    baseline: 'bare',
    peer: 'cockatiel wrap(fallback, retry, circuitBreaker, timeout, bulkhead)',
    promise: (target) => () => target.fullSignal(),
  },
  {
    name: 'five policies as cockatiel wraps them (Fallback+Retry+CircuitBreaker+Timeout+Bulkhead), signal asked for',
    baseline: 'bare',
    peer: 'cockatiel wrap(fallback, retry, circuitBreaker, timeout, bulkhead)',
    promise: (target) => () => target.fiveSignal(),
  },
  ours('full pipeline, call metrics on (registry percentiles)', 'full', { setup: 'metrics' }),
  ours('full pipeline, metrics to prom-client', 'full', { setup: 'prometheus' }),
  ours('full pipeline, metrics to the OpenTelemetry SDK (metric producer)', 'full', { setup: 'opentelemetry' }),
  ours('full pipeline, metrics to the OpenTelemetry SDK (synchronous histogram)', 'full', {
    setup: 'opentelemetry-sync',
  }),
  { name: 'cockatiel timeout', baseline: 'bare', promise: () => () => cockatielTimeout.execute(resolved) },
  { name: 'cockatiel circuitBreaker', baseline: 'bare', promise: () => () => cockatielBreaker.execute(resolved) },
  {
    name: 'cockatiel wrap(fallback, retry, circuitBreaker, timeout, bulkhead)',
    baseline: 'bare',
    promise: () => () => cockatielFull.execute(resolved),
  },
  { name: 'opossum fire()', baseline: 'bare', promise: () => () => opossum.fire() },
];

/** Boots the Nest application context the cases call into, with the `open` breaker forced open. */
export async function bootTarget(setup: BenchSetup = 'plain'): Promise<{ target: Target; close: () => Promise<void> }> {
  const app = await NestFactory.createApplicationContext(moduleFor(setup), { logger: false });
  app.get(ResilienceRegistry).circuitBreakers.forceOpen('open');
  return { target: app.get(Target), close: () => app.close() };
}
