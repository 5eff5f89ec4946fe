import { Controller, Get, Header } from '@nestjs/common';
import { Registry } from 'prom-client';

/** The sample's own prom-client registry: the Prometheus module registers into it, `/metrics` serves it. */
export const sampleRegistry = new Registry();

/** `GET /metrics` in Prometheus' text format (no default process metrics: only nest-resilience's). */
@Controller()
export class MetricsController {
  @Get('metrics')
  @Header('content-type', sampleRegistry.contentType)
  metrics(): Promise<string> {
    return sampleRegistry.metrics();
  }
}
