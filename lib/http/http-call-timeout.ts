/** The reason a call's own `timeout` aborts it with. */
export class CallTimeoutExpired extends Error {
  constructor(readonly duration: number) {
    super(`The call's timeout of ${duration} ms expired`);
    this.name = 'TimeoutError';
  }
}

/** A call's own `timeout` option (`client.get(path, { timeout })`): a signal aborted at its deadline. */
export class CallTimeout {
  private readonly controller = new AbortController();
  private readonly timer: ReturnType<typeof setTimeout>;

  /** Throws a `TypeError` naming the client when `duration` is not a number of milliseconds a timer can wait. */
  constructor(client: string, duration: unknown) {
    if (typeof duration !== 'number' || !Number.isFinite(duration) || duration <= 0 || duration > 2_147_483_647) {
      throw new TypeError(
        `HTTP client "${client}": timeout must be a number of milliseconds > 0, got ${String(duration)}`,
      );
    }
    const { controller } = this;
    this.timer = setTimeout(() => controller.abort(new CallTimeoutExpired(duration)), duration);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The call ended: its deadline is no longer needed. */
  clear(): void {
    clearTimeout(this.timer);
  }
}
