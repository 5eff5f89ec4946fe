/**
 * The upstream of `bench/http-client.ts`: a bare node:http server on 127.0.0.1 answering every request with a small
 * JSON body, in its own process (forked by the bench) so that serving does not share the client's event loop. It
 * sends its port to the parent over IPC and exits when the parent disconnects.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const body = JSON.stringify({ ok: true, id: 'ch_1', amount: 100 });
const server = createServer((request, response) => {
  // The request body (POST) is read to its end before answering, as a real upstream would.
  request.resume();
  request.on('end', () => {
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    response.end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.send?.({ port: (server.address() as AddressInfo).port });
});
process.on('disconnect', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
