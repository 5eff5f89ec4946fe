import { Get, Header, Sse, type MessageEvent } from '@nestjs/common';
import { interval, map, startWith, type Observable } from 'rxjs';
import { DashboardFeed } from './dashboard.feed.js';
import { DASHBOARD_PAGE } from './dashboard.page.js';

/**
 * The page and its live feed. `ResilienceDashboardModule.forRoot()` makes a subclass per application with the
 * path and guards it was given (decorators need them when the class is declared).
 */
export class DashboardController {
  constructor(
    private readonly feed: DashboardFeed,
    private readonly intervalMs: number,
  ) {}

  /** The page: one self-contained HTML document, no external script, style or font. */
  @Get()
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('cache-control', 'no-store')
  page(): string {
    return DASHBOARD_PAGE;
  }

  /** Server-Sent Events: a snapshot at once, then every `intervalMs`; ends when the page goes away. */
  @Sse('events')
  events(): Observable<MessageEvent> {
    return interval(this.intervalMs).pipe(
      startWith(-1),
      map(() => ({ data: this.feed.snapshot() })),
    );
  }
}
