import { SetMetadata } from '@nestjs/common';
import { ResilienceConfigError } from '../core/errors/resilience-config.error.js';
import type { RequestPriority } from '../core/load-shedding/load-shedding.options.js';
import { PRIORITY_METADATA, SKIP_LOAD_SHEDDING_METADATA } from './resilience.metadata.js';

const PRIORITIES: readonly RequestPriority[] = ['critical', 'normal', 'sheddable'];

/**
 * How much a handler's requests matter when the process sheds load (module option `loadShedding`), on a handler or
 * a class (a handler's own wins). `sheddable` requests go first (analytics, prefetches), `normal` next (the default),
 * `critical` ones (checkout, login) only far past the hard threshold.
 *
 * @example `@Priority('sheddable')` on a recommendations endpoint, `@Priority('critical')` on checkout.
 */
export function Priority(priority: RequestPriority): MethodDecorator & ClassDecorator {
  if (!PRIORITIES.includes(priority)) {
    // Thrown when the class is defined, before the application starts.
    throw new ResilienceConfigError(
      `@Priority(${JSON.stringify(priority)}) must be one of ${PRIORITIES.map((name) => `'${name}'`).join(', ')}`,
      'loadShedding',
    );
  }
  return SetMetadata(PRIORITY_METADATA, priority);
}

/**
 * Never sheds this handler's (or class's) requests, however overloaded the process: for health checks, readiness
 * probes and metrics scrapes, which must answer precisely when the process is in trouble. HTTP paths in
 * `loadShedding.exemptPaths` (default `/health`, `/metrics`) are exempt without it.
 */
export function SkipLoadShedding(): MethodDecorator & ClassDecorator {
  return SetMetadata(SKIP_LOAD_SHEDDING_METADATA, true);
}
