export { ResilienceError, isResilienceError, type ResilienceErrorCode } from './resilience.error.js';
export { TimeoutError, isTimeoutError } from './timeout.error.js';
export { BrokenCircuitError, isBrokenCircuitError } from './broken-circuit.error.js';
export { BulkheadRejectedError, isBulkheadRejectedError } from './bulkhead-rejected.error.js';
export { RateLimitExceededError, isRateLimitExceededError } from './rate-limit-exceeded.error.js';
export { ResilienceConfigError } from './resilience-config.error.js';
export { UnknownPolicyError, isUnknownPolicyError } from './unknown-policy.error.js';
export {
  IdempotencyBodyUnreadError,
  IdempotencyKeyError,
  IdempotencyKeyInFlightError,
  IdempotencyKeyInvalidError,
  IdempotencyKeyMismatchError,
  IdempotencyKeyMissingError,
  IdempotencyStoreUnavailableError,
  isIdempotencyKeyError,
} from './idempotency-key.error.js';
export { ChaosFaultError, isChaosFaultError } from './chaos-fault.error.js';
export { LoadShedError, isLoadShedError, type LoadShedReason } from './load-shed.error.js';
export { CallAbortedError, isCallAbortedError } from './call-aborted.error.js';
export { InvalidKeyError, isInvalidKeyError, type InvalidKeySource } from './invalid-key.error.js';
