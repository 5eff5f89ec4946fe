/**
 * The property set on an error that was not retried because its retry budget was spent, holding the budget's name:
 * loggers that print an error's own properties show `retryBudgetExhausted: 'default'` beside the message.
 */
export const RETRY_BUDGET_EXHAUSTED = 'retryBudgetExhausted';

/** Marks `error` (when it is an object that can take a property) as not retried because `budget` was spent. */
export function markRetryBudgetExhausted(error: unknown, budget: string): void {
  if (typeof error !== 'object' || error === null || !Object.isExtensible(error)) return;
  Object.defineProperty(error, RETRY_BUDGET_EXHAUSTED, {
    value: budget,
    enumerable: true,
    configurable: true,
    writable: true,
  });
}

/**
 * The name of the retry budget whose exhaustion stopped retrying `error`, or `undefined` when the error was not
 * stopped by a budget (or could not be marked: a thrown string).
 */
export function retryBudgetExhaustedOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const budget = (error as Record<string, unknown>)[RETRY_BUDGET_EXHAUSTED];
  return typeof budget === 'string' ? budget : undefined;
}
