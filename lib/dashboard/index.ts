export { ResilienceDashboardModule } from './resilience-dashboard.module.js';
export { DEFAULT_DASHBOARD_OPTIONS, type ResilienceDashboardOptions } from './dashboard.options.js';
export { DashboardFeed, type DashboardSnapshot, type DashboardTransition } from './dashboard.feed.js';
