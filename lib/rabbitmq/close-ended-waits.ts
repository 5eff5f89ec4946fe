/** Backoff waits that closing ends early: each `wait(ms)` resolves after `ms`, or at once on `wakeAll()`. */
export class CloseEndedWaits {
  private readonly pending = new Set<() => void>();

  wait(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.pending.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.pending.add(wake);
    });
  }

  /** Ends every wait now (their timers cleared). */
  wakeAll(): void {
    for (const wake of this.pending) wake();
  }
}
