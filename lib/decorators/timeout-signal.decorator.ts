import { createParamDecorator } from '@nestjs/common';
import { handlerInvocations } from '../core/pipeline/handler-invocations.js';
import { TIMEOUT_SIGNAL_PARAMETER } from './resilience.metadata.js';

/** Reads the signal of the attempt running now (pipes and parameters are resolved again on every attempt). */
const attemptSignal = createParamDecorator(() => handlerInvocations.getStore()?.signal());

/**
 * Injects the AbortSignal of the current attempt into a handler decorated with `@Timeout`; it aborts when the
 * attempt (or the total budget) times out. `undefined` on handlers without resilience decorators.
 *
 * @example `@Get() find(@TimeoutSignal() signal: AbortSignal) { return fetch(url, { signal }); }`
 */
export function TimeoutSignal(): ParameterDecorator {
  return (target, methodName, index) => {
    attemptSignal()(target, methodName, index);
    if (methodName !== undefined) Reflect.defineMetadata(TIMEOUT_SIGNAL_PARAMETER, index, target, methodName);
  };
}
