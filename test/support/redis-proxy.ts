import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 in front of a real `redis-server`, for the moments of a restart a test cannot time on the
 * server itself:
 * - `down()`: every connection is cut and new ones are closed at once, as when the process was killed;
 * - `loading()`: connections are accepted and answered as Redis answers while it loads its data from disk (`INFO`
 *   says `loading:1` with an estimated time, `CLIENT` is accepted, every other command `-LOADING`) until `ready()`,
 *   which passes them on. RESP2 only: give the client `protocol: 2` (a RESP3 `HELLO` is not played);
 * - `swallowNextReply()`: the next reply Redis sends is dropped and the proxy goes `down()`, as when a write reached
 *   the server just before it died: the write took effect, its client never heard.
 */
export class RedisProxy {
  private state: 'up' | 'down' | 'loading' = 'up';
  private readonly clients = new Set<Socket>();
  /** Connections answered as a loading Redis, with the bytes not parsed yet. */
  private readonly held = new Map<Socket, Buffer>();
  private swallow = false;
  /** `INFO` commands answered `loading:1`. */
  infosWhileLoading = 0;

  private constructor(
    private readonly server: Server,
    private readonly upstreamPort: number,
    /** The `loading_eta_seconds` a loading Redis reports. */
    private readonly etaSeconds: number,
  ) {}

  static async start(upstreamPort: number, etaSeconds = 10): Promise<RedisProxy> {
    const server = createServer();
    const proxy = new RedisProxy(server, upstreamPort, etaSeconds);
    server.on('connection', (socket) => proxy.accept(socket));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return proxy;
  }

  get url(): string {
    return `redis://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  down(): void {
    this.state = 'down';
    for (const socket of this.clients) socket.destroy();
  }

  loading(): void {
    this.state = 'loading';
  }

  /** Loading is over: held connections and new ones reach Redis. */
  ready(): void {
    this.state = 'up';
    for (const [socket, pending] of this.held) this.pipe(socket, pending);
    this.held.clear();
  }

  swallowNextReply(): void {
    this.swallow = true;
  }

  async close(): Promise<void> {
    for (const socket of this.clients) socket.destroy();
    this.server.close();
    await once(this.server, 'close');
  }

  private accept(socket: Socket): void {
    socket.on('error', () => undefined);
    if (this.state === 'down') {
      socket.destroy();
      return;
    }
    this.clients.add(socket);
    socket.once('close', () => {
      this.clients.delete(socket);
      this.held.delete(socket);
    });
    if (this.state === 'up') {
      this.pipe(socket, Buffer.alloc(0));
      return;
    }
    this.held.set(socket, Buffer.alloc(0));
    socket.on('data', (chunk: Buffer) => {
      const pending = this.held.get(socket);
      if (pending === undefined) return; // passed on meanwhile
      this.held.set(socket, this.answerWhileLoading(socket, Buffer.concat([pending, chunk])));
    });
  }

  /** Answers each whole command in `bytes` as a loading Redis; returns what is left of an incomplete one. */
  private answerWhileLoading(socket: Socket, bytes: Buffer): Buffer {
    let rest = bytes;
    for (;;) {
      const parsed = parseCommand(rest);
      if (parsed === undefined) return rest;
      rest = rest.subarray(parsed.length);
      if (parsed.name === 'INFO') {
        this.infosWhileLoading++;
        const info = `# Persistence\r\nloading:1\r\nloading_eta_seconds:${this.etaSeconds}\r\n`;
        socket.write(`$${Buffer.byteLength(info)}\r\n${info}\r\n`);
      } else if (parsed.name === 'CLIENT') {
        socket.write('+OK\r\n'); // CLIENT SETINFO and SETNAME are allowed while loading
      } else {
        socket.write('-LOADING Redis is loading the dataset in memory\r\n');
      }
    }
  }

  private pipe(socket: Socket, pending: Buffer): void {
    socket.removeAllListeners('data');
    const upstream = connect(this.upstreamPort, '127.0.0.1');
    upstream.on('error', () => socket.destroy());
    upstream.on('close', () => socket.destroy());
    socket.on('close', () => upstream.destroy());
    if (pending.length > 0) upstream.write(pending);
    socket.on('data', (chunk: Buffer) => upstream.write(chunk));
    upstream.on('data', (chunk: Buffer) => {
      if (this.swallow) {
        this.swallow = false;
        this.down();
        return;
      }
      socket.write(chunk);
    });
  }
}

/** The first whole RESP command (an array of bulk strings, as clients send) in `bytes`: its name and byte length. */
function parseCommand(bytes: Buffer): { name: string; length: number } | undefined {
  const text = bytes.toString('latin1');
  if (!text.startsWith('*')) return undefined;
  let at = text.indexOf('\r\n');
  if (at < 0) return undefined;
  const count = Number(text.slice(1, at));
  at += 2;
  let name = '';
  for (let index = 0; index < count; index++) {
    const end = text.indexOf('\r\n', at);
    if (end < 0 || text[at] !== '$') return undefined;
    const size = Number(text.slice(at + 1, end));
    const start = end + 2;
    if (text.length < start + size + 2) return undefined;
    if (index === 0) name = text.slice(start, start + size).toUpperCase();
    at = start + size + 2;
  }
  return { name, length: at };
}
