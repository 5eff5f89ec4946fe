import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';

/** A free loopback port, found by letting the OS pick one. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/**
 * A real `redis-server` (Debian's package) on a free loopback port, with no persistence, for one test file. It can
 * be stopped, restarted on the same port, paused (SIGSTOP: connected but silent, like a stuck server) and resumed.
 */
export class RedisServer {
  private process: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    /** Extra `redis-server` arguments, e.g. to enable cluster mode. */
    private readonly extraArguments: readonly string[] = [],
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(extraArguments: readonly string[] = []): Promise<RedisServer> {
    const server = new RedisServer(await freePort(), extraArguments);
    await server.restart();
    return server;
  }

  /** Starts the server (again) on the same port and waits until it accepts connections. */
  async restart(): Promise<void> {
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--enable-debug-command',
        'yes',
        ...this.extraArguments,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.process = child;
    await new Promise<void>((resolve, reject) => {
      let output = '';
      child.once('error', (error: NodeJS.ErrnoException) =>
        reject(
          error.code === 'ENOENT'
            ? new Error(
                'redis-server is not installed: apt-get update && apt-get install -y redis-server (.ci/run does this)',
              )
            : error,
        ),
      );
      child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${output}`)));
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) resolve();
      });
    });
    child.removeAllListeners('exit');
    child.stdout.resume();
  }

  /** Stops the server and waits for it to exit. */
  async stop(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGCONT');
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
    this.process = undefined;
  }

  /** Freezes the server: connections stay open but nothing is answered. */
  pause(): void {
    this.process?.kill('SIGSTOP');
  }

  resume(): void {
    this.process?.kill('SIGCONT');
  }
}

/** How many clients the Redis server counts as connected (INFO clients), to check that connections were released. */
export async function connectedClients(admin: { info(section: string): Promise<string> }): Promise<number> {
  return Number(/connected_clients:(\d+)/.exec(await admin.info('clients'))![1]);
}
