import { Injectable, type ExecutionContext, type Type } from '@nestjs/common';
import { ContextIdFactory, HttpAdapterHost, MetadataScanner, ModuleRef } from '@nestjs/core';
import { ResilienceConfigError } from '../../core/errors/resilience-config.error.js';
import type { Invocation } from '../../core/pipeline/invocation.js';
import { HandlerPipeline } from './handler-pipeline.js';
import { HandlerIdempotency } from './handler-idempotency.js';
import { HandlerRateLimitPlan } from './handler-rate-limits.js';
import { isGraphQLFieldResolver, isGraphQLMutation } from '../request/handler-kind.js';
import { isIdempotentHttpRoute } from '../request/idempotent-methods.js';
import { refuseResponseObjectHandler } from './response-object-check.js';
import { PipelineFactory } from '../pipeline/pipeline.factory.js';
import { TIMEOUT_SIGNAL_PARAMETER } from '../../decorators/resilience.metadata.js';

/** `GRAPHQL_MODULE_OPTIONS` of @nestjs/graphql, read by name so that the package stays optional. */
const GRAPHQL_MODULE_OPTIONS = 'GqlModuleOptions';

/** A compiled entry per handler function; `null` remembers "nothing to apply" so the lookup stays one Map read. */
interface Compiled {
  readonly classRef: object;
  readonly pipeline: HandlerPipeline | null;
  readonly rateLimits: HandlerRateLimitPlan | null;
}

/**
 * The handlers of one application (controllers, resolvers, gateways) with their compiled policies and rate limits,
 * read by the `ResilienceInterceptor` and the rate-limit guards on every request. The explorer compiles every
 * decorated handler at bootstrap, so configuration errors stop the app then; a handler it did not see is compiled
 * on its first request.
 */
@Injectable()
export class ResilientHandlers {
  private readonly byHandler = new Map<object, Compiled>();
  /** Handlers inherited by several classes: each class gets its own entry. */
  private readonly byClass = new Map<object, Map<object, Compiled>>();

  constructor(
    private readonly pipelines: PipelineFactory,
    private readonly adapterHost: HttpAdapterHost,
    private readonly moduleRef: ModuleRef,
  ) {}

  /** The pipeline of the request's handler; `undefined` when it has no policy decorator. */
  pipeline(context: ExecutionContext): HandlerPipeline | undefined {
    return this.entry(context.getHandler(), context.getClass()).pipeline ?? undefined;
  }

  /** The rate limits of the request's handler; `undefined` when it has none. */
  rateLimits(context: ExecutionContext): HandlerRateLimitPlan | undefined {
    return this.entry(context.getHandler(), context.getClass()).rateLimits ?? undefined;
  }

