import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { afterEach, describe, it, vi } from 'vitest';
import {
  Bulkhead,
  CircuitBreaker,
  Fallback,
  getTimeoutSignal,
  RateLimit,
  ResilienceEvents,
  ResilienceModule,
  ResilienceRegistry,
  ResilienceService,
  Retry,
  Timeout,
  type ResilienceEvent,
  type ResilienceModuleOptions,
  type ResiliencePipelineOptions,
} from '../../lib/index.js';
import { SEMANTICS_CASES, type Downstream, type Subject } from './policy-semantics.cases.js';

/**
 * One table of behaviours (policy-semantics.cases.ts) run three ways: a decorated service method, `execute` with the
 * same options, and a pipeline built once. A difference between decorators and ResilienceService fails here.
 */

type Decorate = (reference: never) => MethodDecorator;

/** The decorator of each pipeline option, given the same reference (`'name'`, options, `[name, options]`). */
const DECORATORS: Record<string, Decorate> = {
  timeout: (reference: unknown) => applyReference(Timeout as never, reference),
  retry: (reference: unknown) => applyReference(Retry as never, reference),
  circuitBreaker: (reference: unknown) => applyReference(CircuitBreaker as never, reference),
  bulkhead: (reference: unknown) => applyReference(Bulkhead as never, reference),
  rateLimit: (reference: unknown) => applyReference(RateLimit as never, reference),
  fallback: (reference: unknown) =>
    typeof reference === 'function'
      ? Fallback((error: unknown) => (reference as (error: unknown) => unknown)(error))
      : Fallback(reference as { value: unknown }),
};

function applyReference(decorator: (...args: unknown[]) => MethodDecorator, reference: unknown): MethodDecorator {
  return Array.isArray(reference) ? decorator(...(reference as unknown[])) : decorator(reference);
}

async function boot(module: ResilienceModuleOptions = {}, providers: (new (...args: never[]) => object)[] = []) {
  @Module({ imports: [ResilienceModule.forRoot(module)], providers })
  class AppModule {}
  const app = await Test.createTestingModule({ imports: [AppModule] }).compile();
  await app.init();
  const events: ResilienceEvent[] = [];
  app.get(ResilienceEvents).subscribe((event) => events.push(event));
  return { app, events, registry: app.get(ResilienceRegistry) };
}

type SubjectFactory = (
  module: ResilienceModuleOptions | undefined,
  policies: ResiliencePipelineOptions,
) => Promise<Subject & { close(): Promise<void> }>;

const SUBJECTS: Record<string, SubjectFactory> = {
  async 'a decorated service method'(module, policies) {
    @Injectable()
    class Gateway {
      async call(downstream: Downstream): Promise<unknown> {
        return downstream(getTimeoutSignal()!);
      }
    }
    const descriptor = Object.getOwnPropertyDescriptor(Gateway.prototype, 'call')!;
    for (const [option, reference] of Object.entries(policies)) {
      DECORATORS[option](reference as never)(Gateway.prototype, 'call', descriptor);
    }
    Object.defineProperty(Gateway.prototype, 'call', descriptor);
    const { app, events, registry } = await boot(module, [Gateway]);
    const gateway = app.get(Gateway);
    return { call: (downstream) => gateway.call(downstream), events, registry, close: () => app.close() };
  },
  async 'ResilienceService.execute'(module, policies) {
    const { app, events, registry } = await boot(module);
    const resilience = app.get(ResilienceService);
    return {
      call: (downstream) => resilience.execute(policies, ({ signal }) => downstream(signal)),
      events,
      registry,
      close: () => app.close(),
    };
  },
  async 'a pipeline built once'(module, policies) {
    const { app, events, registry } = await boot(module);
    const pipeline = app.get(ResilienceService).pipeline(policies);
    return {
      call: (downstream) => pipeline.execute(({ signal }) => downstream(signal)),
      events,
      registry,
      close: () => app.close(),
    };
  },
};

afterEach(() => {
  vi.useRealTimers();
});

for (const [subjectName, createSubject] of Object.entries(SUBJECTS)) {
  describe(`policy semantics, on ${subjectName}`, () => {
    for (const semantics of SEMANTICS_CASES) {
      it(semantics.title, async () => {
        vi.useFakeTimers({
          toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'],
        });
        const subject = await createSubject(semantics.module, semantics.policies);
        try {
          await semantics.run(subject);
        } finally {
          await subject.close();
        }
      });
    }
  });
}
