import type { RetryBudgetOptions } from './retry-budget.options.js';

/** A retry budget's figures, as the registry reports them. */
export interface RetryBudgetSnapshot {
  readonly name: string;
  readonly ratio: number;
  readonly minPerSecond: number;
  readonly window: number;
  /** First attempts counted in the window. */
  readonly calls: number;
  /** Retries spent in the window. */
  readonly retries: number;
  /** Retries that may still start now. */
  readonly available: number;
  /** Retries refused because the budget was spent, since the application started. */
  readonly exhausted: number;
}

/** The window is counted in this many slots: memory stays fixed whatever the traffic. */
const SLOTS = 10;

/**
 * One named retry budget, shared by every `@Retry` naming it (Finagle's `RetryBudget`): each call deposits,
 * each retry withdraws, and a retry starts only while the retries of the window stay within
 * `minPerSecond x window + ratio x calls`. Counted in ten slots of a tenth of the window each, so the window slides
 * in steps and the memory is two small arrays, whatever the traffic.
 */
export class RetryBudgetState {
  private readonly calls = new Float64Array(SLOTS);
  private readonly retries = new Float64Array(SLOTS);
  private readonly slotWidth: number;
  private readonly floor: number;
  /** Index of the newest slot in `calls` / `retries`, and the slot number (time / slotWidth) it holds. */
  private current = 0;
  private currentSlot = -1;
  private exhaustedCount = 0;

  constructor(
    readonly name: string,
    readonly options: RetryBudgetOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.slotWidth = options.window / SLOTS;
    this.floor = (options.minPerSecond * options.window) / 1000;
  }

  /** Counts a first attempt: it earns `ratio` retries for the window. */
  recordCall(): void {
    this.advance();
    this.calls[this.current]++;
  }

  /** Spends one retry if the budget allows it; false (and counted as exhausted) when it is spent. */
  tryRetry(): boolean {
    this.advance();
    if (this.sum(this.retries) + 1 > this.allowed()) {
      this.exhaustedCount++;
      return false;
    }
    this.retries[this.current]++;
    return true;
  }

  snapshot(): RetryBudgetSnapshot {
    this.advance();
    const { ratio, minPerSecond, window } = this.options;
    const retries = this.sum(this.retries);
    return {
      name: this.name,
      ratio,
      minPerSecond,
      window,
      calls: this.sum(this.calls),
      retries,
      available: Math.max(0, Math.floor(this.allowed() - retries)),
      exhausted: this.exhaustedCount,
    };
  }

  private allowed(): number {
    return this.floor + this.options.ratio * this.sum(this.calls);
  }

  private sum(slots: Float64Array): number {
    let total = 0;
    for (let index = 0; index < SLOTS; index++) total += slots[index];
    return total;
  }

  /** Moves the newest slot to the current time, emptying the slots that fell out of the window. */
  private advance(): void {
    const slot = Math.floor(this.now() / this.slotWidth);
    if (slot === this.currentSlot) return;
    const steps = this.currentSlot < 0 ? SLOTS : Math.min(SLOTS, slot - this.currentSlot);
    // A clock that went backwards (a test resetting fake timers) keeps counting in the newest slot.
    if (steps > 0) {
      for (let step = 0; step < steps; step++) {
        this.current = (this.current + 1) % SLOTS;
        this.calls[this.current] = 0;
        this.retries[this.current] = 0;
      }
    }
    this.currentSlot = slot;
  }
}