  /**
   * Compiles the policies and limits of `handler` on `classRef`, validating their options (at bootstrap, so that a
   * mistake stops the app). `instance` is the singleton the handler runs on, `undefined` for request-scoped classes.
   */
  compile(handler: object, classRef: Type, methodName: string, instance: unknown): Compiled {
    const target = this.pipelines.targetOf(classRef, methodName);
    const prototype = classRef.prototype as object;
    const receiverOf = instance === undefined ? this.requestScopedReceiver(classRef) : undefined;
    const policies = this.pipelines.create(handler, prototype, target, 'handler', receiverOf);
    const limits = this.pipelines.rateLimits(handler, classRef, target);
    const idempotent = this.pipelines.handlerIdempotency(handler, target);
    if (idempotent !== undefined)
      refuseResponseObjectHandler(handler, classRef, methodName, `${target.className}.${methodName}`);
    if (isGraphQLFieldResolver(handler))
      this.checkFieldResolverEnhancers(target, policies !== undefined, limits !== undefined);
    const compiled: Compiled = {
      classRef,
      pipeline: policies
        ? new HandlerPipeline(
            {
              target,
              policies: policies.all,
              policiesWithoutRetry: policies.withoutRetry,
              instance,
              usesTimeoutSignal: Reflect.getMetadata(TIMEOUT_SIGNAL_PARAMETER, prototype, methodName) !== undefined,
              // A GraphQL mutation is never repeated, whatever else decorates the method.
              alwaysRepeatable: isIdempotentHttpRoute(handler) && !isGraphQLMutation(handler),
              idempotency:
                idempotent &&
                new HandlerIdempotency(
                  `${target.className}.${target.methodName}`,
                  idempotent.options,
                  idempotent.leaseMs,
                  idempotent.store,
                  this.adapterHost,
                  this.pipelines.registry.idempotencyFor(`${target.className}.${target.methodName}`),
                  idempotent.active,
                ),
            },
            this.adapterHost,
          )
        : null,
      rateLimits: limits
        ? new HandlerRateLimitPlan(limits.limits, limits.appliedBy, this.adapterHost, this.pipelines.events, target)
        : null,
    };
    const first = this.byHandler.get(handler);
    if (first === undefined) this.byHandler.set(handler, compiled);
    else if (first.classRef !== classRef) {
      let handlers = this.byClass.get(classRef);
      if (handlers === undefined) this.byClass.set(classRef, (handlers = new Map<object, Compiled>()));
      handlers.set(handler, compiled);
    }
    return compiled;
  }

  private entry(handler: object, classRef: Type): Compiled {
    const compiled = this.byHandler.get(handler);
    if (compiled !== undefined && compiled.classRef === classRef) return compiled;
    return this.byClass.get(classRef)?.get(handler) ?? this.compileOnFirstRequest(handler, classRef);
  }

  private compileOnFirstRequest(handler: object, classRef: Type): Compiled {
    const methodName = new MetadataScanner()
      .getAllMethodNames(classRef.prototype as object)
      .find((name) => (classRef.prototype as Record<string, unknown>)[name] === handler);
    let instance: unknown;
    try {
      instance = this.moduleRef.get(classRef, { strict: false });
    } catch {
      instance = undefined; // request-scoped: resolved per request by the fallback
    }
    return this.compile(handler, classRef, methodName ?? (handler as { name: string }).name, instance);
  }

  /** The receiver of `@Fallback('method')` on a request-scoped handler: the instance serving this request. */
  private requestScopedReceiver(classRef: Type): (invocation: Invocation) => Promise<unknown> {
    return (invocation) => {
      const context = invocation.args[0] as ExecutionContext;
      const request = context.getArgByIndex<object | undefined>(0);
      return this.moduleRef.resolve(classRef, ContextIdFactory.getByRequest(request ?? {}), { strict: false });
    };
  }

  /** GraphQL field resolvers run interceptors and guards only when the GraphQL module is told to. */
  private checkFieldResolverEnhancers(
    target: { className: string; methodName: string },
    hasPolicies: boolean,
    hasRateLimits: boolean,
  ): void {
    let options: { fieldResolverEnhancers?: readonly string[] } | undefined;
    try {
      options = this.moduleRef.get(GRAPHQL_MODULE_OPTIONS, { strict: false });
    } catch {
      return; // not a GraphQL app: the field resolver is never called
    }
    const enhancers = options?.fieldResolverEnhancers ?? [];
    const missing = [
      ...(hasPolicies && !enhancers.includes('interceptors') ? ['interceptors'] : []),
      ...(hasRateLimits && !enhancers.includes('guards') ? ['guards'] : []),
    ];
    if (missing.length === 0) return;
    throw new ResilienceConfigError(
      `${target.className}.${target.methodName} is a GraphQL field resolver with resilience decorators, but Nest ` +
        `applies ${missing.join(' and ')} to field resolvers only when told to: add ` +
        `fieldResolverEnhancers: ['interceptors', 'guards'] to the GraphQLModule options`,
      `${target.className}.${target.methodName}`,
    );
  }
}
