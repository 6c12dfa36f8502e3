// The programme in the viewer's own time zone: the server writes every
// slot in Geneva time (which works without a script); this adds, next to
// it, the same moments in the browser's zone, in the page's language.
(function () {
  'use strict';
  var lang = document.documentElement.lang || 'en';
  var zone;
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  var day = new Intl.DateTimeFormat(lang, { weekday: 'short', day: 'numeric', month: 'long' });
  var hm = new Intl.DateTimeFormat(lang, { hour: '2-digit', minute: '2-digit' });
  var hmz = new Intl.DateTimeFormat(lang, { hour: '2-digit', minute: '2-digit', timeZoneName: 'short' });
  function fill(tpl, s) { return (tpl || '%s').replace('%s', s); }
  Array.prototype.forEach.call(document.querySelectorAll('[data-local]'), function (el) {
    var start = new Date(el.dataset.start);
    if (isNaN(start)) return;
    if (el.dataset.local === 'span') {
      var end = new Date(el.dataset.end);
      el.textContent = day.format(start) + ', ' + hm.format(start) + '–' + hmz.format(end);
    } else {
      el.textContent = fill(el.dataset.template, day.format(start) + ', ' + hmz.format(start));
    }
  });
  Array.prototype.forEach.call(document.querySelectorAll('.local-zone'), function (el) {
    el.textContent = fill(el.dataset.template, zone);
    el.hidden = false;
  });
})();
