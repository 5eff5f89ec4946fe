import { Module } from '@nestjs/common';
import { ResilienceDashboardModule } from 'nest-resilience/dashboard';
import { ResiliencePrometheusModule } from 'nest-resilience/prometheus';
import { LocalOnlyGuard } from './local-only.guard.js';
import { MetricsController, sampleRegistry } from './metrics.controller.js';

/** `/metrics` for Prometheus and the live dashboard at `/resilience` (from this machine only). */
@Module({
  imports: [
    ResiliencePrometheusModule.forRoot({ registry: sampleRegistry }),
    ResilienceDashboardModule.forRoot({ path: 'resilience', guards: [LocalOnlyGuard] }),
  ],
  controllers: [MetricsController],
})
export class ObservabilityModule {}
