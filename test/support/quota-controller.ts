import { Controller, Get, type Type } from '@nestjs/common';
import { RateLimit } from '../../lib/index.js';

/**
 * A controller whose `GET /quota` allows 10 requests a minute in total (one bucket, key `global`); a new class per app.
 */
export function quotaController(): Type {
  @Controller('quota')
  class QuotaController {
    @Get()
    @RateLimit({ limit: 10, interval: 60_000, key: 'global' })
    read() {
      return { ok: true };
    }
  }
  return QuotaController;
}
