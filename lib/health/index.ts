export { CircuitBreakerHealthIndicator } from './circuit-breaker.health.js';
export {
  defaultBreakerHealth,
  type BreakerHealthStatus,
  type CircuitBreakerHealthOptions,
} from './circuit-breaker-health.options.js';
