import { Injectable } from '@nestjs/common';
import type { PolicyTarget } from '../core/events/resilience-event.interface.js';
import type { ObservableStep } from '../core/pipeline/policy.interface.js';

/** The pipelines of one decorated controller handler, built once at bootstrap. */
export interface ControllerPipeline {
  readonly target: PolicyTarget;
  /** The controller instance, the receiver of a `@Fallback('method')`. */
  readonly instance: object;
  /** Every policy of the handler. */
  readonly all: ObservableStep;
  /** Without retry, for POST and PATCH requests (unless the retry options allow retrying them). */
  readonly nonIdempotent: ObservableStep;
}

/** Controller handler function -> its pipeline. Filled by the explorer, read by the interceptor on each request. */
@Injectable()
export class ControllerPipelines {
  private readonly byHandler = new WeakMap<object, ControllerPipeline>();

  set(handler: object, pipeline: ControllerPipeline): void {
    this.byHandler.set(handler, pipeline);
  }

  get(handler: object): ControllerPipeline | undefined {
    return this.byHandler.get(handler);
  }
}
