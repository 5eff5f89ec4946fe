import { Controller, Get, Module } from '@nestjs/common';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Bulkhead, ResilienceModule, ResilienceRegistry } from '../../lib/index.js';
import { createTestApp, PLATFORMS, type TestApp } from './http-harness.js';

const release: (() => void)[] = [];

@Controller()
class ReportsController {
  @Get('report')
  @Bulkhead('reports')
  async report() {
    await new Promise<void>((resolve) => release.push(resolve));
    return { ok: true };
  }
}

@Module({
  imports: [
    ResilienceModule.forRoot({
      bulkheads: { reports: { adaptive: { algorithm: 'gradient2', initialLimit: 2, minLimit: 1, maxLimit: 10 } } },
    }),
  ],
  controllers: [ReportsController],
})
class AppModule {}

describe.each(PLATFORMS)('adaptive bulkhead on %s', (platform) => {
  let app: TestApp | undefined;
  afterEach(async () => {
    release.splice(0).forEach((resolve) => resolve());
    await app?.close();
    app = undefined;
  });

  it('rejects calls over its limit with 503 and Retry-After; the registry shows limit and rejections', async () => {
    app = await createTestApp(platform, AppModule);
    const first = app.send('GET', '/report');
    const second = app.send('GET', '/report');
    const registry = app.app.get(ResilienceRegistry);
    await vi.waitFor(() => expect(release).toHaveLength(2));
    const third = await app.send('GET', '/report');
    expect(third.status).toBe(503);
    expect(third.headers['retry-after']).toBe('1');
    expect(third.body).toMatchObject({ code: 'BULKHEAD_REJECTED', policy: 'reports' });
    expect(registry.bulkheads.get('reports').snapshot()).toMatchObject({ limit: 2, active: 2, rejected: 1 });
    release.splice(0).forEach((resolve) => resolve());
    expect((await first).status).toBe(200);
    expect((await second).status).toBe(200);
  });
});
