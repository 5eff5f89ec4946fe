/**
 * How long a compensation keeps trying to reach Redis. The compensations sent while Redis was silent wait on the
 * connection behind the write they undo, so they act as soon as Redis answers again; the retries only matter when
 * the connection was lost and the write may have reached Redis before it did.
 */
export const COMPENSATION_WINDOW_MS = 300_000;

/** The first pause between two tries, doubled after each failure up to {@link MAX_RETRY_DELAY_MS}. */
const FIRST_RETRY_DELAY_MS = 100;
const MAX_RETRY_DELAY_MS = 5000;

/**
 * Undoes writes whose answer never came back. A store command that timed out may still run later (Redis was paused,
 * or slow, and reads the command from its socket when it resumes): the caller was already told it failed, so the
 * write must not take effect. Each such write carries a per-call token, and its compensation (a script keyed by that
 * token) removes what the write did or, when it comes first, leaves a tombstone that makes the write refuse itself.
 * Compensations are idempotent, so one is sent again until Redis answers it, within {@link COMPENSATION_WINDOW_MS};
 * the retry timers do not keep the process alive and end when the store is released.
 *
 * Why not a deadline the server checks: the server cannot tell when the client sent a command (a duration measured
 * from the sending needs the client's clock, an instant needs both clocks to agree), so it cannot decide by itself
 * that a write came too late. A token the client cancels needs no clock at all.
 */
export class Compensations {
  /** The retries waiting for their timer, each with what it runs then. */
  private readonly waiting = new Map<NodeJS.Timeout, () => void>();
  /** Bumped by {@link close}: tries of an earlier generation stop. */
  private generation = 0;

  /** Sends `undo` now, and again after each failure until one is answered or the window has passed. */
  run(undo: () => Promise<unknown>): void {
    const giveUpAt = performance.now() + COMPENSATION_WINDOW_MS;
    const generation = this.generation;
    const attempt = (delay: number): void => {
      undo().then(
        () => undefined,
        () => {
          if (generation !== this.generation || performance.now() + delay >= giveUpAt) return;
          const next = () => {
            this.waiting.delete(timer);
            attempt(Math.min(MAX_RETRY_DELAY_MS, delay * 2));
          };
          const timer = setTimeout(next, delay);
          timer.unref();
          this.waiting.set(timer, next);
        },
      );
    };
    attempt(FIRST_RETRY_DELAY_MS);
  }

  /**
   * Sends every waiting compensation now instead of at its timer: called when the connection is ready again, so
   * that what they undo (a lease refusing a client's retries) ends as soon as Redis can hear it.
   */
  retryNow(): void {
    const due = [...this.waiting];
    this.waiting.clear();
    for (const [timer, next] of due) {
      clearTimeout(timer);
      next();
    }
  }

  /** Stops retrying (the store's connection is released); what was sent already still acts. */
  close(): void {
    this.generation++;
    for (const timer of this.waiting.keys()) clearTimeout(timer);
    this.waiting.clear();
  }
}

/**
 * A key in the same Redis Cluster slot as `key`, for a script that touches both: `key` followed by `suffix` when
 * `key` has a hash tag (the tag stays the first `{...}`), else `{key}` followed by `suffix` (a key without a tag is
 * hashed whole, so the whole key as the tag lands in the same slot).
 */
export function sameSlotKey(key: string, suffix: string): string {
  const open = key.indexOf('{');
  const hasTag = open >= 0 && key.indexOf('}', open + 1) > open + 1;
  return hasTag ? key + suffix : `{${key}}${suffix}`;
}
