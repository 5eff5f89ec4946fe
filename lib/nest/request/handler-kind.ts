/**
 * Metadata keys that Nest's transports put on the methods they call through their context creators (and so through
 * interceptors and guards). Read as strings so that HTTP-only apps need none of the optional transport packages.
 */
const HTTP_ROUTE = 'path'; // @Get(), @Post() ... (@nestjs/common)
const MESSAGE_PATTERN = 'microservices:pattern'; // @MessagePattern(), @EventPattern()
const GATEWAY_MESSAGE = 'message'; // @SubscribeMessage()
const GATEWAY_CLASS = 'websockets:is_gateway'; // @WebSocketGateway()
const GRAPHQL_RESOLVER = 'graphql:resolver_name'; // @Query(), @Mutation(), @ResolveField() ...
const GRAPHQL_FIELD = 'graphql:resolve_property'; // @ResolveField()
const GRAPHQL_RESOLVER_TYPE = 'graphql:resolver_type'; // 'Query', 'Mutation', 'Subscription' or a field's parent

/**
 * True when Nest invokes `method` as a handler, applying its interceptors and guards: an HTTP route (on a
 * controller), a message or event pattern, a gateway message, a GraphQL resolver. Such methods run their policies
 * in the `ResilienceInterceptor`; every other decorated method is wrapped by the explorer.
 */
export function isTransportHandler(method: object, classRef: object, isController: boolean): boolean {
  if (isController && (Reflect.hasMetadata(HTTP_ROUTE, method) || Reflect.hasMetadata(MESSAGE_PATTERN, method)))
    return true;
  if (Reflect.hasMetadata(GRAPHQL_RESOLVER, method)) return true;
  return Reflect.hasMetadata(GATEWAY_MESSAGE, method) && Reflect.getMetadata(GATEWAY_CLASS, classRef) === true;
}

/** True for a GraphQL field resolver: Nest applies interceptors to it only with `fieldResolverEnhancers`. */
export function isGraphQLFieldResolver(method: object): boolean {
  return Reflect.getMetadata(GRAPHQL_FIELD, method) === true;
}

/** True for a GraphQL `@Mutation()` resolver: its operations change state, so they must not run twice. */
export function isGraphQLMutation(method: object): boolean {
  return Reflect.getMetadata(GRAPHQL_RESOLVER_TYPE, method) === 'Mutation';
}

/** True for an HTTP route (`@Get()`, `@Post()` ...): the only handlers whose requests carry an `Idempotency-Key`. */
export function isHttpRoute(method: object): boolean {
  return Reflect.hasMetadata(HTTP_ROUTE, method);
}

/** True for a message or event handler (`@MessagePattern()`, `@EventPattern()`). */
export function isMessageHandler(method: object): boolean {
  return Reflect.hasMetadata(MESSAGE_PATTERN, method);
}
