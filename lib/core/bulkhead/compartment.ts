import { IntrusiveList, type ListNode } from '../util/intrusive-list.js';

/** A caller waiting for a slot; `grant` runs the call once a slot is handed over. */
export interface Waiter extends ListNode<Waiter> {
  grant(): void;
}

/**
 * The slots and the FIFO queue of one bulkhead partition. The queue is an intrusive doubly linked list, so a
 * cancelled waiter leaves it at once, wherever it stands.
 */
export class Compartment {
  active = 0;
  private readonly queue = new IntrusiveList<Waiter>();

  /** Callers waiting for a slot. */
  get queued(): number {
    return this.queue.size;
  }

  enqueue(waiter: Waiter): void {
    this.queue.append(waiter);
  }

  /** Removes a waiter that gave up (cancelled or waited too long); no effect once it was granted or removed. */
  remove(waiter: Waiter): void {
    this.queue.remove(waiter);
  }

  /** Frees a slot: hands it to the first waiter, if any. */
  release(): void {
    const waiter = this.queue.first;
    if (waiter === undefined) {
      this.active--;
      return;
    }
    this.queue.remove(waiter);
    // The slot passes straight to the waiter: `active` stays the same.
    waiter.grant();
  }

  get idle(): boolean {
    return this.active === 0 && this.queue.size === 0;
  }
}
