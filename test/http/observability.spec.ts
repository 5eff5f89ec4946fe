import { Controller, Get, Module, Param } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { ResilienceModule } from 'nest-resilience';
import { DashboardFeed, ResilienceDashboardModule } from 'nest-resilience/dashboard';
import { CircuitBreakerHealthIndicator } from 'nest-resilience/health';
import { InjectHttpClient, ResilientHttpClient, ResilientHttpModule } from 'nest-resilience/http';
import { ResiliencePrometheusModule } from 'nest-resilience/prometheus';
import { createTestApp, PLATFORMS, type TestApp } from '../e2e/http-harness.js';
import { answer, startUpstream, type Upstream } from './upstream.js';

let upstreams: Upstream[] = [];
let app: TestApp | undefined;
afterEach(async () => {
  await app?.close();
  await Promise.all(upstreams.map((upstream) => upstream.close()));
  app = undefined;
  upstreams = [];
});

/** An app whose `GET /call/:i` calls the i-th upstream through one client, with /health and Prometheus beside it. */
function appModule(origins: readonly string[], prometheus: Registry) {
  @Controller()
  class PartnersController {
    constructor(
      @InjectHttpClient('partners') private readonly partners: ResilientHttpClient,
      private readonly health: HealthCheckService,
      private readonly breakers: CircuitBreakerHealthIndicator,
    ) {}

    @Get('call/:i')
    async call(@Param('i') i: string): Promise<{ status: number | string }> {
      try {
        return { status: (await this.partners.get(`${origins[Number(i)]}/quote`)).status };
      } catch (error) {
        return { status: (error as { code: string }).code };
      }
    }

    @Get('health')
    @HealthCheck()
    check() {
      return this.health.check([() => this.breakers.check('resilience')]);
    }
  }

  @Module({
    imports: [
      ResilienceModule.forRoot(),
      TerminusModule,
      ResiliencePrometheusModule.forRoot({ registry: prometheus }),
      ResilienceDashboardModule.forRoot(),
      ResilientHttpModule.register({
        name: 'partners',
        maxOrigins: 2,
        retry: false,
        circuitBreaker: { window: 'count', windowSize: 2, minimumCalls: 2, failureRateThreshold: 100 },
      }),
    ],
    controllers: [PartnersController],
    providers: [CircuitBreakerHealthIndicator],
  })
  class PartnersModule {}
  return PartnersModule;
}

describe.each(PLATFORMS)('%s: one client, its origins in /health, /metrics and the dashboard', (platform) => {
  it('each origin listed as <client> <origin>; origins past maxOrigins share one entry: labels bounded', async () => {
    const down = await startUpstream((_request, res) => answer(res, 503));
    upstreams.push(down);
    for (let i = 0; i < 3; i++) upstreams.push(await startUpstream((_request, res) => answer(res, 200)));
    const origins = upstreams.map((upstream) => upstream.origin);
    const prometheus = new Registry();
    app = await createTestApp(platform, appModule(origins, prometheus));

    for (let i = 0; i < 2; i++) expect((await app.send('GET', '/call/0')).body).toEqual({ status: 'HTTP_STATUS' });
    expect((await app.send('GET', '/call/0')).body).toEqual({ status: 'BROKEN_CIRCUIT' });
    for (const i of [1, 2, 3, 2]) expect((await app.send('GET', `/call/${i}`)).body).toEqual({ status: 200 });

    const own = [`partners ${origins[0]}`, `partners ${origins[1]}`];
    const names = [...own, 'partners *'];
    // /health: the down host's open breaker is degraded (not critical: the check stays 200), named by its origin;
    // the healthy hosts are listed beside it.
    const health = await app.send('GET', '/health');
    expect(health.status).toBe(200);
    const breakers = (
      health.body as { details: { resilience: { breakers: Record<string, { state: string; status: string }> } } }
    ).details.resilience.breakers;
    expect(Object.keys(breakers).sort()).toEqual([...names].sort());
    expect(breakers[own[0]]).toMatchObject({ state: 'open', status: 'degraded' });
    expect(breakers[own[1]].state).toBe('closed');
    expect(breakers['partners *'].state).toBe('closed');

    // Prometheus: the breaker and bulkhead series and the call durations carry the same bounded names.
    const metrics = await prometheus.metrics();
    expect(metrics).toContain(`nest_resilience_circuit_breaker_state{name="${own[0]}",state="open"} 1`);
    const labelled = new Set([...metrics.matchAll(/(?:name|target)="(partners [^"]*)"/g)].map((match) => match[1]));
    expect([...labelled].sort()).toEqual([...names].sort());
    expect(metrics).toMatch(
      new RegExp(`nest_resilience_call_duration_seconds_count\\{target="partners \\*",outcome="success"\\} 3`),
    );

    // The dashboard's feed lists the same breakers and bulkheads.
    const snapshot = app.app.get(DashboardFeed).snapshot();
    expect(snapshot.breakers.map((breaker) => breaker.name).sort()).toEqual([...names].sort());
    expect(snapshot.bulkheads.map((bulkhead) => bulkhead.name).sort()).toEqual([...names].sort());
  });
});
