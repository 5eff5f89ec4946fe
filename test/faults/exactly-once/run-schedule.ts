import { request as httpRequest } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RedisServer } from '../../support/redis-server.js';
import { ledger } from './ledger.js';
import { OUTER_TIMEOUT_HEADER, type Replica } from './replicas.js';
import type { ClientPlan, KeyPlan, RequestFault, Schedule, StoreFault } from './schedule.js';

/** The servers a schedule runs against, reused from one schedule to the next. */
export interface Cluster {
  readonly replicas: readonly Replica[];
  /** The Redis server the replicas share; `undefined` with the memory store. */
  readonly redis?: RedisServer;
}

/** What one request got: an HTTP status, or how it ended without one. */
export type Outcome = number | 'disconnected' | 'hung' | 'network-error';

/** One request as the client saw it. */
export interface RequestRecord {
  readonly key: string;
  readonly client: number;
  readonly attempt: number;
  readonly replica: string;
  readonly route: KeyPlan['route'];
  readonly fault: RequestFault;
  /** Ms since the schedule's start. */
  readonly sentAt: number;
  readonly endedAt: number;
  readonly outcome: Outcome;
  readonly body: unknown;
}

/** Whether a client got its answer, and by when it had to once faults stopped. */
export interface ClientRecord {
  readonly key: string;
  readonly client: number;
  answered: boolean;
  /** Ms since the schedule's start after which the client gave up waiting for an answer. */
  gaveUpAt: number | undefined;
}

export interface History {
  readonly keys: readonly string[];
  readonly plans: readonly KeyPlan[];
  readonly requests: RequestRecord[];
  readonly clients: ClientRecord[];
  /** Ms since the schedule's start when the last store fault ended. */
  storeFaultsEndedAt: number;
}

const NO_FAULT: RequestFault = { kind: 'none' };

/** A client waits this long between two requests. */
const CLIENT_RETRY_DELAY = 15;
/** A request still unanswered after this long hangs (the deadline invariant then fails, naming it). */
export const HARD_CAP = 5000;

/**
 * Runs one schedule: the store's faults and every client of every key at once, each client sending until it gets a
 * 2xx or, once faults stopped, `recovery` ms pass. Returns what every client saw.
 */
export async function runSchedule(
  cluster: Cluster,
  schedule: Schedule,
  keys: readonly string[],
  recovery: number,
): Promise<History> {
  const started = performance.now();
  const now = () => performance.now() - started;
  const history: History = {
    keys,
    plans: schedule.keys,
    requests: [],
    clients: [],
    storeFaultsEndedAt: Number.POSITIVE_INFINITY,
  };
  schedule.keys.forEach((plan, index) => ledger.script(keys[index], plan.steps));
  const faults = injectStoreFaults(cluster.redis, schedule.storeFaults).then(() => {
    history.storeFaultsEndedAt = now();
  });
  const clients = schedule.keys.flatMap((plan, index) =>
    plan.clients.map((client, clientIndex) =>
      runClient(cluster, history, now, { key: keys[index], route: plan.route, plan: client, clientIndex }, recovery),
    ),
  );
  await Promise.all([faults, ...clients]);
  return history;
}

/**
 * One request per route and replica before the first schedule, so that the first schedule's deadlines do not pay
 * for compiling the code paths (its requests took a second more).
 */
export async function warmUp(cluster: Cluster, key: string): Promise<void> {
  for (const replica of cluster.replicas) {
    for (const route of ['reject', 'wait'] as const) {
      const warmKey = `${key}-${replica.name}-${route}`;
      await send(`${replica.url}/charge/${route}/${warmKey}`, warmKey, NO_FAULT);
      ledger.forget([warmKey]);
    }
  }
}

async function injectStoreFaults(redis: RedisServer | undefined, faults: readonly StoreFault[]): Promise<void> {
  if (redis === undefined) return;
  for (const fault of faults) {
    await sleep(fault.gap);
    if (fault.kind === 'pause') {
      redis.pause();
      await sleep(fault.duration);
      redis.resume();
    } else {
      await redis.stop();
      await sleep(fault.duration);
      await redis.restart();
    }
  }
}

interface ClientSpec {
  readonly key: string;
  readonly route: KeyPlan['route'];
  readonly plan: ClientPlan;
  readonly clientIndex: number;
}

async function runClient(
  cluster: Cluster,
  history: History,
  now: () => number,
  { key, route, plan, clientIndex }: ClientSpec,
  recovery: number,
): Promise<void> {
  const record: ClientRecord = { key, client: clientIndex, answered: false, gaveUpAt: undefined };
  history.clients.push(record);
  await sleep(plan.start);
  let faultsEndedAt = 0;
  for (let attempt = 0; ; attempt++) {
    const faulty = attempt < plan.faults.length;
    if (!faulty && now() > Math.max(history.storeFaultsEndedAt, faultsEndedAt) + recovery) {
      record.gaveUpAt = now();
      return;
    }
    const fault = faulty ? plan.faults[attempt] : NO_FAULT;
    const replica = cluster.replicas[(plan.replica + attempt) % cluster.replicas.length];
    const sentAt = now();
    const { outcome, body } = await send(`${replica.url}/charge/${route}/${key}`, key, fault);
    const endedAt = now();
    if (faulty) faultsEndedAt = endedAt;
    history.requests.push({
      key,
      client: clientIndex,
      attempt,
      replica: replica.name,
      route,
      fault,
      sentAt,
      endedAt,
      outcome,
      body,
    });
    if (typeof outcome === 'number' && outcome >= 200 && outcome < 300) {
      record.answered = true;
      return;
    }
    await sleep(CLIENT_RETRY_DELAY);
  }
}

/**
 * One POST over its own connection (no keep-alive: a connection left idle in a client pool would keep the replica's
 * server from closing), given up after `fault.after` ms for a disconnect, or after `HARD_CAP` ms (hung).
 */
function send(url: string, key: string, fault: RequestFault): Promise<{ outcome: Outcome; body: unknown }> {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'idempotency-key': key };
  if (fault.kind === 'outer-timeout') headers[OUTER_TIMEOUT_HEADER] = String(fault.after);
  const payload = JSON.stringify({ amount: 42 });
  return new Promise((resolve) => {
    let ended: Outcome | undefined;
    const request = httpRequest(url, { method: 'POST', headers, agent: false }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => {
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // not JSON: kept as text
        }
        finish(response.statusCode ?? 0, body);
      });
      response.on('error', () => undefined);
    });
    const finish = (outcome: Outcome, body: unknown) => {
      if (ended !== undefined) return;
      ended = outcome;
      clearTimeout(hung);
      clearTimeout(leave);
      resolve({ outcome, body });
    };
    const giveUp = (outcome: Outcome) => {
      finish(outcome, undefined);
      request.destroy();
    };
    const hung = setTimeout(() => giveUp('hung'), HARD_CAP);
    const leave = fault.kind === 'disconnect' ? setTimeout(() => giveUp('disconnected'), fault.after) : undefined;
    request.on('error', (error) => finish('network-error', String(error)));
    request.end(payload);
  });
}
