/**
 * The load-shedding rows of `npm run bench:overload`: a real Nest app in a child process (bench/overload-server.ts)
 * whose handler burns the CPU for BURN_MS per request. Its capacity is measured first, closed-loop (a few callers,
 * each sending its next request when the last is answered, on a fresh server without shedding), since Express and
 * Nest add their own work to the handler's. Then it is offered a fixed request rate (open loop: requests are sent on
 * schedule whether or not earlier ones were answered) of 1x, 2x and 4x that capacity, without and with
 * `loadShedding: true` (the defaults). A request is good when it gets a 200 within DEADLINE_MS of the moment it was
 * due to be sent; latency is measured from that moment too, so a client-side queue counts against the server (no
 * coordinated omission). p99 is given over every request (200s, 503s and those abandoned after GIVE_UP_MS alike) and
 * over the 200s alone. A fresh server per run.
 */
import { fork, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { once } from 'node:events';

const BURN_MS = 4;
const DEADLINE_MS = 500;
/** Requests still unanswered after this are abandoned (their socket closed) and counted as timed out. */
const GIVE_UP_MS = 2_000;

/** Closed-loop callers of the capacity run: enough to keep one event loop busy, too few to queue much. */
const CAPACITY_CALLERS = 8;

export interface SheddingRow {
  readonly label: string;
  readonly multiple: number;
  readonly goodput: number;
  /** Over every measured request, whatever its answer; an abandoned one counts with its time to give up. */
  readonly p99All: number;
  /** Over the 200s alone; NaN when there was none. */
  readonly p99: number;
  readonly timedOut: number;
  readonly shed: number;
  readonly offered: number;
}

async function startServer(shedding: boolean): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(new URL('./overload-server.js', import.meta.url), [String(BURN_MS), shedding ? 'on' : 'off'], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const [message] = (await once(child, 'message')) as [{ port: number }];
  return { child, port: message.port };
}

async function stopServer(child: ChildProcess): Promise<void> {
  const exited = once(child, 'exit');
  child.send('stop');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/**
 * Offers `rate` requests per second for `seconds`, the first `warmupSeconds` not counted (the shedder's drop
 * probability takes a few seconds to settle, as the rows without it get the same); waits for every answer or give-up.
 */
async function offer(port: number, rate: number, seconds: number, warmupSeconds: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 512 });
  const latencies: number[] = [];
  const all: number[] = [];
  let shed = 0;
  let timedOut = 0;
  let offered = 0;
  const pending: Promise<void>[] = [];
  const start = performance.now();
  const warmup = warmupSeconds * 1000;
  let sent = 0;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const now = performance.now();
      const elapsed = now - start;
      if (elapsed >= seconds * 1000) {
        clearInterval(timer);
        resolve();
        return;
      }
      // Every request due by now, each stamped with the moment it was due.
      const due = Math.floor((elapsed / 1000) * rate);
      for (; sent < due; sent++) {
        const dueAt = start + (sent * 1000) / rate;
        const measured = dueAt - start >= warmup;
        if (measured) offered++;
        pending.push(
          request(agent, port, dueAt).then((outcome) => {
            if (!measured) return;
            all.push(outcome.latency);
            if (outcome.status === 200) latencies.push(outcome.latency);
            else if (outcome.status === 503) shed++;
            else timedOut++;
          }),
        );
      }
    }, 2);
  });
  await Promise.all(pending);
  agent.destroy();
  const good = latencies.filter((latency) => latency <= DEADLINE_MS).length;
  return { goodput: good / (seconds - warmup / 1000), p99All: p99(all), p99: p99(latencies), timedOut, shed, offered };
}

/** No latency, no p99: NaN (printed '-'), not 0, which would read as the best p99 of the table. */
function p99(latencies: number[]): number {
  if (latencies.length === 0) return Number.NaN;
  latencies.sort((a, b) => a - b);
  return latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))];
}

/**
 * The server's capacity in requests per second: CAPACITY_CALLERS closed-loop callers on a fresh server without
 * shedding, 200s answered per second after `warmupSeconds`.
 */
export async function measureCapacity(seconds: number, warmupSeconds: number): Promise<number> {
  const { child, port } = await startServer(false);
  const agent = new http.Agent({ keepAlive: true, maxSockets: CAPACITY_CALLERS });
  try {
    const start = performance.now();
    const countFrom = start + warmupSeconds * 1000;
    const end = countFrom + seconds * 1000;
    let answered = 0;
    const caller = async () => {
      while (performance.now() < end) {
        const outcome = await request(agent, port, performance.now());
        const now = performance.now();
        if (outcome.status === 200 && now >= countFrom && now < end) answered++;
      }
    };
    await Promise.all(Array.from({ length: CAPACITY_CALLERS }, caller));
    return answered / seconds;
  } finally {
    agent.destroy();
    await stopServer(child);
  }
}

function request(agent: http.Agent, port: number, dueAt: number): Promise<{ status: number; latency: number }> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/work', agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, latency: performance.now() - dueAt }));
    });
    const giveUp = setTimeout(
      () => req.destroy(new Error('gave up')),
      Math.max(1, dueAt + GIVE_UP_MS - performance.now()),
    );
    req.on('error', () => resolve({ status: 0, latency: performance.now() - dueAt }));
    req.on('close', () => clearTimeout(giveUp));
  });
}

/** The rows: no protection and load shedding, under `multiples` (1x, 2x, 4x) of the measured `capacity`. */
export async function sheddingRows(
  capacity: number,
  seconds: number,
  warmupSeconds: number,
  multiples: readonly number[],
  onRow: (row: SheddingRow) => void,
): Promise<SheddingRow[]> {
  const rows: SheddingRow[] = [];
  for (const [label, shedding] of [
    ['no protection (real Nest app, CPU-bound handler)', false],
    ['load shedding, defaults (real Nest app, CPU-bound handler)', true],
  ] as const) {
    for (const multiple of multiples) {
      const { child, port } = await startServer(shedding);
      try {
        const result = await offer(port, capacity * multiple, seconds, warmupSeconds);
        const row = { label, multiple, ...result };
        rows.push(row);
        onRow(row);
      } finally {
        await stopServer(child);
      }
    }
  }
  return rows;
}

export const SHEDDING_SETUP = {
  burnMs: BURN_MS,
  deadlineMs: DEADLINE_MS,
  giveUpMs: GIVE_UP_MS,
  capacityCallers: CAPACITY_CALLERS,
};
