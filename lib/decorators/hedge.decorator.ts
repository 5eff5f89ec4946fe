import type { HedgeOptions } from '../core/hedge/hedge.options.js';
import { policyDecorator } from './policy-decorator.js';
import { HEDGE_METADATA } from './resilience.metadata.js';

/**
 * Cuts the slow tail: when an attempt has not answered after `delay` ms, starts another beside it (up to
 * `maxHedges`); the first success wins and the others are aborted through their own `getTimeoutSignal()` (Observables:
 * unsubscribed). When all fail, the first attempt's error. Only for idempotent work; on controller handlers POST,
 * PATCH and `@All()` routes are refused at bootstrap unless `hedgeNonIdempotent: true`. Hedges spend from the retry
 * budget of the method's `@Retry({ budget })`, when it names one.
 *
 * @example `@Hedge({ maxHedges: 1, delay: 100 })`, `@Hedge({ delay: { percentile: 95, fallback: 100 } })`.
 *          Defaults: maxHedges 1, delay 100.
 */
export function Hedge(options: Partial<HedgeOptions> = {}): MethodDecorator {
  return policyDecorator(HEDGE_METADATA, { options });
}
