import { Observable } from 'rxjs';
import type { ResilienceEvent, ResilienceEventListener } from './resilience-event.interface.js';

/**
 * The typed stream of what the policies did. Policies test {@link ResilienceEvents.observed} before building an
 * event, so an application that never subscribes pays nothing for it.
 */
export class ResilienceEvents {
  private listeners: readonly ResilienceEventListener[] = [];

  /** True while at least one listener is subscribed. */
  get observed(): boolean {
    return this.listeners.length > 0;
  }

  /** Adds a listener; call the returned function to remove it. */
  subscribe(listener: ResilienceEventListener): () => void {
    // Copy-on-write: emit() iterates a snapshot, so listeners may unsubscribe while being called.
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((existing) => existing !== listener);
    };
  }

  /** The same events as an RxJS Observable (subscribing adds a listener, unsubscribing removes it). */
  asObservable(): Observable<ResilienceEvent> {
    return new Observable<ResilienceEvent>((subscriber) => this.subscribe((event) => subscriber.next(event)));
  }

  /** Delivers `event` to every listener; a throwing listener cannot break the call that emitted the event. */
  emit(event: ResilienceEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        console.error('nest-resilience: an event listener threw', error);
      }
    }
  }
}
