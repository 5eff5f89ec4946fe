import { Observable } from 'rxjs';
import { Injectable, type OnModuleInit, type Type } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';
import { ResilienceConfigError } from '../../core/errors/resilience-config.error.js';
import { createResilientMethod, type ResultShape } from '../../core/pipeline/resilient-method.js';
import { isTransportHandler } from '../request/handler-kind.js';
import { PipelineFactory } from '../pipeline/pipeline.factory.js';
import {
  RATE_LIMIT_METADATA,
  RESILIENT_WRAPPER,
  SKIP_RATE_LIMIT_METADATA,
} from '../../decorators/resilience.metadata.js';
import { POLICY_METADATA_KEYS } from '../pipeline/canonical-order.js';
import { ResilientHandlers } from '../handlers/resilient-handlers.js';
import { loadTransportExceptions } from '../errors/transport-errors.js';

type MethodHost = Record<string, unknown>;
type AnyMethod = (...args: never[]) => unknown;

/**
 * Finds decorated methods at bootstrap, in every module of this application:
 * - handlers (HTTP routes, message patterns, gateway messages, GraphQL resolvers): their policies are compiled and
 *   validated now, and applied per request by the `ResilienceInterceptor` and the rate-limit guards;
 * - every other method (services, helpers): wrapped for this application only. Singletons and transient instances
 *   get the wrapper as their own property; request-scoped classes get a subclass of this application that Nest
 *   instantiates per request. No prototype is changed, so several apps in one process stay independent.
 */
@Injectable()
export class ResilienceExplorer implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly pipelines: PipelineFactory,
    private readonly handlers: ResilientHandlers,
  ) {}

  async onModuleInit(): Promise<void> {
    await loadTransportExceptions();
    const controllers = this.discovery.getControllers();
    const providers = this.discovery.getProviders();
    // Every class is named before any pipeline is built, in Nest's module order, so that same-named classes get
    // the same names in every replica (see ClassNames).
    for (const wrapper of controllers) this.name(wrapper, true);
    for (const wrapper of providers) this.name(wrapper, false);
    for (const wrapper of controllers) this.explore(wrapper, true);
    for (const wrapper of providers) this.explore(wrapper, false);
    this.pipelines.checkChaosExperiments();
  }

  /** Registers the name of a class with resilience decorators (only those: an undecorated namesake renames nothing). */
  private name(wrapper: InstanceWrapper, isController: boolean): void {
    const classRef = classOf(wrapper);
    if (classRef === undefined || !this.hasResilience(classRef, isController)) return;
    this.pipelines.classNames.register(classRef, wrapper.host?.name);
  }

  private hasResilience(classRef: Type, isController: boolean): boolean {
    if (Reflect.getMetadata(RATE_LIMIT_METADATA, classRef) !== undefined) return true;
    if (isController && this.pipelines.globalRateLimitNames.length > 0) return true;
    const prototype = classRef.prototype as MethodHost;
    return this.scanner.getAllMethodNames(prototype).some((name) => {
      const method = prototype[name];
      return (
        typeof method === 'function' &&
        (Reflect.hasMetadata(SKIP_RATE_LIMIT_METADATA, method) ||
          POLICY_METADATA_KEYS.some((key) => Reflect.hasMetadata(key, method)))
      );
    });
  }

  private explore(wrapper: InstanceWrapper, isController: boolean): void {
    const classRef = classOf(wrapper);
    if (classRef === undefined) return;
    const prototype = classRef.prototype as MethodHost;
    const isStatic = wrapper.isDependencyTreeStatic();
    const classLimited = Reflect.getMetadata(RATE_LIMIT_METADATA, classRef) !== undefined;
    const resilientMethods = new Map<string, AnyMethod>();
    let handlerCount = 0;
    for (const name of this.scanner.getAllMethodNames(prototype)) {
      const method = prototype[name];
      if (typeof method !== 'function') continue;
      if (isTransportHandler(method, classRef, isController)) {
        handlerCount++;
        // With global rate limits every handler has limits: compiled now, so that nothing is left to a first request.
        if (
          classLimited ||
          this.pipelines.globalRateLimitNames.length > 0 ||
          Reflect.hasMetadata(SKIP_RATE_LIMIT_METADATA, method) ||
          POLICY_METADATA_KEYS.some((key) => Reflect.hasMetadata(key, method))
        ) {
          this.handlers.compile(method, classRef, name, isStatic ? wrapper.instance : undefined);
        }
        continue;
      }
      const target = this.pipelines.targetOf(classRef, name);
      const policies = this.pipelines.create(method, prototype, target, 'provider');
      if (policies === undefined) continue;
      const shape = resultShapeOf(prototype, name);
      if (shape === 'promise' && !declaresPromise(method, prototype, name)) throw synchronousMethod(target);
      const resilient = createResilientMethod(method as AnyMethod, target, policies.all, shape);
      preserveIdentity(resilient, method);
      resilientMethods.set(name, resilient);
    }
    if (classLimited && handlerCount === 0) throw classRateLimitOnProvider(classRef);
    if (resilientMethods.size > 0) this.install(wrapper, classRef, resilientMethods, isStatic);
  }

  /** Puts the wrappers where this application's instances (and only them) find them. */
  private install(wrapper: InstanceWrapper, classRef: Type, methods: Map<string, AnyMethod>, isStatic: boolean): void {
    const instances: unknown[] = isStatic ? [wrapper.instance] : [];
    if (wrapper.isTransient) {
      for (const each of wrapper.getStaticTransientInstances()) instances.push(each?.instance as unknown);
    }
    for (const instance of instances) {
      if (instance === null || typeof instance !== 'object') continue;
      for (const [name, method] of methods) defineMethod(instance, name, method);
    }
    if (!isStatic || wrapper.isTransient) {
      // Instances made later (per request, per consumer) come from this subclass, private to this application.
      const resilientClass = class extends (classRef as new (...args: never[]) => object) {};
      Object.defineProperty(resilientClass, 'name', { value: classRef.name });
      for (const [name, method] of methods) defineMethod(resilientClass.prototype, name, method);
      (wrapper as { metatype: unknown }).metatype = resilientClass;
    }
  }
}

