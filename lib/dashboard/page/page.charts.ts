/**
 * The page's charts, drawn as inline SVG without a library: sparklines (right-aligned, one point per second, gaps
 * where nothing was measured), the breaker state timeline (one band per state, the transition on hover) and the
 * Hystrix-like health glyph. Browser code in a string: no template literal, no `${`.
 */
export const PAGE_CHARTS = String.raw`
var SVG = 'http://www.w3.org/2000/svg';
var SPAN = 300; // samples (and seconds) on every chart

function svgNode(name, attrs) {
  var node = document.createElementNS(SVG, name);
  for (var key in attrs) node.setAttribute(key, attrs[key]);
  return node;
}

// Charts are drawn only while on screen: with 200 targets most rows are scrolled away, and redrawing 600 paths a
// second would freeze the page. One off screen keeps its latest data and is drawn when it scrolls into view.
var onScreen = new WeakSet();
var pending = new WeakMap();
var watcher = new IntersectionObserver(function (entries) {
  entries.forEach(function (entry) {
    if (!entry.isIntersecting) { onScreen.delete(entry.target); return; }
    onScreen.add(entry.target);
    var later = pending.get(entry.target);
    if (later) { pending.delete(entry.target); drawSpark(entry.target, later[0], later[1]); }
  });
}, { rootMargin: '200px' });

// An empty sparkline with one path per series (class s-<series>); title says what it shows and its window.
function sparkline(series, label) {
  var svg = svgNode('svg', { class: 'spark', viewBox: '0 0 ' + SPAN + ' 30', width: '150', height: '30',
    preserveAspectRatio: 'none', role: 'img', 'aria-label': label + ', last 5 minutes' });
  svg.appendChild(svgNode('title', {})).textContent = label + ', last 5 minutes';
  series.forEach(function (name) { svg.appendChild(svgNode('path', { class: 's-' + name, 'data-series': name })); });
  watcher.observe(svg);
  return svg;
}

// The path of one series: the last value at the right edge; null breaks the line.
function pathOf(values, max) {
  var d = '';
  var pen = false;
  var n = values.length;
  for (var i = 0; i < n; i++) {
    var v = values[i];
    if (v === null || v === undefined) { pen = false; continue; }
    var x = SPAN - (n - 1 - i);
    var y = 29 - (max > 0 ? (v / max) * 27 : 0);
    d += (pen ? 'L' : 'M') + x + ' ' + (Math.round(y * 10) / 10);
    pen = true;
  }
  return d;
}

function seriesMax(lists) {
  var max = 0;
  lists.forEach(function (values) { values.forEach(function (v) { if (v !== null && v > max) max = v; }); });
  return max;
}

// Redraws a sparkline from { series: values }; scale shared by its series (or fixed, for rates: 1).
function drawSpark(svg, data, fixedMax) {
  if (!onScreen.has(svg)) { pending.set(svg, [data, fixedMax]); return; }
  var paths = svg.querySelectorAll('path');
  var lists = [];
  paths.forEach(function (p) { lists.push(data[p.getAttribute('data-series')] || []); });
  var max = fixedMax || seriesMax(lists);
  paths.forEach(function (p, i) { p.setAttribute('d', pathOf(lists[i], max)); });
  svg.setAttribute('data-points', String(lists[0] ? lists[0].length : 0));
}

// Bands of a breaker's states over the last 5 minutes, from its transitions (newest first, with agoMs).
function drawTimeline(svg, breaker) {
  var spanMs = SPAN * 1000;
  var bands = [];
  var end = 0; // ms ago where the current band ends (0: now)
  var state = breaker.state;
  for (var i = 0; i < breaker.transitions.length; i++) {
    var t = breaker.transitions[i];
    var start = Math.min(t.agoMs, spanMs);
    bands.push({ state: state, from: start, to: end, title: state.replace('_', ' ') + ' since ' + clock(t.at) +
      ' (' + t.from.replace('_', ' ') + ' \u2192 ' + t.to.replace('_', ' ') + ': ' + t.reason + ')' });
    if (t.agoMs >= spanMs) { state = null; break; }
    end = start;
    state = t.from;
  }
  if (state !== null) bands.push({ state: state, from: spanMs, to: end, title: state.replace('_', ' ') +
    (breaker.transitions.length ? ' before' : ' for the last 5 minutes') });
  var nodes = [svgNode('title', {})];
  nodes[0].textContent = 'state timeline, last 5 minutes';
  bands.forEach(function (band) {
    var x = SPAN - band.from / 1000;
    var rect = svgNode('rect', { class: 'band-' + band.state, 'data-state': band.state, x: String(x), y: '0',
      width: String(Math.max(0.5, (band.from - band.to) / 1000)), height: '16' });
    rect.appendChild(svgNode('title', {})).textContent = band.title;
    nodes.push(rect);
  });
  svg.replaceChildren.apply(svg, nodes);
}

function timeline() {
  return svgNode('svg', { class: 'timeline', viewBox: '0 0 ' + SPAN + ' 16', width: '150', height: '16',
    preserveAspectRatio: 'none', role: 'img', 'aria-label': 'state timeline, last 5 minutes' });
}

// Hystrix's circle: size = volume (relative to the busiest target), colour = health.
function glyph() {
  var svg = svgNode('svg', { class: 'glyph', width: '26', height: '26', viewBox: '0 0 26 26', 'aria-hidden': 'true' });
  svg.appendChild(svgNode('circle', { cx: '13', cy: '13', r: '4' }));
  return svg;
}

function clock(at) { return new Date(at).toLocaleTimeString(); }
`;
