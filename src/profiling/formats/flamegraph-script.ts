/**
 * The script inside every flame graph SVG (flamegraph.ts): a constant. Nothing of the profile is
 * ever put into it — it reads the frames from the document (each frame's name from its
 * `<title>`, its place from data-o / data-n / data-d, the layout from #frames's data-*) and
 * writes names back only through textContent, so a frame name cannot become code or markup.
 *
 * What it does: hover shows the frame in the details line; click zooms to a frame (its
 * ancestors stay, full width and faded; everything else hides); "Reset Zoom" or Escape undoes
 * it; "Search" (or Ctrl-F / F3) asks for a regular expression (a plain substring when it does
 * not compile), paints the matching frames magenta and shows the share of samples they cover
 * (nested matches counted once). `window.flamegraph` exposes { search, clearSearch, zoom,
 * unzoom } for other scripts and tests.
 *
 * It must not contain the CDATA terminator (a test checks).
 */
export const FLAMEGRAPH_SCRIPT = String.raw`
(function () {
  'use strict';
  var NS = 'http://www.w3.org/2000/svg';
  var HIGHLIGHT = 'rgb(230,0,230)';
  var frames = document.getElementById('frames');
  if (!frames) return;
  var num = function (el, name) { return Number(el.getAttribute(name)); };
  var total = num(frames, 'data-total');
  var x0 = num(frames, 'data-x');
  var plotW = num(frames, 'data-w');
  var charW = num(frames, 'data-cw');
  var textDy = num(frames, 'data-ty');
  var details = document.getElementById('details');
  var matchedText = document.getElementById('matched');
  var unzoomBtn = document.getElementById('unzoom');
  var searchBtn = document.getElementById('search');
  var list = [];
  for (var el = frames.firstElementChild; el; el = el.nextElementSibling) list.push(el);
  var cache = new Map();
  var zoomed = null;
  var searching = null;

  function r2(v) { return String(Math.round(v * 100) / 100); }

  function data(g) {
    var d = cache.get(g);
    if (d) return d;
    var title = g.getElementsByTagName('title')[0];
    var label = title ? title.textContent : '';
    var cut = label.lastIndexOf(' (');
    d = {
      g: g,
      name: cut < 0 ? label : label.slice(0, cut),
      label: label,
      o: num(g, 'data-o'),
      n: num(g, 'data-n'),
      depth: num(g, 'data-d'),
      rect: g.getElementsByTagName('rect')[0],
      text: g.getElementsByTagName('text')[0] || null,
      fill: null
    };
    cache.set(g, d);
    return d;
  }

  function frameOf(target) {
    for (var e = target; e && e !== frames; e = e.parentNode) if (e.parentNode === frames) return e;
    return null;
  }

  // The same rule as fitLabel in flamegraph.ts: what fits at charW per character, '..' when cut.
  function fit(name, w) {
    var n = Math.floor((w - 6) / charW);
    if (n < 3) return '';
    if (name.length <= n) return name;
    var end = n - 2;
    var c = name.charCodeAt(end - 1);
    if (c >= 0xd800 && c <= 0xdbff) end--;
    return name.slice(0, end) + '..';
  }

  function place(d, x, w) {
    d.rect.setAttribute('x', r2(x));
    d.rect.setAttribute('width', r2(w));
    var s = fit(d.name, w);
    if (!d.text) {
      if (s === '') return;
      d.text = document.createElementNS(NS, 'text');
      d.text.setAttribute('y', r2(num(d.rect, 'y') + textDy));
      d.g.appendChild(d.text);
    }
    d.text.setAttribute('x', r2(x + 3));
    d.text.textContent = s;
  }

  function show(g, on) {
    if (on) g.classList.remove('hide'); else g.classList.add('hide');
  }

  function zoom(target) {
    var g = typeof target === 'string' ? widest(target) : target;
    if (!g || g.parentNode !== frames) return false;
    var f = data(g);
    var scale = plotW / f.n;
    for (var i = 0; i < list.length; i++) {
      var d = data(list[i]);
      if (d.depth >= f.depth && d.o >= f.o && d.o + d.n <= f.o + f.n) {
        show(d.g, true);
        d.g.classList.remove('parent');
        place(d, x0 + (d.o - f.o) * scale, d.n * scale);
      } else if (d.depth < f.depth && d.o <= f.o && d.o + d.n >= f.o + f.n) {
        show(d.g, true);
        d.g.classList.add('parent');
        place(d, x0, plotW);
      } else {
        show(d.g, false);
      }
    }
    zoomed = g;
    unzoomBtn.classList.remove('hide');
    return true;
  }

  function unzoom() {
    if (!zoomed) return;
    var scale = plotW / total;
    for (var i = 0; i < list.length; i++) {
      var d = data(list[i]);
      show(d.g, true);
      d.g.classList.remove('parent');
      place(d, x0 + d.o * scale, d.n * scale);
    }
    zoomed = null;
    unzoomBtn.classList.add('hide');
  }

  function widest(name) {
    var best = null;
    for (var i = 0; i < list.length; i++) {
      var d = data(list[i]);
      if (d.name === name && (!best || d.n > best.n)) best = d;
    }
    return best ? best.g : null;
  }

  function clearSearch() {
    for (var i = 0; i < list.length; i++) {
      var d = data(list[i]);
      if (d.fill !== null) { d.rect.setAttribute('fill', d.fill); d.fill = null; }
    }
    searching = null;
    matchedText.textContent = ' ';
    searchBtn.textContent = 'Search';
  }

  function search(term) {
    clearSearch();
    if (term === null || term === undefined || term === '') return null;
    term = String(term);
    var re = null;
    try { re = new RegExp(term); } catch (e) { re = null; }
    var hits = [];
    for (var i = 0; i < list.length; i++) {
      var d = data(list[i]);
      if (re ? re.test(d.name) : d.name.indexOf(term) >= 0) {
        d.fill = d.rect.getAttribute('fill');
        d.rect.setAttribute('fill', HIGHLIGHT);
        hits.push(d);
      }
    }
    // A match inside a matching frame is already counted by it: ranges at different depths nest.
    hits.sort(function (a, b) { return a.o - b.o || b.n - a.n; });
    var samples = 0;
    var end = -1;
    for (var j = 0; j < hits.length; j++) {
      if (hits[j].o >= end) { samples += hits[j].n; end = hits[j].o + hits[j].n; }
    }
    var percent = total > 0 ? (samples / total) * 100 : 0;
    searching = term;
    matchedText.textContent = 'Matched: ' + percent.toFixed(2) + '%';
    searchBtn.textContent = 'Reset Search';
    return { frames: hits.length, samples: samples, percent: percent };
  }

  function askSearch() {
    if (searching !== null) { clearSearch(); return; }
    var term = window.prompt('Search frames (a regular expression)', '');
    if (term) search(term);
  }

  frames.addEventListener('click', function (e) {
    var g = frameOf(e.target);
    if (g) zoom(g);
  });
  frames.addEventListener('mouseover', function (e) {
    var g = frameOf(e.target);
    if (g) details.textContent = data(g).label;
  });
  frames.addEventListener('mouseout', function () { details.textContent = ' '; });
  unzoomBtn.addEventListener('click', unzoom);
  searchBtn.addEventListener('click', askSearch);
  window.addEventListener('keydown', function (e) {
    if (e.key === 'F3' || ((e.ctrlKey || e.metaKey) && (e.key === 'f' || e.key === 'F'))) {
      e.preventDefault();
      askSearch();
    } else if (e.key === 'Escape') {
      clearSearch();
      unzoom();
    }
  });
  window.flamegraph = { search: search, clearSearch: clearSearch, zoom: zoom, unzoom: unzoom };
})();
`;
