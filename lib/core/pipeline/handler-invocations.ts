import { AsyncLocalStorage } from 'node:async_hooks';
import type { Invocation } from './invocation.js';

/**
 * The invocation of the handler call running now, for parameters that read the current attempt's signal. Set only
 * for handlers that ask for it (`@TimeoutSignal()`), since entering an async context costs on every request.
 */
export const handlerInvocations = new AsyncLocalStorage<Invocation>();