/** The class a wrapper instantiates; `undefined` for factory and value providers (no decorated methods). */
function classOf(wrapper: InstanceWrapper): Type | undefined {
  const classRef = wrapper.metatype as Type | null | undefined;
  if (typeof classRef !== 'function' || wrapper.inject || classRef.prototype === undefined) return undefined;
  return classRef;
}

function defineMethod(host: object, name: string, method: AnyMethod): void {
  Object.defineProperty(host, name, { value: method, writable: true, configurable: true, enumerable: false });
}

/** True when the method returns a Promise (async, or declared `Promise<T>`): wrapping keeps its type honest. */
function declaresPromise(method: object, prototype: object, name: string): boolean {
  const kind = (method as { constructor?: { name?: string } }).constructor?.name;
  if (kind === 'AsyncFunction') return true;
  const returnType: unknown = Reflect.getMetadata('design:returntype', prototype, name);
  return returnType === Promise || isObservableType(returnType);
}

function synchronousMethod(target: { className: string; methodName: string }): ResilienceConfigError {
  const at = `${target.className}.${target.methodName}`;
  return new ResilienceConfigError(
    `${at} has resilience decorators but is not declared asynchronous: its callers would receive a Promise while ` +
      `its type says otherwise. Declare it "async" (or its return type Promise<T> or Observable<T>)`,
    at,
  );
}

function classRateLimitOnProvider(classRef: Type): ResilienceConfigError {
  return new ResilienceConfigError(
    `@RateLimit on the class ${classRef.name}, which has no handler (route, message pattern, gateway message or ` +
      `resolver): put @RateLimit on the provider's methods instead`,
    classRef.name,
  );
}

/** Keeps what other libraries read from the method: its name and every Reflect metadata entry. */
function preserveIdentity(wrapper: object, original: object): void {
  Object.defineProperty(wrapper, 'name', { value: (original as { name: string }).name, configurable: true });
  Object.defineProperty(wrapper, RESILIENT_WRAPPER, { value: original });
  for (const key of Reflect.getMetadataKeys(original) as unknown[]) {
    Reflect.defineMetadata(key, Reflect.getMetadata(key, original), wrapper);
  }
}

/** True for `Observable` (or a subclass, or another copy of RxJS's class) used as a declared type. */
export function isObservableType(type: unknown): boolean {
  if (typeof type !== 'function') return false;
  return type === Observable || (type.prototype as unknown) instanceof Observable || type.name === 'Observable';
}

/**
 * Whether a provider method returns an Observable, read from the `design:returntype` metadata TypeScript emits for
 * decorated methods. Everything else (Promise, undeclared) is treated as Promise-returning.
 */
export function resultShapeOf(prototype: object, methodName: string): ResultShape {
  return isObservableType(Reflect.getMetadata('design:returntype', prototype, methodName)) ? 'observable' : 'promise';
}
