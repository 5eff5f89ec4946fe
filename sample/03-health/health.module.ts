import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { CircuitBreakerHealthIndicator } from 'nest-resilience/health';
import { HealthController } from './health.controller.js';

/** `/health` from Terminus with every circuit breaker, and operator controls for the breakers. */
@Module({ imports: [TerminusModule], controllers: [HealthController], providers: [CircuitBreakerHealthIndicator] })
export class HealthModule {}
