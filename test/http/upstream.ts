import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request an upstream received, as it saw it. */
export interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
  /** Resolves when the client closed the connection before the answer ended (aborted), or the answer ended. */
  readonly closed: Promise<'aborted' | 'answered'>;
}

/** What the upstream does with the n-th request (1 for the first): answers, or leaves it hanging. */
export type Behaviour = (request: Received, res: ServerResponse, n: number) => void | Promise<void>;

/** A real HTTP server on 127.0.0.1 that fails as gateways do, and records what it received. */
export interface Upstream {
  readonly origin: string;
  readonly received: Received[];
  /** Sockets the server has accepted (a pooled client reuses them). */
  readonly connections: () => number;
  /** Sockets that were closed since. */
  readonly closedConnections: () => number;
  close(): Promise<void>;
}

export async function startUpstream(behaviour: Behaviour): Promise<Upstream> {
  const received: Received[] = [];
  let connections = 0;
  let closedConnections = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let settle: (how: 'aborted' | 'answered') => void = () => undefined;
      const closed = new Promise<'aborted' | 'answered'>((resolve) => (settle = resolve));
      res.on('close', () => settle(res.writableFinished ? 'answered' : 'aborted'));
      const request: Received = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        closed,
      };
      received.push(request);
      void Promise.resolve(behaviour(request, res, received.length)).catch((error: unknown) => {
        res.destroy(error as Error);
      });
    });
  });
  server.on('connection', (socket) => {
    connections++;
    socket.on('close', () => closedConnections++);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    received,
    connections: () => connections,
    closedConnections: () => closedConnections,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Answers `status` with a JSON body and extra headers. */
export function answer(
  res: ServerResponse,
  status: number,
  body: unknown = {},
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}
