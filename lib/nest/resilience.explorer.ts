import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';
import type { Invocation } from '../core/pipeline/invocation.js';
import { composeObservable } from '../core/pipeline/compose.js';
import { createResilientMethod } from '../core/pipeline/resilient-method.js';
import { ControllerPipelines } from './controller-pipelines.js';
import { ControllerRateLimits } from './controller-rate-limits.js';
import { PolicyResolver } from './policy-resolver.js';
import { RESILIENT_WRAPPER } from './resilience.constants.js';
import { resultShapeOf } from './result-shape.js';

type MethodHost = Record<string, unknown>;

/** Nest's handler stream, re-subscribed by retry for every attempt. */
const controllerSource = (invocation: Invocation) => invocation.source!;

/**
 * Finds decorated methods at bootstrap. Provider methods are wrapped in place (once); controller handlers get a
 * pipeline that the interceptor runs, because Nest registers routes before `onModuleInit`.
 */
@Injectable()
export class ResilienceExplorer implements OnModuleInit, OnModuleDestroy {
  /** Prototype methods replaced for request-scoped and transient providers, restored on shutdown. */
  private readonly patchedPrototypes: { prototype: MethodHost; name: string; original: unknown }[] = [];

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly resolver: PolicyResolver,
    private readonly controllerPipelines: ControllerPipelines,
    private readonly controllerRateLimits: ControllerRateLimits,
  ) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getProviders()) this.wrapProvider(wrapper);
    for (const wrapper of this.discovery.getControllers()) this.registerController(wrapper);
  }

  onModuleDestroy(): void {
    for (const { prototype, name, original } of this.patchedPrototypes.splice(0)) prototype[name] = original;
  }

  private wrapProvider(wrapper: InstanceWrapper): void {
    const instance: unknown = wrapper.instance;
    if (instance === null || typeof instance !== 'object') return;
    const prototype = Object.getPrototypeOf(instance) as MethodHost | null;
    if (prototype === null || prototype === Object.prototype) return;
    // Singletons are wrapped on the instance, leaving the class untouched (two apps in one process stay apart).
    // Request-scoped and transient providers get new instances later, so their prototype is wrapped instead.
    const isStatic = wrapper.isDependencyTreeStatic();
    const host = isStatic ? (instance as MethodHost) : prototype;
    for (const name of this.scanner.getAllMethodNames(prototype)) {
      const method = host[name];
      if (typeof method !== 'function' || RESILIENT_WRAPPER in method) continue;
      const className = (instance).constructor.name;
      const target = { className, methodName: name };
      const policies = this.resolver.resolve(method, prototype, target, 'provider');
      if (policies === undefined) continue;
      const resilient = createResilientMethod(
        method as (...args: never[]) => unknown,
        target,
        policies.all,
        resultShapeOf(prototype, name),
      );
      preserveIdentity(resilient, method);
      if (!isStatic) this.patchedPrototypes.push({ prototype, name, original: Object.getOwnPropertyDescriptor(prototype, name)?.value });
      Object.defineProperty(host, name, { value: resilient, writable: true, configurable: true, enumerable: false });
    }
  }

  private registerController(wrapper: InstanceWrapper): void {
    const instance: unknown = wrapper.instance;
    if (instance === null || typeof instance !== 'object') return;
    const prototype = Object.getPrototypeOf(instance) as MethodHost;
    for (const name of this.scanner.getAllMethodNames(prototype)) {
      const handler = prototype[name];
      if (typeof handler !== 'function') continue;
      const controllerClass = instance.constructor;
      const target = { className: controllerClass.name, methodName: name };
      const rateLimit = this.resolver.resolveRateLimit(handler, controllerClass, target);
      if (rateLimit) this.controllerRateLimits.set(handler, rateLimit);
      const policies = this.resolver.resolve(handler, prototype, target, 'controller');
      if (policies === undefined) continue;
      const all = composeObservable(policies.all, controllerSource);
      const nonIdempotent = policies.withoutRetry ? composeObservable(policies.withoutRetry, controllerSource) : all;
      this.controllerPipelines.set(handler, { target, instance, all, nonIdempotent });
    }
  }
}

/** Keeps what other libraries read from the method: its name and every Reflect metadata entry. */
function preserveIdentity(wrapper: object, original: object): void {
  Object.defineProperty(wrapper, 'name', { value: (original as { name: string }).name, configurable: true });
  Object.defineProperty(wrapper, RESILIENT_WRAPPER, { value: original });
  for (const key of Reflect.getMetadataKeys(original) as unknown[]) {
    Reflect.defineMetadata(key, Reflect.getMetadata(key, original), wrapper);
  }
}
