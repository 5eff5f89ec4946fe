import { Module } from '@nestjs/common';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { GraphQLModule, Mutation, Query, Resolver } from '@nestjs/graphql';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { Test } from '@nestjs/testing';
import { describe, expect, it } from 'vitest';
import { Idempotent, ResilienceConfigError, ResilienceModule } from '../../lib/index.js';

// A gateway message and a GraphQL resolver carry no Idempotency-Key and are not redelivered: an @Idempotent there
// would do nothing, so the application must not start.

@WebSocketGateway()
class PaymentsGateway {
  @SubscribeMessage('pay')
  @Idempotent()
  pay(): string {
    return 'paid';
  }
}

@Resolver()
class PaymentsResolver {
  @Query(() => String)
  ping(): string {
    return 'pong';
  }

  @Mutation(() => String)
  @Idempotent()
  pay(): string {
    return 'paid';
  }
}

async function bootError(module: object): Promise<unknown> {
  const moduleRef = await Test.createTestingModule({ imports: [module as never] }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  const error = await app.init().then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  await app.close();
  return error;
}

describe('@Idempotent where nothing could recognise a repeat', () => {
  it('is refused at bootstrap on a WebSocket gateway message, naming the handler', async () => {
    @Module({ imports: [ResilienceModule.forRoot()], providers: [PaymentsGateway] })
    class GatewayModule {}
    const error = await bootError(GatewayModule);
    expect(error).toBeInstanceOf(ResilienceConfigError);
    expect((error as Error).message).toMatch(/@Idempotent on PaymentsGateway\.pay: WebSocket and GraphQL handlers/);
  });

  it('is refused at bootstrap on a GraphQL mutation, naming the resolver', async () => {
    @Module({
      imports: [
        ResilienceModule.forRoot(),
        GraphQLModule.forRoot<ApolloDriverConfig>({ driver: ApolloDriver, autoSchemaFile: true }),
      ],
      providers: [PaymentsResolver],
    })
    class GraphQLAppModule {}
    const error = await bootError(GraphQLAppModule);
    expect(error).toBeInstanceOf(ResilienceConfigError);
    expect((error as Error).message).toMatch(/@Idempotent on PaymentsResolver\.pay: WebSocket and GraphQL handlers/);
  });
});
