// The watch page: chapters that jump within the continuous HLS stream
// (browsers with native HLS: Chromium, Safari), or a sequential MP4
// playlist where there is no native HLS.
(function () {
  'use strict';
  var video = document.getElementById('player');
  if (!video) return;
  var buttons = Array.prototype.slice.call(document.querySelectorAll('button.chapter'));
  var now = document.getElementById('now');
  var native = video.canPlayType('application/vnd.apple.mpegurl') !== '';
  var current = -1;

  function mark(i) {
    if (i === current) return;
    current = i;
    buttons.forEach(function (b, j) {
      if (j === i) b.setAttribute('aria-current', 'true'); else b.removeAttribute('aria-current');
    });
    if (i >= 0) now.textContent = (now.dataset.template || '%s').replace('%s', buttons[i].dataset.title || '');
  }

  // While a premiere is on, live.js has the player (data-premiere is
  // "live") and the chapters here stand aside; it hands the player back
  // with a presession:recorded event once the premiere is over.
  function onAir() { return video.dataset.premiere === 'live'; }
  var started = false, reload = null;
  video.addEventListener('presession:recorded', function () {
    if (!started) start(); else if (reload) reload();
  });
  if (!onAir()) start();

  function start() {
    started = true;
    if (native) {
      // Safari lists the stream's own subtitle renditions: drop ours then.
      video.addEventListener('loadedmetadata', function () {
        var ours = video.querySelectorAll('track[data-stream]');
        if (video.textTracks.length > ours.length) {
          Array.prototype.forEach.call(ours, function (t) { t.remove(); });
        }
      });
      video.addEventListener('timeupdate', function () {
        if (onAir()) return;
        var t = video.currentTime, i = 0;
        for (var j = 0; j < buttons.length; j++) {
          if (t + 0.05 >= parseFloat(buttons[j].dataset.start)) i = j;
        }
        mark(i);
      });
      buttons.forEach(function (b, i) {
        b.addEventListener('click', function () {
          if (onAir()) return;
          video.currentTime = parseFloat(b.dataset.start);
          mark(i);
          var p = video.play();
          if (p && p.catch) p.catch(function () {});
        });
      });
      return;
    }

    // No native HLS: play the statements' MP4s one after the other, with
    // each statement's own caption files as tracks.
    function load(i, play) {
      var b = buttons[i];
      Array.prototype.forEach.call(video.querySelectorAll('track'), function (t) { t.remove(); });
      video.removeAttribute('src');
      video.src = b.dataset.mp4;
      if (b.dataset.poster) video.poster = b.dataset.poster;
      var caps = [];
      try { caps = JSON.parse(b.dataset.captions || '[]'); } catch (e) { caps = []; }
      caps.forEach(function (c) {
        var t = document.createElement('track');
        t.kind = 'subtitles'; t.srclang = c.language; t.label = c.name; t.src = c.url;
        video.appendChild(t);
      });
      mark(i);
      if (play) {
        var p = video.play();
        if (p && p.catch) p.catch(function () {});
      }
    }
    video.addEventListener('ended', function () {
      if (!onAir() && current + 1 < buttons.length) load(current + 1, true);
    });
    buttons.forEach(function (b, i) {
      b.addEventListener('click', function () { if (!onAir()) load(i, true); });
    });
    reload = function () { current = -1; load(0, false); };
    load(0, false);
  }
})();
