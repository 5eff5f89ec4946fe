import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Invocation } from '../core/pipeline/invocation.js';
import { INVOCATION_ON_REQUEST } from '../nest/resilience.constants.js';

/**
 * Injects the AbortSignal of the current attempt into a controller handler decorated with `@Timeout`; it aborts
 * when the attempt times out. `undefined` on handlers without resilience decorators.
 *
 * @example `@Get() find(@TimeoutSignal() signal: AbortSignal) { return fetch(url, { signal }); }`
 */
export const TimeoutSignal = createParamDecorator((_data: unknown, context: ExecutionContext) => {
  const request = context.switchToHttp().getRequest<Record<symbol, Invocation | undefined>>();
  return request[INVOCATION_ON_REQUEST]?.signal();
});
