/**
 * What a fallback step returns when it has nothing to answer with (a last-known-good cache without a fresh entry):
 * the chain moves on to the next step, and the original error stands if no step answers.
 * @internal
 */
export const NO_ANSWER: unique symbol = Symbol('nest-resilience:no-answer');

/**
 * An answer remembered from an earlier successful call: the policy unwraps it, reports it as stale and tells the
 * transport (a `Cache-Status` header on HTTP).
 * @internal
 */
export class StaleAnswer {
  constructor(
    readonly value: unknown,
    /** Milliseconds since the primary produced it. */
    readonly ageMs: number,
  ) {}
}
