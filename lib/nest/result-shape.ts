import { Observable } from 'rxjs';
import type { ResultShape } from '../core/pipeline/resilient-method.js';

/**
 * Whether a provider method returns an Observable, read from the `design:returntype` metadata TypeScript emits for
 * decorated methods. Everything else (Promise, plain value, undeclared) is treated as Promise-returning.
 */
export function resultShapeOf(prototype: object, methodName: string): ResultShape {
  const returnType: unknown = Reflect.getMetadata('design:returntype', prototype, methodName);
  if (typeof returnType !== 'function') return 'promise';
  const isObservableClass =
    returnType === Observable || (returnType.prototype as unknown) instanceof Observable || returnType.name === 'Observable';
  return isObservableClass ? 'observable' : 'promise';
}
