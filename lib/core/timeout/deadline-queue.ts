/** A pending deadline in a {@link DeadlineQueue}; hand it back to `clear`. */
export class Deadline {
  /** In the queue's recency list while pending. */
  older: Deadline | undefined = undefined;
  newer: Deadline | undefined = undefined;
  pending = true;

  constructor(
    /** `performance.now()` at which it expires. */
    readonly at: number,
    readonly expire: () => void,
  ) {}
}

/**
 * The deadlines of one timeout duration, sharing one Node timer. Calls start in order and all wait the same duration,
 * so their deadlines are in order too: a linked list (append, O(1) removal) and a single timer set for the oldest
 * replace a `setTimeout`/`clearTimeout` pair per call, the biggest cost of a timeout on the hot path.
 * The timer keeps the process alive only while a deadline is pending (it is unref'd when the list empties).
 */
export class DeadlineQueue {
  private oldest: Deadline | undefined;
  private newest: Deadline | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly duration: number) {}

  /** Calls `expire` once `duration` milliseconds have passed, unless the deadline is cleared first. */
  add(expire: () => void): Deadline {
    const deadline = new Deadline(performance.now() + this.duration, expire);
    const wasEmpty = this.newest === undefined;
    deadline.older = this.newest;
    if (this.newest) this.newest.newer = deadline;
    else this.oldest = deadline;
    this.newest = deadline;
    // An armed timer fires no later than this deadline (it was set for an older one), and re-arms for the rest.
    if (this.timer === undefined) this.timer = setTimeout(this.fire, this.duration);
    else if (wasEmpty) this.timer.ref();
    return deadline;
  }

  /** Removes a pending deadline; no effect once it has expired or been cleared. */
  clear(deadline: Deadline): void {
    if (!deadline.pending) return;
    this.unlink(deadline);
    if (this.oldest === undefined) this.timer?.unref();
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    const now = performance.now();
    while (this.oldest !== undefined && this.oldest.at <= now) {
      const expired = this.oldest;
      this.unlink(expired);
      expired.expire();
    }
    if (this.oldest !== undefined) this.timer = setTimeout(this.fire, Math.max(1, Math.ceil(this.oldest.at - now)));
  };

  private unlink(deadline: Deadline): void {
    deadline.pending = false;
    if (deadline.older) deadline.older.newer = deadline.newer;
    else this.oldest = deadline.newer;
    if (deadline.newer) deadline.newer.older = deadline.older;
    else this.newest = deadline.older;
    deadline.older = deadline.newer = undefined;
  }
}
