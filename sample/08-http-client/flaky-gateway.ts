import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A payment gateway on 127.0.0.1 that fails as real ones do, in a fixed pattern: every 3rd request charges but its
 * answer is lost (the connection drops), every 4th is a 503 asking to retry after 1 s. It honours `Idempotency-Key`:
 * a key it has seen gets the first answer again, never a second charge.
 */
export async function startFlakyGateway(): Promise<{ url: string; charges: () => number; close: () => Promise<void> }> {
  const charges = new Map<string, string>();
  let requests = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      requests++;
      const key = req.headers['idempotency-key'];
      if (typeof key !== 'string') {
        res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"Idempotency-Key required"}');
        return;
      }
      if (requests % 4 === 0) {
        res.writeHead(503, { 'retry-after': '1', 'content-type': 'application/json' }).end('{"error":"busy"}');
        return;
      }
      let id = charges.get(key);
      const known = id !== undefined;
      if (id === undefined) {
        id = `ch_${charges.size + 1}`;
        charges.set(key, id);
      }
      if (!known && requests % 3 === 0) {
        res.destroy(); // charged, but the answer never arrives
        return;
      }
      res
        .writeHead(201, { 'content-type': 'application/json' })
        .end(JSON.stringify({ id, ...JSON.parse(Buffer.concat(chunks).toString() || '{}') }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    charges: () => charges.size,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
