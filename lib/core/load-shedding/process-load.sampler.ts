import { monitorEventLoopDelay, performance, type EventLoopUtilization, type IntervalHistogram } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import type { LoadSample, LoadSampler } from './load-sampler.interface.js';

/**
 * Samples this process: event-loop delay (`perf_hooks.monitorEventLoopDelay`, whose histogram Node fills on its own
 * timer), event-loop utilisation (`performance.eventLoopUtilization`) and heap use against the heap limit.
 */
export class ProcessLoadSampler implements LoadSampler {
  private readonly delay: IntervalHistogram;
  private utilization: EventLoopUtilization;

  constructor(
    /** Sampling resolution of the event-loop delay monitor, in milliseconds. */
    private readonly resolution = 10,
  ) {
    this.delay = monitorEventLoopDelay({ resolution });
    this.delay.enable();
    this.utilization = performance.eventLoopUtilization();
  }

  sample(): LoadSample {
    // The monitor's own resolution shows up as delay: subtract it, as @fastify/under-pressure does.
    const p99 = this.delay.count > 0 ? this.delay.percentile(99) / 1e6 : 0;
    const eventLoopDelay = Math.max(0, p99 - this.resolution);
    this.delay.reset();
    const now = performance.eventLoopUtilization();
    const eventLoopUtilization = performance.eventLoopUtilization(now, this.utilization).utilization;
    this.utilization = now;
    const heap = getHeapStatistics();
    return { eventLoopDelay, eventLoopUtilization, heapUsed: heap.used_heap_size / heap.heap_size_limit };
  }

  close(): void {
    this.delay.disable();
  }
}
