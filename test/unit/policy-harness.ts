import type { Observable } from 'rxjs';
import { ResilienceEvents, type ResilienceEvent } from '../../lib/index.js';
import type { ResiliencePolicy } from '../../lib/core/pipeline/policy.interface.js';
import { createResilientMethod } from '../../lib/core/pipeline/resilient-method.js';

/** Test helper: a method wrapped in `policies`, plus the events they emitted. */
export function resilient<TArgs extends unknown[], TResult>(
  method: (...args: TArgs) => TResult,
  policies: (events: ResilienceEvents) => ResiliencePolicy[],
  shape: 'promise' | 'observable' = 'promise',
): {
  call: (...args: TArgs) => TResult extends Observable<infer V> ? Observable<V> : Promise<Awaited<TResult>>;
  events: ResilienceEvent[];
} {
  const bus = new ResilienceEvents();
  const events: ResilienceEvent[] = [];
  bus.subscribe((event) => events.push(event));
  const wrapped = createResilientMethod(
    method,
    { className: 'Test', methodName: method.name || 'method' },
    policies(bus),
    shape,
  );
  return { call: wrapped as never, events };
}
