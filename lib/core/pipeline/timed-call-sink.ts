import type { Unsubscribable } from 'rxjs';
import type { Invocation } from './invocation.js';
import type { Sink, SinkStep } from './sink.js';

/**
 * One Observable call timed from its start to its end, for the outermost reporters (call events, call metrics): a
 * success once it completes, or once its caller unsubscribes after a value (`firstValueFrom` took its answer); a
 * failure on error; nothing when its caller gives up before any value. Each end is reported once.
 * @internal
 */
export abstract class TimedCallSink implements Sink, Unsubscribable {
  /** When the call started (`performance.now()`, which users' fake timers drive). */
  protected readonly start = performance.now();
  private answered = false;
  private ended = false;
  private inner: Unsubscribable | undefined = undefined;

  constructor(
    protected readonly invocation: Invocation,
    private readonly downstream: Sink,
  ) {}

  /** The call answered (completed, or a value then an unsubscribe). */
  protected abstract succeeded(): void;

  /** The call failed with `error`. */
  protected abstract failed(error: unknown): void;

  /** Runs the call into this sink; what it returns stops the call. */
  begin(next: SinkStep): Unsubscribable {
    const inner = next(this.invocation, this);
    if (this.ended) inner?.unsubscribe();
    else this.inner = inner;
    return this;
  }

  next(value: unknown): void {
    this.answered = true;
    this.downstream.next(value);
  }

  error(error: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.inner = undefined;
    this.failed(error);
    this.downstream.error(error);
  }

  complete(): void {
    if (this.ended) return;
    this.ended = true;
    this.inner = undefined;
    this.succeeded();
    this.downstream.complete();
  }

  unsubscribe(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.answered) this.succeeded();
    const { inner } = this;
    this.inner = undefined;
    inner?.unsubscribe();
  }
}
