import { monotonicNow } from '../util/clock.js';
import { IntrusiveList, type ListNode } from '../util/intrusive-list.js';

/** What a {@link DeadlineQueue} holds: anything that can expire, so a caller can be its own node. */
export interface DeadlineNode extends ListNode<DeadlineNode> {
  /** `performance.now()` at which it expires (read through `monotonicNow`); set by the queue. */
  at: number;
  /** Called once the deadline has passed (the node is already out of the queue). */
  expire(): void;
}

/** A pending deadline in a {@link DeadlineQueue}; hand it back to `clear`. */
export class Deadline implements DeadlineNode {
  older?: DeadlineNode;
  newer?: DeadlineNode;
  at = 0;

  constructor(readonly expire: () => void) {}
}

/**
 * The deadlines of one timeout duration, sharing one Node timer. Calls start in order and all wait the same duration,
 * so their deadlines are in order too: a linked list (append, O(1) removal) and a single timer set for the oldest
 * replace a `setTimeout`/`clearTimeout` pair per call, the biggest cost of a timeout on the hot path.
 * The timer keeps the process alive only while a deadline is pending: it is unref'd once the list is still empty at
 * the next tick, not at once, since calls made one after the other empty the list every time (two binding calls per
 * call for nothing); the loop only asks whether anything holds it after the ticks have run.
 */
export class DeadlineQueue {
  private readonly pending = new IntrusiveList<DeadlineNode>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** A tick will unref the timer if the list is still empty then. */
  private unrefQueued = false;

  constructor(
    /** Milliseconds every deadline of this queue waits. */
    readonly duration: number,
  ) {}

  /** Calls `expire` once `duration` milliseconds have passed, unless the deadline is cleared first. */
  add(expire: () => void): Deadline {
    const deadline = new Deadline(expire);
    this.schedule(deadline);
    return deadline;
  }

  /**
   * Calls `node.expire()` once `duration` milliseconds have passed, unless `node` is cleared first. `now`: a
   * `monotonicNow()` reading the caller took in this synchronous run, saving a clock read.
   */
  schedule(node: DeadlineNode, now = monotonicNow()): void {
    // The global clock whenever fake timers are installed (users test timeouts with them): see monotonicNow.
    node.at = now + this.duration;
    const wasEmpty = this.pending.size === 0;
    this.pending.append(node);
    // An armed timer fires no later than this deadline (it was set for an older one), and re-arms for the rest.
    if (this.timer === undefined) this.timer = setTimeout(this.fire, this.duration);
    else if (wasEmpty) this.timer.ref();
  }

  /** Removes a pending deadline; no effect once it has expired or been cleared. */
  clear(deadline: DeadlineNode): void {
    if (this.pending.remove(deadline) && this.pending.size === 0 && !this.unrefQueued && this.timer !== undefined) {
      this.unrefQueued = true;
      process.nextTick(this.unrefIfIdle);
    }
  }

  private readonly unrefIfIdle = (): void => {
    this.unrefQueued = false;
    if (this.pending.size === 0) this.timer?.unref();
  };

  private readonly fire = (): void => {
    this.timer = undefined;
    const now = monotonicNow();
    let oldest = this.pending.first;
    while (oldest !== undefined && oldest.at <= now) {
      this.pending.remove(oldest);
      oldest.expire();
      oldest = this.pending.first;
    }
    // An expired node's callback may have scheduled a node (a hedge, a retry at once) and armed a timer already.
    if (oldest !== undefined && this.timer === undefined) {
      this.timer = setTimeout(this.fire, Math.max(1, Math.ceil(oldest.at - now)));
    }
  };
}
