import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { connect } from 'amqplib';
import { freePort } from './redis-server.js';

/** Debian's launcher: runs the broker in the foreground, without the system service's user or directories. */
const LAUNCHER = '/usr/lib/rabbitmq/bin/rabbitmq-server';
/** Debian's CLI tool itself (not /usr/sbin's wrapper, which runs as the rabbitmq user with its own HOME and cookie). */
const CTL = '/usr/lib/rabbitmq/bin/rabbitmqctl';

/** Every broker and epmd this process started, killed on exit should a test file end without its `afterAll`. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) killGroup(child, 'SIGKILL');
});

/**
 * Runs `command` under a shell that stops it (SIGTERM, then waits) when this test process is gone, however it ended:
 * a worker killed after a hook timeout runs no `exit` handler, and a broker left behind would outlive the tests.
 */
function spawnWatched(command: string, args: readonly string[], options: Parameters<typeof spawn>[2]): ChildProcess {
  const script =
    '"$@" & child=$!; trap \'kill -TERM $child 2>/dev/null; wait $child; exit 0\' TERM; ' +
    `while kill -0 ${process.pid} 2>/dev/null && kill -0 $child 2>/dev/null; do sleep 1; done; ` +
    'kill -TERM $child 2>/dev/null; wait $child';
  return spawn('sh', ['-c', script, 'watched', command, ...args], { ...options, detached: true });
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal); // the broker's whole process group: the shell script and beam
  } catch {
    // already gone
  }
}

/**
 * A private `rabbitmq-server` (Debian's package) for one test file: its own node name, data and log directories in
 * a temp dir, its own epmd, AMQP and distribution ports free on loopback. It can be stopped and started again on the
 * same port with the same data (durable queues and persistent messages survive), like a broker restart.
 */
export class RabbitMqServer {
  private broker: ChildProcess | undefined;
  private epmd: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    private readonly distPort: number,
    private readonly epmdPort: number,
    private readonly dir: string,
    private readonly nodeName: string,
  ) {}

  get url(): string {
    return `amqp://guest:guest@127.0.0.1:${this.port}`;
  }

  /**
   * Starts a broker on free ports. A port found free can be taken by another process before the broker binds it (the
   * machine runs other tests): the broker then refuses to boot, and it is started again on other ports.
   */
  static async start(): Promise<RabbitMqServer> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await RabbitMqServer.startOnce();
      } catch (error) {
        if (attempt === 3 || !/already_used|eaddrinuse|could not bind/i.test(String(error))) throw error;
      }
    }
  }

  private static async startOnce(): Promise<RabbitMqServer> {
    const dir = mkdtempSync(join(tmpdir(), 'nest-resilience-rabbitmq-'));
    // No plugins (management would open more ports); no disk or memory alarm on a crowded test machine.
    writeFileSync(join(dir, 'enabled_plugins'), '[].\n');
    writeFileSync(
      join(dir, 'rabbitmq.conf'),
      ['disk_free_limit.absolute = 1MB', 'vm_memory_high_watermark.absolute = 2GB', ''].join('\n'),
    );
    const name = `nr${process.pid}x${Math.floor(Math.random() * 1e6)}@localhost`;
    const server = new RabbitMqServer(await freePort(), await freePort(), await freePort(), dir, name);
    try {
      await server.restart();
    } catch (error) {
      await server.dispose();
      throw error;
    }
    return server;
  }

  /** Starts the broker (again) and waits until it accepts AMQP connections. */
  async restart(): Promise<void> {
    if (this.epmd === undefined) {
      // Our own epmd in the foreground on its own port: the broker does not start a daemon that outlives the tests.
      const epmd = spawnWatched('epmd', ['-port', String(this.epmdPort)], { stdio: 'ignore' });
      running.add(epmd);
      this.epmd = epmd;
    }
    const env = {
      ...process.env,
      HOME: this.dir,
      ERL_EPMD_PORT: String(this.epmdPort),
      RABBITMQ_NODENAME: this.nodeName,
      RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
      RABBITMQ_NODE_PORT: String(this.port),
      RABBITMQ_DIST_PORT: String(this.distPort),
      RABBITMQ_MNESIA_BASE: join(this.dir, 'mnesia'),
      RABBITMQ_LOG_BASE: join(this.dir, 'log'),
      RABBITMQ_CONFIG_FILE: join(this.dir, 'rabbitmq'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(this.dir, 'enabled_plugins'),
      RABBITMQ_PID_FILE: join(this.dir, 'rabbitmq.pid'),
      // A broker that fails to boot writes a crash dump: into its temp dir, not the working directory.
      ERL_CRASH_DUMP: join(this.dir, 'erl_crash.dump'),
    };
    let output = '';
    const child = spawnWatched(LAUNCHER, [], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    this.broker = child;
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const failed = new Promise<never>((_, reject) => {
      child.once('error', (error: NodeJS.ErrnoException) =>
        reject(
          error.code === 'ENOENT'
            ? new Error('rabbitmq-server is not installed: apt-get install -y rabbitmq-server (.ci/run does this)')
            : error,
        ),
      );
      child.once('exit', (code) => reject(new Error(`rabbitmq-server exited with ${code}: ${output}`)));
    });
    failed.catch(() => undefined);
    await Promise.race([this.waitForAmqp(), failed]);
    child.removeAllListeners('exit');
  }

  /** Polls until an AMQP connection opens: the broker listens only once it has booted. */
  private async waitForAmqp(): Promise<void> {
    const deadline = performance.now() + 180_000;
    for (;;) {
      try {
        const connection = await connect(this.url);
        await connection.close();
        return;
      } catch (error) {
        if (performance.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  }

  /**
   * Runs `rabbitmqctl` against this broker (its node name, epmd port and cookie in its HOME), e.g.
   * `ctl('set_vm_memory_high_watermark', '0')` to raise the memory alarm that blocks publishers. Resolves with stdout.
   */
  async ctl(...args: string[]): Promise<string> {
    const env = { ...process.env, HOME: this.dir, ERL_EPMD_PORT: String(this.epmdPort) };
    const { stdout } = await promisify(execFile)(CTL, ['-n', this.nodeName, ...args], { env });
    return stdout;
  }

  /** Stops the broker (SIGTERM: it closes its connections and writes its queues) and waits for it to exit. */
  async stop(): Promise<void> {
    const child = this.broker;
    this.broker = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    killGroup(child, 'SIGTERM');
    await exited;
    running.delete(child);
  }

  /** Stops the broker and its epmd, and removes its data. */
  async dispose(): Promise<void> {
    await this.stop();
    const epmd = this.epmd;
    this.epmd = undefined;
    if (epmd && epmd.exitCode === null && epmd.signalCode === null) {
      const exited = once(epmd, 'exit');
      killGroup(epmd, 'SIGTERM');
      await exited;
    }
    if (epmd) running.delete(epmd);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
