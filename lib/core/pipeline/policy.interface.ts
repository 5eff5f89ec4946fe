import type { Observable } from 'rxjs';
import type { Invocation } from './invocation.js';

/** The rest of the pipeline, for methods that return a Promise (or a plain value, which is lifted). */
export type PromiseStep = (invocation: Invocation) => Promise<unknown>;

/** The rest of the pipeline, for methods that return an Observable (and controller handlers). */
export type ObservableStep = (invocation: Invocation) => Observable<unknown>;

/**
 * One policy of the pipeline. `wrapPromise` and `wrapObservable` are called once, when the pipeline is built at
 * bootstrap; the steps they return run on every call, so they allocate as little as they can.
 */
export interface ResiliencePolicy {
  /** The policy's name, used in errors and events. */
  readonly name: string;
  /** Wraps the rest of a Promise pipeline. */
  wrapPromise(next: PromiseStep): PromiseStep;
  /** Wraps the rest of an Observable pipeline. */
  wrapObservable(next: ObservableStep): ObservableStep;
}
