/** The process's load, as sampled in the background. */
export interface LoadSample {
  /** 99th percentile of the event-loop delay since the previous sample, in milliseconds. */
  readonly eventLoopDelay: number;
  /** Share of the time since the previous sample that the event loop was busy, from 0 to 1. */
  readonly eventLoopUtilization: number;
  /** Heap in use as a share of the heap's size limit, from 0 to 1. */
  readonly heapUsed: number;
}

/** Measures the process's load; called on an interval, never per request. Replace it in tests to drive the load. */
export interface LoadSampler {
  /** The load since the previous call. */
  sample(): LoadSample;
  /** Releases what the sampler holds (the event-loop delay monitor). */
  close?(): void;
}
