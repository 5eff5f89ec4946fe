import { UseInterceptors } from '@nestjs/common';
import { ResilienceInterceptor } from '../nest/handlers/resilience.interceptor.js';
import type { PolicySpec } from './resilience.metadata.js';

/** Methods that already carry the interceptor: however many policy decorators a handler has, it runs once. */
const withInterceptor = new WeakSet<object>();

/**
 * A policy decorator: records `value` under `key` on the method and attaches the `ResilienceInterceptor` (which
 * applies the policies on handlers of every transport; on provider methods Nest ignores it and the explorer wraps
 * the method instead).
 */
export function policyDecorator(key: string, value: unknown): MethodDecorator {
  return (target, propertyKey, descriptor) => {
    const method = descriptor.value as object | undefined;
    if (typeof method !== 'function') {
      throw new TypeError(`nest-resilience decorators apply to methods; ${String(propertyKey)} is not one`);
    }
    Reflect.defineMetadata(key, value, method);
    if (!withInterceptor.has(method)) {
      withInterceptor.add(method);
      UseInterceptors(ResilienceInterceptor)(target, propertyKey, descriptor);
    }
    return descriptor;
  };
}

/** Builds the recorded spec from a decorator's `(name?, options?)` or `(options)` arguments. */
export function policySpec<TOptions>(
  nameOrOptions: string | Partial<TOptions> | undefined,
  options: Partial<TOptions> | undefined,
): PolicySpec<TOptions> {
  if (typeof nameOrOptions === 'string') return { name: nameOrOptions, options };
  return { options: nameOrOptions };
}
