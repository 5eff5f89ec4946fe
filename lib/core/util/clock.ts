import { performance as nodePerformance } from 'node:perf_hooks';
import { setTimeout as nodeSetTimeout } from 'node:timers';

/**
 * `performance.now()`, as cheaply as a hot path can read it. Test runners' fake timers (Vitest's and Jest's, from
 * `@sinonjs/fake-timers`) replace the global `performance` along with the global `setTimeout`, and users test
 * timeouts with them: while the global `setTimeout` is not Node's own, the global `performance` is read. Otherwise
 * node:perf_hooks' own object is: the global `performance` is an accessor whose getter costs as much as the clock
 * itself (callgrind, Node 20, optimized code: about 390 instructions per `performance.now()` through the global, 190
 * through node:perf_hooks). `setTimeout` is a plain global property, which optimized code compares for nothing, and
 * node:timers' export is Node's own even where fake timers were installed before this module loaded.
 * @internal
 */
export function monotonicNow(): number {
  return setTimeout === nodeSetTimeout ? nodePerformance.now() : performance.now();
}

/** What {@link monotonicClock} returns: `performance`'s clock. @internal */
export interface MonotonicClock {
  now(): number;
}

/**
 * The object {@link monotonicNow} reads now, for a caller that reads the clock at both ends of one call and must
 * read the same clock twice (fake timers installed between its two reads would otherwise mix the two clocks).
 * @internal
 */
export function monotonicClock(): MonotonicClock {
  return setTimeout === nodeSetTimeout ? nodePerformance : performance;
}
