/** What one `@Idempotent` handler did in this process, as the registry reports it (`registry.idempotency`). */
export interface IdempotencySnapshot {
  /** The handler, `Class.method`. */
  readonly name: string;
  /** Keyed requests whose handler runs now in this process (it holds their keys' leases). */
  readonly inFlight: number;
  /** Keyed requests that took their key and ran the handler, since the application started. */
  readonly executed: number;
  /** Repeats answered from the store (`Idempotent-Replayed: true`) instead of running the handler, since start. */
  readonly replayed: number;
  /** Repeats refused with 409 because another request held the key (or still held it after the wait), since start. */
  readonly conflicts: number;
  /** Keys reused with a different request (422), since start. */
  readonly mismatches: number;
  /** Requests that met a failing store (refused with 503, or run without idempotency under `onStoreError: 'allow'`). */
  readonly storeErrors: number;
}

/**
 * The counters of one `@Idempotent` handler. Plain numbers bumped where a request's outcome is decided, so the hot
 * path allocates nothing; counted per process (with Redis, each replica counts what it answered).
 */
export class IdempotencyStats {
  /** @internal */ inFlight = 0;
  /** @internal */ executed = 0;
  /** @internal */ replayed = 0;
  /** @internal */ conflicts = 0;
  /** @internal */ mismatches = 0;
  /** @internal */ storeErrors = 0;

  constructor(readonly name: string) {}

  /** The counters now. */
  snapshot(): IdempotencySnapshot {
    const { name, inFlight, executed, replayed, conflicts, mismatches, storeErrors } = this;
    return { name, inFlight, executed, replayed, conflicts, mismatches, storeErrors };
  }
}
