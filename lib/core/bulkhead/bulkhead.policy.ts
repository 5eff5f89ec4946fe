import { Observable, type Subscription } from 'rxjs';
import type { Invocation } from '../pipeline/invocation.js';
import type { ObservableStep, PromiseStep, ResiliencePolicy } from '../pipeline/policy.interface.js';
import type { Bulkhead } from './bulkhead.js';
import type { Compartment, Waiter } from './compartment.js';

/**
 * Limits concurrent calls: a slot is taken when the call starts and given back when it completes, fails or is
 * cancelled by its caller. Without a free slot the call waits in a bounded queue (leaving it at once if its caller
 * gives up, or rejected after `maxWait`), or is rejected at once when the queue is full.
 */
export class BulkheadPolicy implements ResiliencePolicy {
  readonly name: string;

  constructor(private readonly bulkhead: Bulkhead) {
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
    const bulkhead = this.bulkhead;
    const { maxConcurrent, maxQueue, maxWait } = bulkhead.options;
    return (invocation) =>
      new Observable<unknown>((subscriber) => {
        const key = bulkhead.keyOf(invocation);
        const compartment = bulkhead.compartment(key);
        let running: Subscription | undefined;
        let holdsSlot = false;
        let waiter: Waiter | undefined;
        let timer: ReturnType<typeof setTimeout> | undefined;
        const free = () => {
          if (!holdsSlot) return;
          holdsSlot = false;
          compartment.release();
          bulkhead.dropIfIdle(key, compartment);
        };
        // The source is torn down before its slot is handed on, so the next call never overlaps the end of this one.
        const finishRunning = () => {
          running?.unsubscribe();
          free();
        };
        const start = () => {
          holdsSlot = true;
          running = next(invocation).subscribe({
            next: (value) => subscriber.next(value),
            error: (error: unknown) => {
              finishRunning();
              subscriber.error(error);
            },
            complete: () => {
              finishRunning();
              subscriber.complete();
            },
          });
        };
        const stopWaiting = () => {
          if (timer !== undefined) clearTimeout(timer);
          if (waiter !== undefined) compartment.remove(waiter);
          waiter = undefined;
          bulkhead.dropIfIdle(key, compartment);
        };

        if (compartment.active < maxConcurrent) {
          compartment.active++;
          start();
        } else if (compartment.queued >= maxQueue) {
          subscriber.error(bulkhead.reject('full', invocation));
        } else {
          waiter = {
            grant: () => {
              if (timer !== undefined) clearTimeout(timer);
              waiter = undefined;
              start();
            },
          };
          compartment.enqueue(waiter);
          if (maxWait !== undefined) {
            timer = setTimeout(() => {
              stopWaiting();
              subscriber.error(bulkhead.reject('wait', invocation));
            }, maxWait);
          }
        }
        return () => {
          if (waiter !== undefined) stopWaiting();
          finishRunning();
        };
      });
  }
}
