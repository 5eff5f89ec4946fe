import type { Unsubscribable } from 'rxjs';
import type { Invocation } from '../pipeline/invocation.js';
import { observableStepOf, sinkStepOf, type Sink, type SinkStep } from '../pipeline/sink.js';
import type { ObservableStep, PromiseStep, ResiliencePolicy } from '../pipeline/policy.interface.js';
import type { BulkheadState } from './bulkhead.state.js';
import type { Compartment, Waiter } from './compartment.js';

/**
 * Limits concurrent calls: a slot is taken when the call starts and given back when it completes, fails or is
 * cancelled by its caller. Without a free slot the call waits in a bounded queue (leaving it at once if its caller
 * gives up, or rejected after `maxWait`), or is rejected at once when the queue is full.
 */
export class BulkheadPolicy implements ResiliencePolicy {
  readonly name: string;

  constructor(
    /** @internal */
    readonly bulkhead: BulkheadState,
  ) {
    this.name = bulkhead.name;
  }

  wrapPromise(next: PromiseStep): PromiseStep {
    const bulkhead = this.bulkhead;
    const { maxConcurrent, maxQueue, maxWait } = bulkhead.options;
    const release = (compartment: Compartment, key: string) => {
      compartment.release();
      bulkhead.dropIfIdle(key, compartment);
    };
    // Without a key function there is one compartment for good: its settle handlers are shared by every call.
    const single = bulkhead.singleCompartment();
    const onSingleValue = (value: unknown) => {
      single!.release();
      return value;
    };
    const onSingleError = (error: unknown) => {
      single!.release();
      throw error;
    };
    const run = (invocation: Invocation, compartment: Compartment, key: string): Promise<unknown> => {
      if (compartment === single) return next(invocation).then(onSingleValue, onSingleError);
      return next(invocation).then(
        (value) => {
          release(compartment, key);
          return value;
        },
        (error: unknown) => {
          release(compartment, key);
          throw error;
        },
      );
    };
    return (invocation) => {
      let key = '';
      let compartment = single;
      if (compartment === undefined) {
        try {
          key = bulkhead.keyOf(invocation);
        } catch (error) {
          // A throwing key function fails the call like any error, through the outer policies.
          return Promise.reject(error);
        }
        compartment = bulkhead.compartment(key);
      }
      if (compartment.active < maxConcurrent) {
        compartment.active++;
        return run(invocation, compartment, key);
      }
      if (compartment.queued >= maxQueue) return Promise.reject(bulkhead.reject('full', invocation));
      return new Promise<unknown>((resolve, reject) => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const leave = (reason: unknown) => {
          if (timer !== undefined) clearTimeout(timer);
          invocation.onAttemptAbort = undefined;
          compartment.remove(waiter);
          bulkhead.dropIfIdle(key, compartment);
          reject(reason);
        };
        const waiter: Waiter = {
          grant: () => {
            if (timer !== undefined) clearTimeout(timer);
            invocation.onAttemptAbort = undefined;
            run(invocation, compartment, key).then(resolve, reject);
          },
        };
        compartment.enqueue(waiter);
        // A timed-out or given-up attempt must not keep its place in the queue.
        invocation.onAttemptAbort = leave;
        if (maxWait !== undefined) timer = setTimeout(() => leave(bulkhead.reject('wait', invocation)), maxWait);
      });
    };
  }

  wrapObservable(next: ObservableStep): ObservableStep {
    return observableStepOf(this.wrapSink(sinkStepOf(next)));
  }

  /** @internal */
  wrapSink(next: SinkStep): SinkStep {
    const bulkhead = this.bulkhead;
    const { maxConcurrent, maxQueue, maxWait } = bulkhead.options;
    const single = bulkhead.singleCompartment();
    return (invocation, sink) => {
      let key = '';
      let compartment = single;
      if (compartment === undefined) {
        try {
          key = bulkhead.keyOf(invocation);
        } catch (error) {
          sink.error(error); // a throwing key function fails the call, holding nothing
          return undefined;
        }
        compartment = bulkhead.compartment(key);
      }
      if (compartment.active < maxConcurrent) {
        compartment.active++;
        return new BulkheadCall(bulkhead, compartment, key, next, invocation, sink).start();
      }
      if (compartment.queued >= maxQueue) {
        sink.error(bulkhead.reject('full', invocation));
        return undefined;
      }
      return new BulkheadCall(bulkhead, compartment, key, next, invocation, sink).wait(maxWait);
    };
  }
}

/**
 * One Observable call in a bulkhead: holds its slot from the start until the rest is torn down (finished, failed or
 * unsubscribed), or waits in the queue, as the queue's own node, until a slot is handed to it.
 */
class BulkheadCall implements Sink, Unsubscribable, Waiter {
  older?: Waiter = undefined;
  newer?: Waiter = undefined;
  private holdsSlot = false;
  private waiting = false;
  private ended = false;
  private timer: ReturnType<typeof setTimeout> | undefined = undefined;
  private inner: Unsubscribable | undefined = undefined;

  constructor(
    private readonly bulkhead: BulkheadState,
    private readonly compartment: Compartment,
    private readonly key: string,
    private readonly step: SinkStep,
    private readonly invocation: Invocation,
    private readonly downstream: Sink,
  ) {}

  /** Runs the call in the slot taken for it. */
  start(): Unsubscribable {
    this.holdsSlot = true;
    const inner = this.step(this.invocation, this);
    if (this.ended) inner?.unsubscribe();
    else this.inner = inner;
    return this;
  }

  /** Queues the call until a slot is handed over, for at most `maxWait` milliseconds. */
  wait(maxWait: number | undefined): Unsubscribable {
    this.waiting = true;
    this.compartment.enqueue(this);
    if (maxWait !== undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.ended = true;
        this.free();
        this.downstream.error(this.bulkhead.reject('wait', this.invocation));
      }, maxWait);
    }
    return this;
  }

  /** A slot was handed over (the queue already let go of this waiter). */
  grant(): void {
    this.waiting = false;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.start();
  }

  /** Tears the rest down, then gives the slot (or the place in the queue) back. */
  private finish(): void {
    const { inner } = this;
    this.inner = undefined;
    inner?.unsubscribe();
    this.free();
  }

  private free(): void {
    const { compartment } = this;
    if (this.holdsSlot) {
      this.holdsSlot = false;
      compartment.release();
    } else if (this.waiting) {
      this.waiting = false;
      if (this.timer !== undefined) clearTimeout(this.timer);
      this.timer = undefined;
      compartment.remove(this);
    } else {
      return;
    }
    this.bulkhead.dropIfIdle(this.key, compartment);
  }

  next(value: unknown): void {
    this.downstream.next(value);
  }

  // The slot is handed on before the caller hears: the next call never overlaps the end of this one.
  error(error: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.finish();
    this.downstream.error(error);
  }

  complete(): void {
    if (this.ended) return;
    this.ended = true;
    this.finish();
    this.downstream.complete();
  }

  unsubscribe(): void {
    if (this.ended) return;
    this.ended = true;
    this.finish();
  }
}
