/** A caller waiting for a slot; `grant` runs the call once a slot is handed over. */
export interface Waiter {
  grant(): void;
  /** Set while the waiter is queued, so that cancelling it is O(1). */
  prev?: Waiter;
  next?: Waiter;
}

/**
 * The slots and the FIFO queue of one bulkhead partition. The queue is an intrusive doubly linked list, so a
 * cancelled waiter leaves it at once, wherever it stands.
 */
export class Compartment {
  active = 0;
  queued = 0;
  private head: Waiter | undefined;
  private tail: Waiter | undefined;

  enqueue(waiter: Waiter): void {
    waiter.prev = this.tail;
    waiter.next = undefined;
    if (this.tail) this.tail.next = waiter;
    else this.head = waiter;
    this.tail = waiter;
    this.queued++;
  }

  /** Removes a waiter that gave up (cancelled or waited too long). */
  remove(waiter: Waiter): void {
    if (waiter.prev) waiter.prev.next = waiter.next;
    else if (this.head === waiter) this.head = waiter.next;
    else return; // not queued (already granted or removed)
    if (waiter.next) waiter.next.prev = waiter.prev;
    else this.tail = waiter.prev;
    waiter.prev = waiter.next = undefined;
    this.queued--;
  }

  /** Frees a slot: hands it to the first waiter, if any. */
  release(): void {
    const waiter = this.head;
    if (waiter === undefined) {
      this.active--;
      return;
    }
    this.remove(waiter);
    // The slot passes straight to the waiter: `active` stays the same.
    waiter.grant();
  }

  get idle(): boolean {
    return this.active === 0 && this.queued === 0;
  }
}
