export { ResilienceDashboardModule } from './resilience-dashboard.module.js';
export { DEFAULT_DASHBOARD_OPTIONS, type ResilienceDashboardOptions } from './dashboard.options.js';
export {
  DashboardFeed,
  type DashboardBreaker,
  type DashboardDeadLetterQueue,
  type DashboardSnapshot,
  type DashboardTransition,
} from './dashboard.feed.js';
export type { DashboardTrends } from './dashboard.history.js';
