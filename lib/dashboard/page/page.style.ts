/**
 * The page's style: the system font, colours that keep at least 4.5:1 contrast on white (checked with axe-core),
 * state shown by text as well as colour.
 */
export const PAGE_STYLE = `
:root { color-scheme: light; --ok: #1b5e20; --warn: #8a4b00; --bad: #b71c1c; --muted: #555; --idle: #757575;
  --line: #d0d0d0; --band-closed: #c8e6c9; --band-open: #ef9a9a; --band-half_open: #ffe082; --band-forced_open: #e57373;
  --band-disabled: #e0e0e0; }
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 1rem 1.5rem; color: #1a1a1a;
  background: #fff; }
h1 { font-size: 1.3rem; margin: 0; display: inline; }
h2 { font-size: 1.05rem; margin: 1.25rem 0 .25rem; }
header { display: flex; gap: 1rem; align-items: baseline; flex-wrap: wrap; }
#status { color: var(--muted); }
#status[data-live="true"]::before { content: "\\25CF "; color: var(--ok); }
#summary { margin: .5rem 0; padding: .5rem .75rem; border-left: 4px solid var(--ok); background: #f4f9f4; }
#summary[data-fire="true"] { border-color: var(--bad); background: #fdf1f1; }
#summary ul { margin: .25rem 0 0; padding-left: 1.2rem; }
#chaos-banner { margin: .5rem 0; padding: .5rem .75rem; background: #4a148c; color: #fff; font-weight: 600; }
#chaos-banner button { margin-left: 1rem; }
.window { color: var(--muted); font-size: .85rem; margin: 0 0 .4rem; }
table { border-collapse: collapse; }
th, td { text-align: left; padding: .25rem .7rem .25rem 0; border-bottom: 1px solid var(--line);
  vertical-align: middle; }
th { font-weight: 600; font-size: .85rem; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.state { font-weight: 600; white-space: nowrap; }
.state[data-state="closed"], [data-health="ok"] .label { color: var(--ok); }
.state[data-state="half_open"], [data-health="warn"] .label { color: var(--warn); }
.state[data-state="open"], .state[data-state="forced_open"], [data-health="bad"] .label, .refused { color: var(--bad); }
.state[data-state="disabled"], [data-health="idle"] .label, .empty, .nodata { color: var(--muted); }
.countdown { font-variant-numeric: tabular-nums; white-space: nowrap; }
.transitions { color: var(--muted); font-size: .8rem; margin: 0; padding: 0; list-style: none; }
svg.spark, svg.timeline { display: block; overflow: visible; }
svg.spark path { fill: none; stroke-width: 1.5; vector-effect: non-scaling-stroke; }
.s-calls, .s-allowed, .s-active { stroke: #1565c0; }
.s-errors, .s-refused, .s-p99 { stroke: #c62828; }
.s-fallbacks, .s-p50 { stroke: #6a1b9a; }
.s-limit { stroke: #757575; stroke-dasharray: 3 2; }
.chart { display: flex; flex-direction: column; font-size: .7rem; color: var(--muted); }
.glyph circle { stroke: #0006; }
[data-health="ok"] .glyph circle { fill: #43a047; }
[data-health="warn"] .glyph circle { fill: #fb8c00; }
[data-health="bad"] .glyph circle { fill: #e53935; }
[data-health="idle"] .glyph circle { fill: #bdbdbd; }
.timeline rect.band-closed { fill: var(--band-closed); }
.timeline rect.band-open { fill: var(--band-open); }
.timeline rect.band-half_open { fill: var(--band-half_open); }
.timeline rect.band-forced_open { fill: var(--band-forced_open); }
.timeline rect.band-disabled { fill: var(--band-disabled); }
button { font: inherit; font-size: .8rem; padding: .1rem .5rem; }
button:focus-visible { outline: 3px solid #1565c0; outline-offset: 2px; }
.actions { white-space: nowrap; }
`;
