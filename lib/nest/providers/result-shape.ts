import { Observable } from 'rxjs';
import type { ResultShape } from '../../core/pipeline/resilient-method.js';

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
