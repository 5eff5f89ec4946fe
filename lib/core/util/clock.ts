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

/** Node's own `Date.now`, unless a fake was installed before this module loaded (a fake is plain JavaScript). */
const nativeDateNow: (() => number) | undefined = /\[native code\]\s*\}$/.test(
  Function.prototype.toString.call(Date.now),
)
  ? Date.now
  : undefined;
/** Epoch ms at which node:perf_hooks' clock read 0: fixed for the process. */
const timeOrigin = nodePerformance.timeOrigin;

/** True while neither `Date` nor the timers are faked: the epoch can be read from node:perf_hooks' clock. */
function realClocks(): boolean {
  // Two plain global properties: optimized code compares them for nothing, unlike a clock read.
  return Date.now === nativeDateNow && setTimeout === nodeSetTimeout;
}

/**
 * Epoch milliseconds for a clock that only measures time between its own readings (the memory rate-limit store's
 * buckets): `performance.timeOrigin + performance.now()` read through node:perf_hooks, so that a caller which read
 * {@link monotonicNow} already can hand its reading on ({@link epochAt}) instead of reading a second clock; and it
 * never steps back when the system clock is set. `Date.now()` itself whenever `Date` or the timers are faked, so
 * users' fake timers (`vi.useFakeTimers()`, also `toFake: ['Date']` and `setSystemTime`) drive it.
 * @internal
 */
export function epochNow(): number {
  return realClocks() ? timeOrigin + nodePerformance.now() : Date.now();
}

/**
 * {@link epochNow} at `monotonic`, a {@link monotonicNow} reading taken in the same synchronous run: no clock read
 * while the clocks are real (then `monotonic` is node:perf_hooks' own reading).
 * @internal
 */
export function epochAt(monotonic: number): number {
  return realClocks() ? timeOrigin + monotonic : Date.now();
}
