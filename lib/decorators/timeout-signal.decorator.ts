import { createParamDecorator } from '@nestjs/common';
import { TIMEOUT_SIGNAL_PARAMETER } from '../nest/resilience.constants.js';

/** Leaves the parameter empty: the resilient wrapper of the handler puts the signal there for each attempt. */
const emptySlot = createParamDecorator(() => undefined);

/**
 * Injects the AbortSignal of the current attempt into a controller handler decorated with `@Timeout`; it aborts
 * when the attempt (or the total budget) times out. `undefined` on handlers without resilience decorators.
 *
 * @example `@Get() find(@TimeoutSignal() signal: AbortSignal) { return fetch(url, { signal }); }`
 */
export function TimeoutSignal(): ParameterDecorator {
  return (target, methodName, index) => {
    emptySlot()(target, methodName, index);
    if (methodName !== undefined) Reflect.defineMetadata(TIMEOUT_SIGNAL_PARAMETER, index, target, methodName);
  };
}
