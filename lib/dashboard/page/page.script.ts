/**
 * The page's behaviour: draws the embedded snapshot at once, then every update of the feed. Rows are kept by name
 * and updated in place, charts only while on screen (see `npm run bench:dashboard`); trends are appended, never
 * sent twice. Times on the page come from durations the server measured (`agoMs`, `probeInMs`), so a browser clock
 * that is off does not move them. Browser code in a string: no template literal, no `${`.
 */
export const PAGE_SCRIPT = String.raw`
(function () {
  'use strict';
  var state = JSON.parse(document.getElementById('initial-state').textContent);
  var csrfMeta = document.querySelector('meta[name="resilience-csrf"]');
  var base = location.pathname.replace(/\/$/, '');
  var trends = { seq: 0, targets: {}, bulkheads: {}, rateLimits: {} };
  var countdowns = []; // { node, deadline } in performance.now() time
  var tables = {};

  function text(node, value) { if (node.textContent !== value) node.textContent = value; }
  function pct(v) { return v === null || v === undefined ? 'no data' : (Math.round(v * 1000) / 10) + ' %'; }
  function pctOf100(v) { return (Math.round(v * 10) / 10) + ' %'; }
  function ms(v) { return v === null || v === undefined ? 'no data' : String(Math.round(v * 10) / 10); }
  function duration(msValue) {
    var s = Math.max(0, Math.round(msValue / 1000));
    if (s < 90) return s + ' s';
    var m = Math.floor(s / 60);
    return m < 90 ? m + ' min ' + (s % 60) + ' s' : Math.floor(m / 60) + ' h ' + (m % 60) + ' min';
  }
  function nameOf(s) { return s.replace('_', ' '); }

  // Keeps one row per item, by name: created once, updated in place, removed when gone.
  function sync(id, items, create, update) {
    var table = tables[id] || (tables[id] = { rows: new Map(), body: document.querySelector('#' + id + ' tbody') });
    var seen = new Set();
    var changed = false;
    items.forEach(function (item) {
      var key = item.name;
      seen.add(key);
      var row = table.rows.get(key);
      if (!row) {
        var tr = document.createElement('tr');
        tr.setAttribute('data-name', key);
        row = { tr: tr, refs: create(tr, item) };
        table.rows.set(key, row);
        changed = true;
      }
      update(row.refs, item, row.tr);
    });
    table.rows.forEach(function (row, key) { if (!seen.has(key)) { table.rows.delete(key); changed = true; } });
    if (changed || !table.drawn) {
      table.drawn = true;
      var nodes = [];
      table.rows.forEach(function (row) { nodes.push(row.tr); });
      if (nodes.length === 0) {
        var empty = document.createElement('tr');
        var td = document.createElement('td');
        td.className = 'empty';
        td.colSpan = document.querySelectorAll('#' + id + ' th').length;
        td.textContent = 'none';
        empty.appendChild(td);
        nodes.push(empty);
      }
      table.body.replaceChildren.apply(table.body, nodes);
    }
  }

  function cells(tr, count, numeric) {
    var out = [];
    for (var i = 0; i < count; i++) {
      var td = document.createElement('td');
      if (numeric && numeric.indexOf(i) >= 0) td.className = 'num';
      tr.appendChild(td);
      out.push(td);
    }
    return out;
  }

  // Appends the samples after the ones we have; a gap (a reconnect after more than one sample) is drawn as a gap.
  function mergeTrends(t) {
    var gap = trends.seq > 0 && t.from > trends.seq + 1 ? Math.min(SPAN, t.from - trends.seq - 1) : 0;
    ['targets', 'bulkheads', 'rateLimits'].forEach(function (group) {
      Object.keys(t[group]).forEach(function (name) {
        var mine = trends[group][name] || (trends[group][name] = {});
        var theirs = t[group][name];
        Object.keys(theirs).forEach(function (series) {
          var list = mine[series] || (mine[series] = []);
          for (var i = 0; i < gap; i++) list.push(null);
          var fresh = theirs[series];
          if (t.seq <= trends.seq) return;
          var skip = Math.max(0, trends.seq + 1 - t.from);
          for (var j = skip; j < fresh.length; j++) list.push(fresh[j]);
          if (list.length > SPAN) list.splice(0, list.length - SPAN);
        });
      });
    });
    if (t.seq > trends.seq) trends.seq = t.seq;
  }

  // Health over the last 10 samples: idle (no call), bad (a quarter failed), warn (any failure or fallback), ok.
  function health(series) {
    var calls = 0, failed = 0, fellBack = 0;
    var n = series && series.calls ? series.calls.length : 0;
    for (var i = Math.max(0, n - 10); i < n; i++) {
      var c = series.calls[i] || 0;
      calls += c;
      failed += c * (series.errors[i] || 0);
      fellBack += c * (series.fallbacks[i] || 0);
    }
    var rate = calls ? failed / calls : null;
    var kind = calls === 0 ? 'idle' : rate >= 0.25 ? 'bad' : rate > 0 || fellBack > 0 ? 'warn' : 'ok';
    return { kind: kind, perSecond: calls / Math.max(1, Math.min(10, n)), errors: rate,
      fallbacks: calls ? fellBack / calls : null };
  }

  var HEALTH_TEXT = { ok: 'healthy', warn: 'degraded', bad: 'failing', idle: 'no calls' };

  function healthOf(targets) {
    var healths = {};
    targets.forEach(function (t) { healths[t.name] = health(trends.targets[t.name]); });
    return healths;
  }

  function drawTargets(targets, healths) {
    var busiest = 0;
    targets.forEach(function (t) { busiest = Math.max(busiest, healths[t.name].perSecond); });
    sync('targets', targets, function (tr) {
      var c = cells(tr, 10, [2, 3, 4, 5]);
      var g = glyph();
      var label = document.createElement('span');
      label.className = 'label';
      c[0].append(g, ' ', label);
      var calls = sparkline(['calls'], 'calls per second');
      var rates = sparkline(['errors', 'fallbacks'], 'error rate (red) and fallback rate (purple)');
      var latency = sparkline(['p50', 'p99'], 'p50 (purple) and p99 (red) latency');
      c[6].appendChild(calls); c[7].appendChild(rates); c[8].appendChild(latency);
      return { c: c, circle: g.firstChild, label: label, calls: calls, rates: rates, latency: latency };
    }, function (r, t, tr) {
      var h = healths[t.name];
      tr.setAttribute('data-health', h.kind);
      r.circle.setAttribute('r', String(busiest > 0 && h.perSecond > 0 ? 4 + 8 * Math.sqrt(h.perSecond / busiest) : 4));
      text(r.label, HEALTH_TEXT[h.kind]);
      text(r.c[1], t.name);
      text(r.c[2], h.perSecond ? String(Math.round(h.perSecond * 10) / 10) : '0');
      text(r.c[3], pct(h.errors));
      text(r.c[4], pct(h.fallbacks));
      text(r.c[5], ms(t.p50) + ' / ' + ms(t.p99));
      var series = trends.targets[t.name] || {};
      drawSpark(r.calls, series);
      drawSpark(r.rates, series, 1);
      drawSpark(r.latency, series);
      var outcomes = Object.keys(t.outcomes).filter(function (k) { return t.outcomes[k] > 0; });
      text(r.c[9], outcomes.map(function (k) { return nameOf(k) + ' ' + t.outcomes[k]; }).join(', ') || 'no call yet');
    });
  }

  function actionButton(label, path) {
    var b = document.createElement('button');
    b.type = 'button';
    b.textContent = label;
    b.addEventListener('click', function () {
      b.disabled = true;
      fetch(base + '/actions/' + path, { method: 'POST', credentials: 'same-origin',
        headers: { 'x-resilience-csrf': csrfMeta.content } }).then(function (answer) {
        b.disabled = false;
        if (!answer.ok) alert(label + ' failed: HTTP ' + answer.status);
      }, function () { b.disabled = false; });
    });
    return b;
  }

  function drawBreakers(breakers, receivedAt) {
    countdowns = [];
    sync('breakers', breakers, function (tr, b) {
      var c = cells(tr, 9, [3, 4, 5]);
      c[1].className = 'state';
      c[2].className = 'countdown';
      var line = timeline();
      c[6].appendChild(line);
      var list = document.createElement('ul');
      list.className = 'transitions';
      c[7].appendChild(list);
      c[8].className = 'actions';
      if (csrfMeta) {
        var path = 'breakers/' + encodeURIComponent(b.name) + '/';
        c[8].append(actionButton('Force open', path + 'force-open'), ' ', actionButton('Close', path + 'close'), ' ',
          actionButton('Reset', path + 'reset'));
      } else c[8].textContent = 'off';
      return { c: c, line: line, list: list };
    }, function (r, b) {
      text(r.c[0], b.name);
      r.c[1].setAttribute('data-state', b.state);
      text(r.c[1], nameOf(b.state) + (b.openForMs !== undefined ? ' for ' + duration(b.openForMs) : ''));
      if (b.probeInMs !== undefined) countdowns.push({ node: r.c[2], deadline: receivedAt + b.probeInMs });
      else text(r.c[2], b.state === 'half_open' ? 'probing now' : b.state === 'forced_open' ? 'none (forced)' : '-');
      text(r.c[3], String(b.calls));
      text(r.c[4], pctOf100(b.failureRate));
      text(r.c[5], pctOf100(b.slowCallRate));
      drawTimeline(r.line, b);
      var items = b.transitions.slice(0, 3).map(function (t) {
        var li = document.createElement('li');
        li.textContent = clock(t.at) + ' ' + nameOf(t.from) + ' \u2192 ' + nameOf(t.to) + ' (' + t.reason + ')';
        return li;
      });
      r.list.replaceChildren.apply(r.list, items);
    });
    tick();
  }

  // The countdown to each open breaker's next probe, between updates too.
  function tick() {
    var now = performance.now();
    countdowns.forEach(function (c) {
      var left = c.deadline - now;
      c.node.setAttribute('data-ms', String(Math.max(0, Math.round(left))));
      text(c.node, left > 0 ? 'in ' + Math.ceil(left / 1000) + ' s' : 'probe due');
    });
  }

  function drawBulkheads(bulkheads) {
    sync('bulkheads', bulkheads, function (tr) {
      var c = cells(tr, 5, [1, 2, 3]);
      var chart = sparkline(['active', 'limit'], 'in flight (blue) against the limit (dashed)');
      c[4].appendChild(chart);
      return { c: c, chart: chart };
    }, function (r, b) {
      text(r.c[0], b.name);
      var adaptive = b.limit !== b.maxConcurrent ? ' (adaptive, max ' + b.maxConcurrent + ')' : '';
      text(r.c[1], b.active + ' / ' + b.limit + adaptive);
      text(r.c[2], b.queued + ' / ' + b.maxQueue);
      text(r.c[3], String(b.rejected));
      drawSpark(r.chart, trends.bulkheads[b.name] || {});
    });
  }

  function drawRateLimits(limits) {
    sync('rate-limits', limits, function (tr) {
      var c = cells(tr, 5, [2, 3]);
      var chart = sparkline(['allowed', 'refused'], 'allowed (blue) and refused (red) per second');
      c[4].appendChild(chart);
      return { c: c, chart: chart };
    }, function (r, l) {
      text(r.c[0], l.name);
      text(r.c[1], isNaN(l.limit) ? 'per request' : l.limit + ' per ' + duration(l.interval));
      text(r.c[2], String(l.allowed));
      text(r.c[3], String(l.refused));
      r.c[3].classList.toggle('refused', l.refused > 0);
      drawSpark(r.chart, trends.rateLimits[l.name] || {});
    });
  }

  function drawSimple(id, items, fill) {
    sync(id, items, function (tr, item) { return cells(tr, fill(null, item).length, null); }, function (c, item) {
      fill(null, item).forEach(function (value, i) {
        text(c[i], value);
        if (i > 0 && /^[\d.]/.test(value)) c[i].className = 'num';
      });
    });
  }

  function drawPolicies(s) {
    drawSimple('retry-budgets', s.retryBudgets, function (_, b) {
      return [b.name, String(b.calls), String(b.retries), String(b.available), String(b.exhausted)];
    });
    var shed = s.loadShedding;
    drawSimple('load-shedding', shed ? [Object.assign({ name: 'process' }, shed)] : [], function (_, l) {
      return [l.dropProbability > 0 ? 'shedding' : 'not shedding', String(Math.round(l.level * 100) / 100),
        pct(l.dropProbability), l.reason || 'none', String(l.shed.critical), String(l.shed.normal),
        String(l.shed.sheddable)];
    });
    if (!shed) text(document.querySelector('#load-shedding tbody td'), 'off (module option loadShedding)');
    var chaos = s.chaos;
    drawSimple('chaos', chaos.experiments, function (_, e) {
      return [e.name, chaos.paused ? 'paused' : running(e) ? 'running' : 'idle (rates 0)', pct(e.rates.fault),
        pct(e.rates.latency), pct(e.rates.outcome), String(e.injected.fault), String(e.injected.latency),
        String(e.injected.outcome)];
    });
    drawSimple('idempotency', s.idempotency, function (_, h) {
      return [h.name, String(h.inFlight), String(h.executed), String(h.replayed), String(h.conflicts),
        String(h.mismatches), String(h.storeErrors)];
    });
    drawSimple('outboxes', s.outboxes, function (_, o) {
      return [o.name, o.connected ? 'connected' : 'disconnected', String(o.depth), String(o.bytes), String(o.parked),
        String(o.sent), String(o.refused)];
    });
    drawSimple('dead-letters', s.deadLetters, function (_, q) {
      return [q.name, q.depth === null ? 'no data' : String(q.depth),
        q.oldestAgeMs === null ? (q.depth === 0 ? 'empty' : 'no data') : duration(q.oldestAgeMs) + ' ago',
        String(q.deadLettered), String(q.storeErrors)];
    });
  }

  function running(e) { return e.rates.fault > 0 || e.rates.latency > 0 || e.rates.outcome > 0; }

  var banner = document.getElementById('chaos-banner');
  var bannerText = document.createElement('span');
  banner.appendChild(bannerText);
  if (csrfMeta) banner.appendChild(actionButton('Pause chaos', 'chaos/pause'));

  function drawChaosBanner(chaos) {
    var live = chaos.paused ? [] : chaos.experiments.filter(running);
    banner.hidden = live.length === 0;
    text(bannerText, live.length === 0 ? '' : 'Chaos running: ' + live.map(function (e) {
      return e.name + ' (' + ['fault', 'latency', 'outcome'].filter(function (k) { return e.rates[k] > 0; })
        .map(function (k) { return k + ' ' + pct(e.rates[k]); }).join(', ') + ')';
    }).join('; ') + '. Failures may be injected on purpose.');
  }

  // "Is anything on fire?": what is failing, since when, what the library does, when it tries again.
  function drawSummary(s, healths) {
    var lines = [];
    s.breakers.forEach(function (b) {
      if (b.state !== 'open' && b.state !== 'half_open' && b.state !== 'forced_open') return;
      var why = b.transitions[0] ? ' (' + b.transitions[0].reason + ')' : '';
      lines.push('Breaker ' + b.name + ' is ' + nameOf(b.state) + why + ' since ' +
        (b.openForMs !== undefined ? clock(s.at - b.openForMs) : '?') + ': calls fail fast' +
        (b.state === 'open' ? ', next probe in ' + duration(b.probeInMs)
          : b.state === 'half_open' ? ', probing now' : ''));
    });
    s.targets.forEach(function (t) {
      var h = healths[t.name];
      if (h.kind === 'bad') lines.push(t.name + ' is failing: ' + pct(h.errors) + ' errors over the last 10 s');
    });
    if (s.loadShedding && s.loadShedding.dropProbability > 0) {
      lines.push('Shedding load: ' + pct(s.loadShedding.dropProbability) + ' of normal requests refused');
    }
    s.outboxes.forEach(function (o) {
      if (o.depth === 0 && o.connected) return;
      lines.push('Publisher ' + o.name + (o.connected ? '' : ': broker disconnected') +
        (o.depth > 0 ? ': ' + o.depth + ' messages wait in its outbox, sent when the broker takes them' : ''));
    });
    var summary = document.getElementById('summary');
    summary.setAttribute('data-fire', String(lines.length > 0));
    if (lines.length === 0) {
      summary.textContent = 'All clear: no breaker open, no target failing (' + s.targets.length + ' targets).';
      return;
    }
    var list = document.createElement('ul');
    lines.forEach(function (line) { list.appendChild(document.createElement('li')).textContent = line; });
    summary.replaceChildren(document.createTextNode('Attention:'), list);
  }

  function draw(s) {
    var receivedAt = performance.now();
    mergeTrends(s.trends);
    var healths = healthOf(s.targets);
    drawSummary(s, healths);
    drawChaosBanner(s.chaos);
    drawTargets(s.targets, healths);
    drawBreakers(s.breakers, receivedAt);
    drawBulkheads(s.bulkheads);
    drawRateLimits(s.rateLimits);
    drawPolicies(s);
    window.__dashboardDrawMs = performance.now() - receivedAt;
    window.__dashboardUpdates = (window.__dashboardUpdates || 0) + 1;
  }

  draw(state);
  setInterval(tick, 250);
  var status = document.getElementById('status');
  var source = new EventSource(base + '/events?since=' + trends.seq);
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
`;
