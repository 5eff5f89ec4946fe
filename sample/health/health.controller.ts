import { Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { ResilienceRegistry } from '../../lib/index.js';
import { CircuitBreakerHealthIndicator } from '../../lib/health/index.js';

@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly breakers: CircuitBreakerHealthIndicator,
    private readonly registry: ResilienceRegistry,
  ) {}

  /** Every circuit breaker with its state and rates; `degraded` while one is open or half-open. */
  @Get('health')
  @HealthCheck()
  check() {
    return this.health.check([() => this.breakers.check('circuitBreakers')]);
  }

  /** Operator controls: `POST /breakers/gateway/reset` (or `force-open`, `disable`, `close`). */
  @Post('breakers/:name/:action')
  @HttpCode(204)
  control(@Param('name') name: string, @Param('action') action: 'reset' | 'force-open' | 'disable' | 'close') {
    const actions = {
      reset: () => this.registry.reset(name),
      'force-open': () => this.registry.forceOpen(name),
      disable: () => this.registry.disable(name),
      close: () => this.registry.close(name),
    };
    actions[action]();
  }
}
