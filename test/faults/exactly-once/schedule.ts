import fc from 'fast-check';
import { ATTEMPT_TIMEOUT } from './replicas.js';
import type { HandlerStep } from './ledger.js';

/** What happens to one request of a client while faults last. */
export type RequestFault =
  | { readonly kind: 'none' }
  /** The client closes the connection after `after` ms (it gave up, or its network broke). */
  | { readonly kind: 'disconnect'; readonly after: number }
  /** The outer interceptor (RxJS `timeout()`) gives up after `after` ms: a 408, the handler unsubscribed. */
  | { readonly kind: 'outer-timeout'; readonly after: number };

/** One client of a key: it sends the key's request until it gets a 2xx, retrying whatever else it gets. */
export interface ClientPlan {
  /** Ms after the schedule's start when it sends its first request. */
  readonly start: number;
  /** The replica of its first request; each retry goes to the next one (a load balancer's round robin). */
  readonly replica: number;
  /** The faults of its first requests, in order; later requests have none. */
  readonly faults: readonly RequestFault[];
}

/** One idempotency key: its route, the handler's script for it, its concurrent clients. */
export interface KeyPlan {
  /** `reject`: a request finding the key in flight gets a 409; `wait`: it waits for the first answer. */
  readonly route: 'reject' | 'wait';
  readonly steps: readonly HandlerStep[];
  readonly clients: readonly ClientPlan[];
}

/** What happens to the Redis server: paused (SIGSTOP, then SIGCONT) or killed (SIGKILL, then started again). */
export interface StoreFault {
  readonly kind: 'pause' | 'kill';
  /** Ms after the previous fault ended (or the schedule's start) when it begins. */
  readonly gap: number;
  /** Ms it lasts. */
  readonly duration: number;
}

export interface Schedule {
  readonly keys: readonly KeyPlan[];
  /** In order, one at a time; none for the memory store. */
  readonly storeFaults: readonly StoreFault[];
}

/** How rich the generated schedules are: the store's faults, and the request faults allowed (see the suite). */
export interface ScheduleShape {
  readonly replicas: number;
  readonly storeFaults: boolean;
  readonly outerTimeouts: boolean;
  readonly disconnects: boolean;
}

/** A run of the handler: sometimes longer than its attempt's `@Timeout` (then `@Retry` runs another), or failing. */
const handlerStep: fc.Arbitrary<HandlerStep> = fc.record({
  latency: fc.integer({ min: 0, max: ATTEMPT_TIMEOUT + 30 }),
  fail: fc.boolean(),
});

function requestFault(shape: ScheduleShape): fc.Arbitrary<RequestFault> {
  const kinds: fc.Arbitrary<RequestFault>[] = [fc.constant({ kind: 'none' } as const)];
  if (shape.disconnects) {
    kinds.push(fc.record({ kind: fc.constant('disconnect' as const), after: fc.integer({ min: 1, max: 150 }) }));
  }
  if (shape.outerTimeouts) {
    kinds.push(fc.record({ kind: fc.constant('outer-timeout' as const), after: fc.integer({ min: 1, max: 150 }) }));
  }
  return fc.oneof(...kinds);
}

function keyPlan(shape: ScheduleShape): fc.Arbitrary<KeyPlan> {
  return fc.record({
    route: fc.constantFrom('reject' as const, 'wait' as const),
    steps: fc.array(handlerStep, { maxLength: 5 }),
    clients: fc.array(
      fc.record({
        start: fc.integer({ min: 0, max: 150 }),
        replica: fc.integer({ min: 0, max: shape.replicas - 1 }),
        faults: fc.array(requestFault(shape), { maxLength: 3 }),
      }),
      { minLength: 1, maxLength: 3 },
    ),
  });
}

const storeFault: fc.Arbitrary<StoreFault> = fc.oneof(
  fc.record({
    kind: fc.constant('pause' as const),
    gap: fc.integer({ min: 0, max: 250 }),
    duration: fc.integer({ min: 20, max: 400 }),
  }),
  fc.record({
    kind: fc.constant('kill' as const),
    gap: fc.integer({ min: 0, max: 250 }),
    duration: fc.integer({ min: 0, max: 200 }),
  }),
);

/** Schedules of the given shape: 1-4 keys, 1-3 clients each, 0-2 store faults. */
export function schedules(shape: ScheduleShape): fc.Arbitrary<Schedule> {
  return fc.record({
    keys: fc.array(keyPlan(shape), { minLength: 1, maxLength: 4 }),
    storeFaults: shape.storeFaults ? fc.array(storeFault, { maxLength: 2 }) : fc.constant([]),
  });
}
