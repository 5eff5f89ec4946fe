import type { OptionsValidator } from '../validation/options.validator.js';

/** Default of the stores' `replayClaimTtl`: five minutes. */
export const DEFAULT_REPLAY_CLAIM_TTL_MS = 300_000;

/** A store's `replayClaimTtl`: a duration above zero, at most 2^31 - 1 ms (it may be kept by a timer). */
export function validateReplayClaimTtl(validator: OptionsValidator, value: unknown): number {
  return validator.positiveDuration('replayClaimTtl', value ?? DEFAULT_REPLAY_CLAIM_TTL_MS);
}
