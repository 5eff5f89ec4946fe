import type { DashboardSettings } from '../dashboard.options.js';
import type { DashboardSnapshot } from '../dashboard.feed.js';
import { PAGE_CHARTS } from './page.charts.js';
import { PAGE_SCRIPT } from './page.script.js';
import { PAGE_STYLE } from './page.style.js';

/** A table with its headings; the script fills the body, keyed by name. */
function table(id: string, caption: string, headings: readonly string[]): string {
  const cells = headings
    .map((heading) => (heading.startsWith('#') ? `<th class="num">${heading.slice(1)}</th>` : `<th>${heading}</th>`))
    .join('');
  return `<table id="${id}" aria-label="${caption}"><thead><tr>${cells}</tr></thead><tbody></tbody></table>`;
}

/** A section: heading, what the figures cover (every figure says its window), then the table. */
function section(id: string, title: string, window: string, headings: readonly string[]): string {
  const heading = `<h2>${title}</h2><p class="window">${window}</p>`;
  return `<section id="section-${id}">${heading}${table(id, title, headings)}</section>`;
}

const BODY = [
  section(
    'targets',
    'Targets',
    'Health and rates: the last 10 s. Percentiles: the sliding window (the last 30 to 60 s). ' +
      'Totals: since start. Charts: the last 5 minutes, one point per second.',
    [
      'health',
      'target',
      '#calls/s',
      '#errors',
      '#fallbacks',
      '#p50 / p99 ms',
      'calls/s',
      'error and fallback rate',
      'p50 / p99',
      'totals since start',
    ],
  ),
  section(
    'breakers',
    'Circuit breakers',
    "Calls and rates: the breaker's own sliding window. Timeline: the last " +
      '5 minutes (hover a band for the transition).',
    [
      'name',
      'state',
      'next probe',
      '#calls',
      '#failure rate',
      '#slow-call rate',
      'state, last 5 min',
      'last transitions',
      'actions',
    ],
  ),
  section(
    'bulkheads',
    'Bulkheads and adaptive limits',
    'Now, and the last 5 minutes (dashed: the limit). Rejected: ' + 'since start.',
    ['name', '#in flight / limit', '#queued', '#rejected', 'in flight vs limit'],
  ),
  section(
    'rate-limits',
    'Rate limits',
    'Totals: since start. Chart: allowed (blue) and refused (red) per second, ' + 'the last 5 minutes.',
    ['name', 'rule', '#allowed', '#refused', 'per second'],
  ),
  section('retry-budgets', 'Retry budgets', "Calls, retries and room: the budget's window. Refused: since start.", [
    'name',
    '#calls',
    '#retries',
    '#retries available',
    '#refused retries',
  ]),
  section('load-shedding', 'Load shedding', 'Level and drop probability: the last sample. Shed: since start.', [
    'state',
    '#level',
    '#drop probability',
    'signal',
    '#shed critical',
    '#shed normal',
    '#shed sheddable',
  ]),
  section('chaos', 'Chaos experiments', 'Rates: now. Injections: since start.', [
    'name',
    'state',
    '#fault rate',
    '#latency rate',
    '#outcome rate',
    '#injected faults',
    '#injected latency',
    '#injected outcomes',
  ]),
  section(
    'idempotency',
    'Idempotency',
    'Running: now. Executed, replayed, conflicts (409), mismatches (422) and store errors: since start, by this ' +
      'process.',
    ['handler', '#running', '#executed', '#replayed', '#conflicts', '#mismatches', '#store errors'],
  ),
  section(
    'outboxes',
    'Publisher outboxes',
    'Depth and bytes: as the outbox store last answered (a shared store counts every replica). Parked, sent and ' +
      'refused: since start, by this process.',
    ['publisher', 'broker', '#depth', '#bytes', '#parked', '#sent', '#refused'],
  ),
  section(
    'dead-letters',
    'Dead letters',
    'Depth and oldest: read once per second. Written and store errors: since ' + 'start, by this process.',
    ['queue', '#depth', '#oldest letter', '#written', '#store errors'],
  ),
].join('\n');

/**
 * The dashboard page: one self-contained HTML document (inline style and script, the system font, no external
 * resource), with the current state embedded as JSON so the first paint shows it; the script then listens to
 * `events` beside the page's URL. Names are inserted as text, never as HTML; `<` in the JSON is escaped so no name
 * can close the script element.
 */
export function renderDashboardPage(snapshot: DashboardSnapshot, settings: DashboardSettings): string {
  const initial = JSON.stringify(snapshot).replace(/</g, '\\u003c');
  const csrf = settings.actions ? `<meta name="resilience-csrf" content="${settings.csrfToken}">` : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${csrf}<title>nest-resilience dashboard</title>
<style>${PAGE_STYLE}</style>
</head>
<body>
<header><h1>nest-resilience</h1><div id="status">loaded, connecting</div></header>
<div id="chaos-banner" role="alert" hidden></div>
<div id="summary"></div>
<main>
${BODY}
</main>
<script id="initial-state" type="application/json">${initial}</script>
<script>${PAGE_CHARTS}${PAGE_SCRIPT}</script>
</body>
</html>
`;
}
