/**
 * An in-process model of a downstream with a knee, and an open-loop load generator, shared by the adaptive-limit
 * test (under fake timers) and `npm run bench:overload` (in real time). Timers and `performance.now()` only.
 */

/**
 * A downstream whose latency is `baseLatency` up to `knee` calls in flight, then grows as (inflight / knee)^1.5, up
 * to `maxLatency` (where a real server would time the request out).
 */
export function kneeDownstream(knee: number, baseLatency: number, maxLatency = Infinity) {
  const state = { inflight: 0, peak: 0 };
  const call = () => {
    state.inflight++;
    state.peak = Math.max(state.peak, state.inflight);
    const latency = Math.min(maxLatency, baseLatency * Math.max(1, state.inflight / knee) ** 1.5);
    return new Promise<void>((resolve) =>
      setTimeout(() => {
        state.inflight--;
        resolve();
      }, latency),
    );
  };
  return { call, state };
}

/**
 * What an offered load got: answers within the deadline per second, their p99, late answers, calls that failed with a
 * timeout, and the other failures (rejections: a bulkhead, a limit, a shed request).
 */
export interface LoadResult {
  readonly goodput: number;
  readonly p99: number;
  readonly ok: number;
  readonly late: number;
  readonly timedOut: number;
  readonly rejected: number;
}

const isTimeout = (error: unknown) => (error as { code?: unknown } | null)?.code === 'TIMEOUT';

/**
 * Offers `rate` calls per second for `duration` ms (open loop: arrivals do not wait for answers), then waits for
 * the calls to end. Counts a call as good when it succeeded within `deadline` ms; measures from `warmup` ms on.
 */
export async function offerLoad(
  call: () => Promise<unknown>,
  options: { rate: number; duration: number; deadline: number; warmup: number; tick?: number },
): Promise<LoadResult> {
  const tick = options.tick ?? 5;
  const perTick = (options.rate * tick) / 1000;
  const latencies: number[] = [];
  let late = 0;
  let rejected = 0;
  let timedOut = 0;
  let ok = 0;
  const pending: Promise<void>[] = [];
  const started = performance.now();
  let owed = 0;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const elapsed = performance.now() - started;
      if (elapsed >= options.duration) {
        clearInterval(timer);
        resolve();
        return;
      }
      const measured = elapsed >= options.warmup;
      owed += perTick;
      for (; owed >= 1; owed--) {
        const begin = performance.now();
        pending.push(
          call().then(
            () => {
              if (!measured) return;
              const latency = performance.now() - begin;
              latencies.push(latency);
              if (latency <= options.deadline) ok++;
              else late++;
            },
            (error: unknown) => {
              if (!measured) return;
              if (isTimeout(error)) timedOut++;
              else rejected++;
            },
          ),
        );
      }
    }, tick);
  });
  await Promise.all(pending);
  latencies.sort((a, b) => a - b);
  // No success, no latency: NaN (printed '-'), not 0, which would read as the best p99 of the table.
  const p99 = latencies.length
    ? latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))]
    : Number.NaN;
  const seconds = (options.duration - options.warmup) / 1000;
  return { goodput: ok / seconds, p99, ok, late, timedOut, rejected };
}
