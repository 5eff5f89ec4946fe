import {
  ForbiddenException,
  Get,
  Header,
  Headers,
  HttpCode,
  NotFoundException,
  Param,
  Post,
  Query,
  Sse,
  type MessageEvent,
} from '@nestjs/common';
import { interval, map, startWith, type Observable } from 'rxjs';
import { ResilienceRegistry } from '../core/registry/resilience-registry.js';
import { DashboardFeed } from './dashboard.feed.js';
import { renderDashboardPage } from './page/page.markup.js';
import type { DashboardSettings } from './dashboard.options.js';

/** The header an action must carry: a custom header makes a cross-site form or `fetch` impossible without CORS. */
export const CSRF_HEADER = 'x-resilience-csrf';

const BREAKER_ACTIONS = {
  'force-open': (registry: ResilienceRegistry, name: string) => registry.circuitBreakers.forceOpen(name),
  close: (registry: ResilienceRegistry, name: string) => registry.circuitBreakers.forceClose(name),
  reset: (registry: ResilienceRegistry, name: string) => registry.circuitBreakers.reset(name),
} as const;

/**
 * The page, its live feed and the operator's actions. `ResilienceDashboardModule.forRoot()` makes a subclass per
 * application with the path and guards it was given (decorators need them when the class is declared), so every
 * route, actions included, goes through the same guards.
 */
export class DashboardController {
  constructor(
    private readonly feed: DashboardFeed,
    private readonly registry: ResilienceRegistry,
    private readonly settings: DashboardSettings,
  ) {}

  /** The page with the current state in it (drawn before any update arrives): no external script, style or font. */
  @Get()
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('cache-control', 'no-store')
  page(): string {
    return renderDashboardPage(this.feed.snapshot(), this.settings);
  }

  /**
   * Server-Sent Events: a snapshot at once, then every `intervalMs`; ends when the page goes away. Each carries the
   * trend samples the page does not have yet (after `since`, then after the last one sent on this connection).
   */
  @Sse('events')
  events(@Query('since') since?: string): Observable<MessageEvent> {
    let sent = Number.isSafeInteger(Number(since)) ? Math.max(0, Number(since)) : 0;
    return interval(this.settings.intervalMs).pipe(
      startWith(-1),
      map(() => {
        const snapshot = this.feed.snapshot(sent);
        sent = snapshot.trends.seq;
        return { data: snapshot };
      }),
    );
  }

  /** Force-opens (`force-open`), closes (`close`) or resets (`reset`) a breaker; 404 unless actions are enabled. */
  @Post('actions/breakers/:name/:action')
  @HttpCode(204)
  breakerAction(
    @Param('name') name: string,
    @Param('action') action: string,
    @Headers() headers: Record<string, string | undefined>,
  ): void {
    this.checkAction(headers);
    const run = Object.hasOwn(BREAKER_ACTIONS, action)
      ? BREAKER_ACTIONS[action as keyof typeof BREAKER_ACTIONS]
      : undefined;
    if (run === undefined) throw new NotFoundException(`Unknown breaker action "${action}"`);
    if (!this.registry.circuitBreakers.has(name)) throw new NotFoundException(`Unknown circuit breaker "${name}"`);
    run(this.registry, name);
  }

  /** Pauses (`pause`) or resumes (`resume`) every chaos experiment; 404 unless actions are enabled. */
  @Post('actions/chaos/:action')
  @HttpCode(204)
  chaosAction(@Param('action') action: string, @Headers() headers: Record<string, string | undefined>): void {
    this.checkAction(headers);
    if (action === 'pause') this.registry.chaos.pause();
    else if (action === 'resume') this.registry.chaos.resume();
    else throw new NotFoundException(`Unknown chaos action "${action}"`);
  }

  /**
   * Actions exist only when enabled; each needs the page's CSRF token in a custom header, and a browser's `Origin`
   * (when sent) must be this server: a page elsewhere cannot make the operator's browser act.
   */
  private checkAction(headers: Record<string, string | undefined>): void {
    if (!this.settings.actions) throw new NotFoundException('Dashboard actions are not enabled (option "actions")');
    if (headers[CSRF_HEADER] !== this.settings.csrfToken) {
      throw new ForbiddenException(`Missing or wrong ${CSRF_HEADER} header`);
    }
    const origin = headers.origin;
    if (origin !== undefined && origin !== 'null') {
      let host: string;
      try {
        host = new URL(origin).host;
      } catch {
        throw new ForbiddenException('Cross-origin action refused');
      }
      if (host !== headers.host) throw new ForbiddenException('Cross-origin action refused');
    } else if (origin === 'null') {
      throw new ForbiddenException('Cross-origin action refused');
    }
  }
}
