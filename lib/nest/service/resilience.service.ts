import { Injectable } from '@nestjs/common';
import { PipelineFactory } from '../pipeline/pipeline.factory.js';
import type { PipelineAttempt } from './pipeline-attempt.js';
import { namedPipelineSpecs, pipelineSpecs } from './pipeline-specs.js';
import type { ResiliencePipelineOptions } from './resilience-pipeline.options.js';
import { ResiliencePipeline, type ExecuteOptions } from './resilience.pipeline.js';

/**
 * The policies without decorators, for a part of a method, a callback API or a loop over items: inject
 * `ResilienceService` and call `execute('gateway', fn)` or `execute({ retry: 'gateway', timeout: 800 }, fn)`, or
 * build a pipeline once with `pipeline(options)`. Same named configurations, validation, canonical order, registry and
 * events as the decorators.
 */
@Injectable()
export class ResilienceService {
  /** Pipelines named after configurations, built on first use (bounded: an unknown name throws, it is not kept). */
  private readonly named = new Map<string, ResiliencePipeline>();

  constructor(private readonly factory: PipelineFactory) {}

  /**
   * Runs `fn` through the policies: a configuration name (`'gateway'`: every configuration of that name, of every
   * kind) or pipeline options. With options the pipeline is built and validated on each call: on a hot path build it
   * once with {@link ResilienceService.pipeline}. A bad option rejects with a `ResilienceConfigError`.
   * `options.signal` is the caller's cancellation: aborting it rejects with a `CallAbortedError` at once.
   *
   * @returns what `fn` answers, or its fallback.
   */
  execute<TResult>(
    nameOrOptions: string | ResiliencePipelineOptions<NoInfer<TResult>>,
    fn: (attempt: PipelineAttempt) => TResult | PromiseLike<TResult>,
    options?: ExecuteOptions,
  ): Promise<TResult> {
    let pipeline: ResiliencePipeline<TResult>;
    try {
      pipeline = this.pipeline(nameOrOptions);
    } catch (error) {
      return Promise.reject(error);
    }
    return pipeline.execute(fn, options);
  }

  /**
   * Builds the policies once, validated now (a mistake throws a `ResilienceConfigError` naming the option):
   * `pipeline('gateway')` or `pipeline({ name: 'reports', retry: 'gateway', timeout: 800, bulkhead: { ... } })`.
   * Pipelines naming the same circuit breaker, bulkhead or rate limit share its state, as decorated methods do.
   */
  pipeline<TFallback = never>(
    nameOrOptions: string | ResiliencePipelineOptions<TFallback>,
  ): ResiliencePipeline<TFallback> {
    if (typeof nameOrOptions === 'string') {
      let pipeline = this.named.get(nameOrOptions);
      if (pipeline === undefined) {
        const specs = namedPipelineSpecs(nameOrOptions, this.factory);
        pipeline = this.build(specs, nameOrOptions);
        this.named.set(nameOrOptions, pipeline);
      }
      return pipeline;
    }
    const name = (nameOrOptions as { name?: unknown } | null)?.name;
    const label = typeof name === 'string' ? name : 'execute';
    return this.build(pipelineSpecs(nameOrOptions, `ResilienceService.${label}`), label);
  }

  private build<TFallback>(specs: ReadonlyMap<string, unknown>, label: string): ResiliencePipeline<TFallback> {
    const target = { className: 'ResilienceService', methodName: label };
    return new ResiliencePipeline(target, this.factory.createFromSpecs(specs, `ResilienceService.${label}`));
  }
}
