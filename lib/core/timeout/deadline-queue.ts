import { IntrusiveList, type ListNode } from '../util/intrusive-list.js';

/** A pending deadline in a {@link DeadlineQueue}; hand it back to `clear`. */
export class Deadline implements ListNode<Deadline> {
  older?: Deadline;
  newer?: Deadline;

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
  private readonly pending = new IntrusiveList<Deadline>();
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly duration: number) {}

  /** Calls `expire` once `duration` milliseconds have passed, unless the deadline is cleared first. */
  add(expire: () => void): Deadline {
    const deadline = new Deadline(performance.now() + this.duration, expire);
    const wasEmpty = this.pending.size === 0;
    this.pending.append(deadline);
    // An armed timer fires no later than this deadline (it was set for an older one), and re-arms for the rest.
    if (this.timer === undefined) this.timer = setTimeout(this.fire, this.duration);
    else if (wasEmpty) this.timer.ref();
    return deadline;
  }

  /** Removes a pending deadline; no effect once it has expired or been cleared. */
  clear(deadline: Deadline): void {
    if (this.pending.remove(deadline) && this.pending.size === 0) this.timer?.unref();
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    const now = performance.now();
    let oldest = this.pending.first;
    while (oldest !== undefined && oldest.at <= now) {
      this.pending.remove(oldest);
      oldest.expire();
      oldest = this.pending.first;
    }
    if (oldest !== undefined) this.timer = setTimeout(this.fire, Math.max(1, Math.ceil(oldest.at - now)));
  };
}
