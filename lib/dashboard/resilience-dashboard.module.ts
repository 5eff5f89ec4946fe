import { Controller, Inject, Module, UseGuards, type DynamicModule } from '@nestjs/common';
import { DashboardController } from './dashboard.controller.js';
import { DashboardFeed } from './dashboard.feed.js';
import { validateDashboardOptions, type ResilienceDashboardOptions } from './dashboard.options.js';

const DASHBOARD_INTERVAL = Symbol('nest-resilience:dashboard-interval');

/**
 * A live page of every circuit breaker, bulkhead, rate limit and measured target, updated over Server-Sent Events.
 * Nothing is served unless you import it; put it behind a guard. Importing it turns call metrics on.
 *
 * @example
 * ```ts
 * imports: [
 *   ResilienceModule.forRoot(),
 *   ResilienceDashboardModule.forRoot({ path: 'resilience', guards: [AdminGuard] }),
 * ]
 * ```
 */
@Module({})
export class ResilienceDashboardModule {
  /** Serves the page at `options.path` (default `/resilience`) and its feed at `<path>/events`. */
  static forRoot(options: ResilienceDashboardOptions = {}): DynamicModule {
    const { path, intervalMs, guards } = validateDashboardOptions(options);

    @Controller(path)
    @UseGuards(...guards)
    class ResilienceDashboardController extends DashboardController {
      constructor(feed: DashboardFeed, @Inject(DASHBOARD_INTERVAL) every: number) {
        super(feed, every);
      }
    }

    return {
      module: ResilienceDashboardModule,
      controllers: [ResilienceDashboardController],
      providers: [DashboardFeed, { provide: DASHBOARD_INTERVAL, useValue: intervalMs }],
    };
  }
}
