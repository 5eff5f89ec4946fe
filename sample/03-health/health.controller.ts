import { Controller, Get, HttpCode, Param, ParseEnumPipe, Post } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { ResilienceRegistry } from 'nest-resilience';
import { CircuitBreakerHealthIndicator } from 'nest-resilience/health';

enum BreakerAction {
  Reset = 'reset',
  ForceOpen = 'force-open',
  Disable = 'disable',
  Close = 'close',
}

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
  control(@Param('name') name: string, @Param('action', new ParseEnumPipe(BreakerAction)) action: BreakerAction) {
    // An unknown action is a 400 (the pipe); an unknown breaker throws UnknownPolicyError, answered 404.
    const actions = {
      [BreakerAction.Reset]: () => this.registry.circuitBreakers.reset(name),
      [BreakerAction.ForceOpen]: () => this.registry.circuitBreakers.forceOpen(name),
      [BreakerAction.Disable]: () => this.registry.circuitBreakers.disable(name),
      [BreakerAction.Close]: () => this.registry.circuitBreakers.forceClose(name),
    };
    actions[action]();
  }
}
