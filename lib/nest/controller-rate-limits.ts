import { Injectable } from '@nestjs/common';
import type { ResolvedRateLimit } from './policy-resolver.js';

/** Controller handler function -> its rate limit. Filled by the explorer at bootstrap, read by the guard. */
@Injectable()
export class ControllerRateLimits {
  private readonly byHandler = new WeakMap<object, ResolvedRateLimit>();

  set(handler: object, rateLimit: ResolvedRateLimit): void {
    this.byHandler.set(handler, rateLimit);
  }

  get(handler: object): ResolvedRateLimit | undefined {
    return this.byHandler.get(handler);
  }
}
