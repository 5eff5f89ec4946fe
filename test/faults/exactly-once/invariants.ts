import { isDeepStrictEqual } from 'node:util';
import { ledger, type ChargeAnswer } from './ledger.js';
import { COMMAND_TIMEOUT, HANDLER_BOUND, IN_FLIGHT_WAIT } from './replicas.js';
import type { History, RequestRecord } from './run-schedule.js';

/**
 * What a loaded machine may add to a request's deadline: the clients, both replicas and their timers share one
 * event loop (and two cores with the rest of CI; measured here with a load average of 20, requests took up to 1.4 s
 * more). A hung request (waiting on a lease, a lost answer or a stalled store) takes seconds more: `HARD_CAP`.
 */
const SLACK = 2000;

/** Answers a request may get while faults last, besides a 2xx. */
const EXPECTED_REFUSALS = new Set([
  409, // the key is in flight (at once, or after `onInFlight.wait`)
  503, // the store cannot answer (`onStoreError: 'deny'`), or every attempt failed (the scripted 503)
  504, // every attempt timed out
]);

/**
 * The longest the library may take to answer a request that nobody outside it gives up on. With Redis: acquire,
 * (a wait polling the store, whose last read may take a command timeout, then acquire again), the handler's
 * attempts, complete: each store call bounded by the `RedisStore`'s `commandTimeout`.
 */
export function deadlineOf(request: RequestRecord, redis: boolean): number {
  if (request.fault.kind === 'outer-timeout') return request.fault.after + SLACK;
  const store = redis ? COMMAND_TIMEOUT : 0;
  const wait = request.route === 'wait' ? IN_FLIGHT_WAIT + 25 + 2 * store : 0;
  return 2 * store + wait + HANDLER_BOUND + SLACK;
}

/**
 * The invariants, checked after every schedule; returns the violations found (none when all hold):
 * - at most once: each key's side effect (a committed charge) happened at most once;
 * - one answer: every 2xx for a key carries the same body, the one charge's;
 * - deadlines: no request waited past its deadline (`deadlineOf`), none hung, none got a status outside the
 *   documented ones (no 500);
 * - liveness: once faults stopped, every client got its 2xx (so with at most once: exactly once).
 */
export function violationsOf(history: History, redis: boolean): string[] {
  const violations: string[] = [];
  for (const key of history.keys) {
    const executions = ledger.executionsOf(key);
    if (executions.length > 1) {
      violations.push(
        `${key}: the side effect happened ${executions.length} times (${executions.map((e) => e.replica).join(', ')})`,
      );
    }
    const answers = history.requests.filter((request) => request.key === key && isSuccess(request.outcome));
    const first = answers[0]?.body as ChargeAnswer | undefined;
    for (const answer of answers) {
      if (!isDeepStrictEqual(answer.body, first)) {
        violations.push(`${key}: a 2xx answered ${JSON.stringify(answer.body)}, the first ${JSON.stringify(first)}`);
      }
    }
    if (first !== undefined && !executions.some((execution) => execution.id === first.execution)) {
      violations.push(`${key}: the 2xx answer ${JSON.stringify(first)} names no charge that happened`);
    }
  }
  for (const request of history.requests) {
    const { outcome } = request;
    const duration = request.endedAt - request.sentAt;
    if (outcome === 'hung') {
      violations.push(`${describe(request)}: no answer within ${duration.toFixed(0)} ms`);
      continue;
    }
    if (outcome === 'network-error') violations.push(`${describe(request)}: ${String(request.body)}`);
    if (typeof outcome === 'number' && !isSuccess(outcome)) {
      const expected = EXPECTED_REFUSALS.has(outcome) || (outcome === 408 && request.fault.kind === 'outer-timeout');
      if (!expected) violations.push(`${describe(request)}: unexpected ${JSON.stringify(request.body)}`);
    }
    if (request.fault.kind !== 'disconnect' && duration > deadlineOf(request, redis)) {
      violations.push(`${describe(request)}: took ${duration.toFixed(0)} ms, past ${deadlineOf(request, redis)} ms`);
    }
  }
  for (const client of history.clients) {
    if (!client.answered) {
      const gaveUp = client.gaveUpAt?.toFixed(0);
      violations.push(`${client.key} client ${client.client}: no 2xx once faults stopped (gave up at ${gaveUp} ms)`);
    }
  }
  return violations;
}

function isSuccess(outcome: RequestRecord['outcome']): boolean {
  return typeof outcome === 'number' && outcome >= 200 && outcome < 300;
}

function describe(request: RequestRecord): string {
  return `${request.key} client ${request.client} request ${request.attempt} (${request.replica}, ${request.outcome})`;
}

/** The history of `keys` as lines, for a failure's message: what each client sent and got, in order of sending. */
export function historyLines(history: History, keys: readonly string[]): string[] {
  return history.requests
    .filter((request) => keys.includes(request.key))
    .sort((a, b) => a.sentAt - b.sentAt)
    .map((request) => {
      const fault = request.fault.kind === 'none' ? '' : ` [${request.fault.kind} ${request.fault.after} ms]`;
      const body = isSuccess(request.outcome) ? ` ${(request.body as ChargeAnswer).execution}` : '';
      return (
        `${request.sentAt.toFixed(0).padStart(5)}-${request.endedAt.toFixed(0).padStart(5)} ms ${request.key} ` +
        `c${request.client}#${request.attempt} ${request.route} -> ${request.replica}${fault}: ` +
        `${request.outcome}${body}`
      );
    });
}
