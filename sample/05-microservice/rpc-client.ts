/**
 * Sends messages to the sample's TCP microservice, all at once, and prints each answer or error:
 *   node dist/sample/05-microservice/rpc-client.js [count]    (default 8: the rate limit of 5 per second refuses the
 * last ones)
 */
import { ClientProxyFactory, Transport } from '@nestjs/microservices';
import { firstValueFrom } from 'rxjs';

const port = Number(process.env.RPC_PORT ?? 3001);
const count = Number(process.argv[2] ?? 8);
const client = ClientProxyFactory.create({ transport: Transport.TCP, options: { host: '127.0.0.1', port } });
await client.connect();
// All at once, so that they fall in the same second of the rate limit.
const answers = await Promise.allSettled(
  Array.from({ length: count }, (_, index) =>
    firstValueFrom(client.send<unknown>('orders.pay', { amount: 10 * (index + 1) })),
  ),
);
answers.forEach((answer, index) =>
  console.log(index + 1, answer.status === 'fulfilled' ? ['answer', answer.value] : ['error', answer.reason]),
);
await client.close();
