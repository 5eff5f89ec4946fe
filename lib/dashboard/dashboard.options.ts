import type { CanActivate, Type } from '@nestjs/common';
import { OptionsValidator } from '../core/validation/options.validator.js';
import { withoutUndefined } from '../core/validation/without-undefined.js';

/** Options of `ResilienceDashboardModule.forRoot()`. */
export interface ResilienceDashboardOptions {
  /** Where the page is served (its live feed is `<path>/events`). Default `'resilience'`. */
  path?: string;
  /** Guards protecting the page and its feed, as in `@UseGuards()`: put it behind your admin guard. Default: none. */
  guards?: readonly (Type<CanActivate> | CanActivate)[];
  /** Milliseconds between two updates of the page. Default `1000`. */
  intervalMs?: number;
}

/** Defaults of the dashboard (frozen). */
export const DEFAULT_DASHBOARD_OPTIONS = Object.freeze({ path: 'resilience', intervalMs: 1000 });

/** Transitions kept per breaker for the page. */
export const TRANSITIONS_KEPT = 10;

/** The options with defaults applied; a bad one stops the bootstrap with a `ResilienceConfigError` naming it. */
export function validateDashboardOptions(options: ResilienceDashboardOptions): Required<ResilienceDashboardOptions> {
  const validator = new OptionsValidator('dashboard', 'ResilienceDashboardModule', 'ResilienceDashboardModule.forRoot');
  validator.knownOptions(options, ['path', 'guards', 'intervalMs']);
  const merged = { ...DEFAULT_DASHBOARD_OPTIONS, guards: [], ...withoutUndefined(options) };
  if (typeof merged.path !== 'string') validator.fail('path', merged.path, 'must be a string such as "resilience"');
  if (!Array.isArray(merged.guards)) validator.fail('guards', merged.guards, 'must be an array of guards');
  return {
    path: merged.path,
    guards: merged.guards,
    intervalMs: validator.positiveDuration('intervalMs', merged.intervalMs),
  };
}
