/** How `ResilienceTesting.prepare` shapes the policies of a test's application. */
export interface ResilienceTestingOptions {
  /**
   * `'none'`: every retry waits its exact backoff (jitter `'none'` in `defaults.retry` and every named retry), so
   * timings under fake timers are exact. `'keep'`: as configured. Default `'none'`. An inline
   * `@Retry({ jitter: 'full' })` keeps its own jitter (inline options win over defaults).
   */
  jitter?: 'none' | 'keep';
  /** `'off'`: the policies start switched off (the kit's `enablePolicies()` turns them on). Default `'on'`. */
  policies?: 'on' | 'off';
}
