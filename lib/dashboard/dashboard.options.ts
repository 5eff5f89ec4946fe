import type { CanActivate, Type } from '@nestjs/common';
import { OptionsValidator } from '../core/validation/options.validator.js';
import { withoutUndefined } from '../core/validation/without-undefined.js';

/** Options of `ResilienceDashboardModule.forRoot()`. */
export interface ResilienceDashboardOptions {
  /** Where the page is served (its live feed is `<path>/events`). Default `'resilience'`. */
  path?: string;
  /**
   * Guards protecting the page, its feed and its actions, as in `@UseGuards()`. A browser sends cookies, not
   * `Authorization` headers, on page load and over `EventSource`: use a session cookie or a signed link (see
   * `docs/observability.md`). Default: none.
   */
  guards?: readonly (Type<CanActivate> | CanActivate)[];
  /** Milliseconds between two updates of the page. Default `1000`. */
  intervalMs?: number;
  /**
   * Operator actions on the page: force-open, close or reset a breaker, pause or resume chaos. `POST`s through the
   * same guards, with a CSRF token and a same-origin check. Default `false` (no button, the routes answer 404).
   */
  actions?: boolean;
}

/** Defaults of the dashboard (frozen). */
export const DEFAULT_DASHBOARD_OPTIONS = Object.freeze({ path: 'resilience', intervalMs: 1000, actions: false });

/** Transitions kept per breaker for the page (enough to draw 5 minutes of a flapping breaker). */
export const TRANSITIONS_KEPT = 50;

/** The trends: one sample per second in the background, 5 minutes kept. */
export const SAMPLE_INTERVAL_MS = 1000;
/** Samples kept per series (5 minutes at one per second). */
export const SAMPLES_KEPT = 300;

/** The options with defaults applied; a bad one stops the bootstrap with a `ResilienceConfigError` naming it. */
export function validateDashboardOptions(options: ResilienceDashboardOptions): Required<ResilienceDashboardOptions> {
  const validator = new OptionsValidator('dashboard', 'ResilienceDashboardModule', 'ResilienceDashboardModule.forRoot');
  validator.knownOptions(options, ['path', 'guards', 'intervalMs', 'actions']);
  const merged = { ...DEFAULT_DASHBOARD_OPTIONS, guards: [], ...withoutUndefined(options) };
  if (typeof merged.path !== 'string') validator.fail('path', merged.path, 'must be a string such as "resilience"');
  if (!Array.isArray(merged.guards)) validator.fail('guards', merged.guards, 'must be an array of guards');
  return {
    path: merged.path,
    guards: merged.guards,
    intervalMs: validator.positiveDuration('intervalMs', merged.intervalMs),
    actions: validator.boolean('actions', merged.actions),
  };
}

/** How the page and its actions are served, fixed when the module is declared. */
export interface DashboardSettings {
  readonly intervalMs: number;
  readonly actions: boolean;
  /** Sent with the page, required in the `x-resilience-csrf` header of every action. */
  readonly csrfToken: string;
}
