/**
 * The dashboard page: one self-contained HTML document (inline style and script, the system font), so it works on a
 * closed network. It listens to `events` beside its own URL and redraws the four tables on every snapshot; names
 * are inserted as text, never as HTML.
 */
export const DASHBOARD_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>nest-resilience</title>
<style>
  :root { color-scheme: light dark; --ok: #2e7d32; --warn: #b26a00; --bad: #c62828; --muted: #777; }
  body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 1.5rem; }
  h1 { font-size: 1.3rem; margin: 0 0 .25rem; }
  h2 { font-size: 1.05rem; margin: 1.5rem 0 .5rem; }
  #status { color: var(--muted); }
  #status[data-live="true"]::before { content: "\\25CF "; color: var(--ok); }
  table { border-collapse: collapse; min-width: 40rem; }
  th, td { text-align: left; padding: .3rem .8rem .3rem 0; border-bottom: 1px solid #8883; vertical-align: top; }
  td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
  .state { font-weight: 600; }
  .state[data-state="closed"] { color: var(--ok); }
  .state[data-state="half_open"] { color: var(--warn); }
  .state[data-state="open"], .state[data-state="forced_open"] { color: var(--bad); }
  .state[data-state="disabled"] { color: var(--muted); }
  .transitions { color: var(--muted); font-size: .85rem; margin: 0; padding: 0; list-style: none; }
  .refused { color: var(--bad); font-weight: 600; }
  .empty { color: var(--muted); }
</style>
</head>
<body>
<h1>nest-resilience</h1>
<div id="status">connecting</div>

<h2>Circuit breakers</h2>
<table id="breakers"><thead><tr><th>name</th><th>state</th><th class="num">calls</th>
<th class="num">failure rate</th><th class="num">slow-call rate</th><th>last transitions</th></tr></thead>
<tbody></tbody></table>

<h2>Bulkheads</h2>
<table id="bulkheads"><thead><tr><th>name</th><th class="num">active</th><th class="num">queued</th></tr></thead>
<tbody></tbody></table>

<h2>Rate limits</h2>
<table id="rate-limits"><thead><tr><th>name</th><th>rule</th><th class="num">allowed</th>
<th class="num">refused</th><th class="num">refused since last update</th></tr></thead>
<tbody></tbody></table>

<h2>Targets</h2>
<table id="targets"><thead><tr><th>target</th><th class="num">p50 ms</th><th class="num">p95 ms</th>
<th class="num">p99 ms</th><th class="num">calls/s</th><th>outcomes</th></tr></thead>
<tbody></tbody></table>

<script>
(function () {
  'use strict';
  var previousRefused = {};

  function cell(row, text, className) {
    var td = document.createElement('td');
    td.textContent = text;
    if (className) td.className = className;
    row.appendChild(td);
    return td;
  }

  function fill(id, items, columns, key) {
    var body = document.querySelector('#' + id + ' tbody');
    var rows = document.createDocumentFragment();
    items.forEach(function (item) {
      var row = document.createElement('tr');
      row.setAttribute('data-name', item[key]);
      columns(row, item);
      rows.appendChild(row);
    });
    if (items.length === 0) {
      var row = document.createElement('tr');
      var td = cell(row, 'none', 'empty');
      td.colSpan = document.querySelectorAll('#' + id + ' th').length;
      rows.appendChild(row);
    }
    body.replaceChildren(rows);
  }

  function percent(value) { return (Math.round(value * 10) / 10) + ' %'; }
  function time(at) { return new Date(at).toLocaleTimeString(); }
  // An idle target (no call in the window) has no percentiles: null, not 0 ms.
  function latency(ms) { return ms === null ? 'no data' : String(ms); }

  function draw(snapshot) {
    fill('breakers', snapshot.breakers, function (row, breaker) {
      cell(row, breaker.name);
      cell(row, breaker.state.replace('_', ' '), 'state').setAttribute('data-state', breaker.state);
      cell(row, String(breaker.calls), 'num');
      cell(row, percent(breaker.failureRate), 'num');
      cell(row, percent(breaker.slowCallRate), 'num');
      var list = document.createElement('ul');
      list.className = 'transitions';
      breaker.transitions.slice(0, 3).forEach(function (t) {
        var item = document.createElement('li');
        item.textContent = time(t.at) + ' ' + t.from + ' \\u2192 ' + t.to + ' (' + t.reason + ')';
        list.appendChild(item);
      });
      row.appendChild(document.createElement('td')).appendChild(list);
    }, 'name');
    fill('bulkheads', snapshot.bulkheads, function (row, bulkhead) {
      cell(row, bulkhead.name);
      cell(row, bulkhead.active + ' / ' + bulkhead.maxConcurrent, 'num');
      cell(row, bulkhead.queued + ' / ' + bulkhead.maxQueue, 'num');
    }, 'name');
    fill('rate-limits', snapshot.rateLimits, function (row, limit) {
      var before = previousRefused[limit.name];
      var recent = before === undefined ? 0 : limit.refused - before;
      previousRefused[limit.name] = limit.refused;
      cell(row, limit.name);
      cell(row, limit.limit + ' per ' + limit.interval + ' ms');
      cell(row, String(limit.allowed), 'num');
      cell(row, String(limit.refused), 'num');
      cell(row, String(recent), recent > 0 ? 'num refused' : 'num');
    }, 'name');
    fill('targets', snapshot.targets, function (row, target) {
      cell(row, target.name);
      cell(row, latency(target.p50), 'num');
      cell(row, latency(target.p95), 'num');
      cell(row, latency(target.p99), 'num');
      cell(row, String(target.callsPerSecond), 'num');
      var outcomes = Object.keys(target.outcomes).filter(function (k) { return target.outcomes[k] > 0; });
      cell(row, outcomes.map(function (k) { return k + ' ' + target.outcomes[k]; }).join(', ') || 'no call yet');
    }, 'name');
  }

  var status = document.getElementById('status');
  var source = new EventSource(location.pathname.replace(/\\/$/, '') + '/events');
  source.onmessage = function (message) {
    draw(JSON.parse(message.data));
    status.textContent = 'live, updated ' + new Date().toLocaleTimeString();
    status.setAttribute('data-live', 'true');
  };
  source.onerror = function () {
    status.textContent = 'reconnecting';
    status.setAttribute('data-live', 'false');
  };
})();
</script>
</body>
</html>
`;
