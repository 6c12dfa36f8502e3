// The staff programme page: refreshes what each premiere is showing and
// how many viewers watch it every 15 s from the programme's JSON, so that
// the page can stay open during the slots. Without it the page shows the
// state it was loaded with.
(function () {
  'use strict';
  var sections = document.querySelectorAll('section[data-programme]');
  if (!sections.length || !window.fetch) return;
  var labels = document.getElementById('programme-labels');
  if (!labels) return;
  function text(state, p) {
    var t = labels.dataset['state' + state.charAt(0).toUpperCase() + state.slice(1)] || state;
    if (state === 'live' && p.index) {
      t += ' ' + labels.dataset.now.replace('%d', p.index).replace('%d', p.of).replace('%s', p.title || '').replace('%s', p.organisation || '');
    }
    return t;
  }
  function refresh() {
    Array.prototype.forEach.call(sections, function (sec) {
      fetch(sec.dataset.programme, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (d) {
          if (!d) return;
          d.countries.forEach(function (c) {
            var row = sec.querySelector('tr[data-country="' + c.country + '"]');
            if (!row) return;
            var p = row.querySelector('[data-cell=playing]');
            var v = row.querySelector('[data-cell=viewers]');
            var st = c.playing && c.playing.state || 'none';
            var want = text(st, c.playing || {});
            if (p && p.textContent.replace(/\s+/g, ' ').trim() !== want) p.textContent = want;
            if (v && v.textContent !== String(c.viewers)) v.textContent = String(c.viewers);
          });
        })
        .catch(function () {});
    });
  }
  setInterval(refresh, 15000);
})();
