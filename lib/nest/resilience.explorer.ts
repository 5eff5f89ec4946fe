import { Injectable, RequestMethod, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { GUARDS_METADATA, METHOD_METADATA } from '@nestjs/common/constants.js';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';
import { getTimeoutSignal } from '../core/pipeline/invocation.js';
import { createResilientMethod } from '../core/pipeline/resilient-method.js';
import { ControllerRateLimits } from './controller-rate-limits.js';
import { PolicyResolver } from './policy-resolver.js';
import { RateLimitGuard } from './rate-limit.guard.js';
import { RESILIENT_WRAPPER, TIMEOUT_SIGNAL_PARAMETER } from './resilience.constants.js';
import { resultShapeOf } from './result-shape.js';

type MethodHost = Record<string, unknown>;
type AnyMethod = (...args: never[]) => unknown;

/** HTTP methods that may be repeated without changing the result beyond the first call (RFC 9110, 9.2.2). */
const IDEMPOTENT_METHODS = new Set([
  RequestMethod.GET,
  RequestMethod.HEAD,
  RequestMethod.OPTIONS,
  RequestMethod.PUT,
  RequestMethod.DELETE,
  RequestMethod.SEARCH,
]);

/**
 * Finds decorated methods at bootstrap and wraps each once, in place, keeping `this`, the name and the metadata.
 * Controller handlers are wrapped before Nest registers the routes (`ResilienceModule.configure`), so a request calls
 * the wrapper directly: no interceptor, no per-request lookup. Providers are wrapped in `onModuleInit`.
 */
@Injectable()
export class ResilienceExplorer implements OnModuleInit, OnModuleDestroy {
  /** Prototype methods replaced for request-scoped and transient classes, restored on shutdown. */
  private readonly patchedPrototypes: { prototype: MethodHost; name: string; original: unknown }[] = [];
  private controllersWrapped = false;

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly resolver: PolicyResolver,
    private readonly controllerRateLimits: ControllerRateLimits,
  ) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getProviders()) this.wrapMethods(wrapper, 'provider');
    // An application context (no HTTP server) never runs `configure`: its controllers are checked here.
    this.wrapControllers();
  }

  /** Wraps decorated controller handlers; must run before the routes are registered. Runs once. */
  wrapControllers(): void {
    if (this.controllersWrapped) return;
    this.controllersWrapped = true;
    for (const wrapper of this.discovery.getControllers()) this.wrapMethods(wrapper, 'controller');
  }

  onModuleDestroy(): void {
    for (const { prototype, name, original } of this.patchedPrototypes.splice(0)) prototype[name] = original;
  }

  private wrapMethods(wrapper: InstanceWrapper, kind: 'provider' | 'controller'): void {
    const instance: unknown = wrapper.instance;
    if (instance === null || typeof instance !== 'object') return;
    const prototype = Object.getPrototypeOf(instance) as MethodHost | null;
    if (prototype === null || prototype === Object.prototype) return;
    // Singletons are wrapped on the instance, leaving the class untouched (two apps in one process stay apart).
    // Request-scoped and transient classes get new instances later, so their prototype is wrapped instead.
    const isStatic = wrapper.isDependencyTreeStatic();
    const host = isStatic ? (instance as MethodHost) : prototype;
    const classRef = (instance).constructor;
    for (const name of this.scanner.getAllMethodNames(prototype)) {
      const method = host[name];
      if (typeof method !== 'function' || RESILIENT_WRAPPER in method) continue;
      const target = { className: classRef.name, methodName: name };
      const rateLimit = kind === 'controller' ? this.resolver.resolveRateLimit(method, classRef, target) : undefined;
      if (rateLimit) this.controllerRateLimits.set(method, rateLimit);
      if (kind === 'controller') guardOnce(method, classRef);
      const policies = this.resolver.resolve(method, prototype, target, kind);
      if (policies === undefined) continue;
      // A handler serving a non-idempotent HTTP method (POST, PATCH) is not retried unless its options say so.
      const chosen = kind === 'controller' && !isIdempotentRoute(method) ? (policies.withoutRetry ?? policies.all) : policies.all;
      const resilient = createResilientMethod(
        withTimeoutSignal(method as AnyMethod, prototype, name),
        target,
        chosen,
        resultShapeOf(prototype, name),
      );
      preserveIdentity(resilient, method);
      if (rateLimit) this.controllerRateLimits.set(resilient, rateLimit);
      if (!isStatic) {
        this.patchedPrototypes.push({ prototype, name, original: Object.getOwnPropertyDescriptor(prototype, name)?.value });
      }
      Object.defineProperty(host, name, { value: resilient, writable: true, configurable: true, enumerable: false });
    }
  }
}

/**
 * `@RateLimit` on a class and on one of its handlers attaches the guard at both levels; Nest would run it twice and
 * spend two tokens. The handler's copy goes (before Nest reads the guards, when it registers the route).
 */
function guardOnce(handler: object, classRef: object): void {
  const classGuards = Reflect.getMetadata(GUARDS_METADATA, classRef) as unknown[] | undefined;
  const handlerGuards = Reflect.getMetadata(GUARDS_METADATA, handler) as unknown[] | undefined;
  if (!classGuards?.includes(RateLimitGuard) || !handlerGuards?.includes(RateLimitGuard)) return;
  Reflect.defineMetadata(GUARDS_METADATA, handlerGuards.filter((guard) => guard !== RateLimitGuard), handler);
}

/** Routes without an HTTP method (message handlers) count as idempotent: only HTTP says otherwise. */
function isIdempotentRoute(handler: object): boolean {
  const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
  return method === undefined || IDEMPOTENT_METHODS.has(method);
}

/** For a handler with a `@TimeoutSignal()` parameter: fills it with the running attempt's signal on every call. */
function withTimeoutSignal(method: AnyMethod, prototype: object, name: string): AnyMethod {
  const index = Reflect.getMetadata(TIMEOUT_SIGNAL_PARAMETER, prototype, name) as number | undefined;
  if (index === undefined) return method;
  return function withSignal(this: unknown, ...args: unknown[]) {
    args[index] = getTimeoutSignal();
    return (method as (...args: unknown[]) => unknown).apply(this, args);
  };
}

/** Keeps what other libraries read from the method: its name and every Reflect metadata entry. */
function preserveIdentity(wrapper: object, original: object): void {
  Object.defineProperty(wrapper, 'name', { value: (original as { name: string }).name, configurable: true });
  Object.defineProperty(wrapper, RESILIENT_WRAPPER, { value: original });
  for (const key of Reflect.getMetadataKeys(original) as unknown[]) {
    Reflect.defineMetadata(key, Reflect.getMetadata(key, original), wrapper);
  }
}
