import { Observable } from 'rxjs';
import type {
  ResilienceEvent,
  ResilienceEventListener,
  ResilienceEventOf,
  ResilienceEventType,
} from './resilience-event.interface.js';

type AnyListener = (event: ResilienceEvent) => void;

/** Events that happen on every call: built only for listeners that name them (see {@link ResilienceEvents.on}). */
const PER_CALL: ReadonlySet<ResilienceEventType> = new Set(['call-success', 'call-failure', 'http-attempt']);

/**
 * The typed stream of what the policies did. Policies test {@link ResilienceEvents.observed} (or, for the events of
 * every call, {@link ResilienceEvents.callsObserved}) before building an event, so an application that never
 * subscribes pays nothing for it.
 */
export class ResilienceEvents {
  private listeners: readonly ResilienceEventListener[] = [];
  private named = new Map<ResilienceEventType, readonly AnyListener[]>();
  /** Listeners by name of events other than the per-call ones. */
  private namedIncidents = 0;

  /**
   * True while someone listens for `call-success` or `call-failure`: a plain field, read on every call.
   * @internal
   */
  callsObserved = false;

  /** True while at least one listener may receive an event other than `call-success` / `call-failure`. */
  get observed(): boolean {
    return this.listeners.length > 0 || this.namedIncidents > 0;
  }

  /**
   * Adds a listener of every event but `call-success`, `call-failure` and `http-attempt` (which happen on every call:
   * exporters and dashboards that subscribe to everything should not pay for one per call; name them with
   * {@link on}). Call the returned function to remove it.
   */
  subscribe(listener: ResilienceEventListener): () => void {
    // Copy-on-write: emit() iterates a snapshot, so listeners may unsubscribe while being called.
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((existing) => existing !== listener);
    };
  }

  /**
   * Adds a listener of the events of one type, typed for it: `events.on('retry-give-up', (event) => ...)`. The only
   * way to receive `call-success` and `call-failure`. Call the returned function to remove it.
   */
  on<T extends ResilienceEventType>(type: T, listener: (event: ResilienceEventOf<T>) => void): () => void {
    const added = listener as AnyListener;
    this.named.set(type, [...(this.named.get(type) ?? []), added]);
    this.countNamed(type, 1);
    let removed = false;
    return () => {
      if (removed) return;
      removed = true;
      const remaining = (this.named.get(type) ?? []).filter((existing) => existing !== added);
      if (remaining.length === 0) this.named.delete(type);
      else this.named.set(type, remaining);
      this.countNamed(type, -1);
    };
  }

  private countNamed(type: ResilienceEventType, delta: 1 | -1): void {
    if (PER_CALL.has(type)) this.callsObserved = this.named.has('call-success') || this.named.has('call-failure');
    else this.namedIncidents += delta;
  }

  /** The events {@link subscribe} delivers, as an RxJS Observable (subscribing adds a listener, unsubscribing removes
   * it). */
  asObservable(): Observable<ResilienceEvent> {
    return new Observable<ResilienceEvent>((subscriber) => this.subscribe((event) => subscriber.next(event)));
  }

  /**
   * True while a listener named `type` (`events.on(type, ...)`): lets a per-call event (`http-attempt`) be built only
   * when someone asked for it.
   */
  listening(type: ResilienceEventType): boolean {
    return this.named.has(type);
  }

  /** Delivers `event` to every listener; a throwing listener cannot break the call that emitted the event. */
  emit(event: ResilienceEvent): void {
    if (!PER_CALL.has(event.type)) deliver(this.listeners, event);
    const named = this.named.get(event.type);
    if (named !== undefined) deliver(named, event);
  }
}

function deliver(listeners: readonly AnyListener[], event: ResilienceEvent): void {
  for (const listener of listeners) {
    try {
      listener(event);
    } catch (error) {
      console.error('nest-resilience: an event listener threw', error);
    }
  }
}
