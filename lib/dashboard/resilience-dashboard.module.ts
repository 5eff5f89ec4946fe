import { randomBytes } from 'node:crypto';
import { Controller, Inject, Module, UseGuards, type DynamicModule } from '@nestjs/common';
import { ResilienceRegistry } from '../core/registry/resilience-registry.js';
import { DashboardController } from './dashboard.controller.js';
import type { DashboardSettings } from './dashboard.options.js';
import { DashboardFeed } from './dashboard.feed.js';
import { DashboardHistory } from './dashboard.history.js';
import { validateDashboardOptions, type ResilienceDashboardOptions } from './dashboard.options.js';

const DASHBOARD_SETTINGS = Symbol('nest-resilience:dashboard-settings');

/**
 * A live page of every circuit breaker, bulkhead, rate limit, retry budget, chaos experiment, dead-letter queue and
 * measured target, with five minutes of trends, updated over Server-Sent Events. Nothing is served unless you import
 * it; put it behind a guard that works in a browser (a session cookie or a signed link). Importing it turns call
 * metrics on.
 *
 * @example
 * ```ts
 * imports: [
 *   ResilienceModule.forRoot(),
 *   ResilienceDashboardModule.forRoot({ path: 'resilience', guards: [DashboardSessionGuard] }),
 * ]
 * ```
 */
@Module({})
export class ResilienceDashboardModule {
  /** Serves the page at `options.path` (default `/resilience`), its feed at `<path>/events`, its actions if enabled. */
  static forRoot(options: ResilienceDashboardOptions = {}): DynamicModule {
    const { path, intervalMs, guards, actions } = validateDashboardOptions(options);

    @Controller(path)
    @UseGuards(...guards)
    class ResilienceDashboardController extends DashboardController {
      constructor(
        feed: DashboardFeed,
        registry: ResilienceRegistry,
        @Inject(DASHBOARD_SETTINGS) settings: DashboardSettings,
      ) {
        super(feed, registry, settings);
      }
    }

    return {
      module: ResilienceDashboardModule,
      controllers: [ResilienceDashboardController],
      providers: [
        DashboardFeed,
        DashboardHistory,
        {
          provide: DASHBOARD_SETTINGS,
          // One token per application, made at bootstrap: it only proves the request came from the page served.
          useFactory: (): DashboardSettings => ({
            intervalMs,
            actions,
            csrfToken: randomBytes(18).toString('base64url'),
          }),
        },
      ],
    };
  }
}
