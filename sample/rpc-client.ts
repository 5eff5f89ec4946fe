/**
 * Sends messages to the sample's TCP microservice and prints each answer or error:
 *   node dist/sample/rpc-client.js [count]    (default 8: the rate limit of 5 per second refuses the last ones)
 */
import { ClientProxyFactory, Transport } from '@nestjs/microservices';
import { firstValueFrom } from 'rxjs';

const port = Number(process.env.RPC_PORT ?? 3001);
const count = Number(process.argv[2] ?? 8);
const client = ClientProxyFactory.create({ transport: Transport.TCP, options: { host: '127.0.0.1', port } });
await client.connect();
for (let index = 1; index <= count; index++) {
  try {
    console.log(index, 'answer', await firstValueFrom(client.send('orders.pay', { amount: 10 * index })));
  } catch (error) {
    console.log(index, 'error', error);
  }
}
await client.close();
