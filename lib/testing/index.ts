export { ResilienceTesting } from './resilience-testing.js';
export { ResilienceTestKit, type CallTrace } from './resilience-test-kit.js';
export type { ResilienceTestingOptions } from './testing.options.js';
