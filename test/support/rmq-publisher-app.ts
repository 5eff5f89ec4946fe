import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ResilienceEvents, ResilienceModule, ResilienceRegistry, type ResilienceEvent } from '../../lib/index.js';
import {
  getRmqPublisherToken,
  RmqPublisherModule,
  type RmqPublisher,
  type RmqPublisherOptions,
} from '../../lib/rabbitmq/index.js';

/** An application context holding one `RmqPublisher`, as a producer service would, and what the tests read of it. */
export interface PublisherApp {
  readonly app: INestApplicationContext;
  readonly publisher: RmqPublisher;
  readonly registry: ResilienceRegistry;
  /** Every resilience event the app emitted since it started, in order. */
  readonly events: ResilienceEvent[];
}

/** Starts `ResilienceModule.forRoot()` and `RmqPublisherModule.register(options)` in a Nest application context. */
export async function startPublisherApp(options: RmqPublisherOptions): Promise<PublisherApp> {
  @Module({ imports: [ResilienceModule.forRoot(), RmqPublisherModule.register(options)] })
  class PublisherModule {}
  const app = await NestFactory.createApplicationContext(PublisherModule, { logger: false });
  const events: ResilienceEvent[] = [];
  app.get(ResilienceEvents).subscribe((event) => events.push(event));
  return {
    app,
    publisher: app.get<RmqPublisher>(getRmqPublisherToken(options.name)),
    registry: app.get(ResilienceRegistry),
    events,
  };
}
