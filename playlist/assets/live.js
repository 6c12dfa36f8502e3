// The watch page during a country's premiere (its slot in the
// programme): a countdown to the start, in the viewer's time zone; then
// the live stream, joined at the live edge, with a "live" indicator, a
// way back to the live point and the statement on air announced as it
// changes; once the last statement has played, the questions link and
// the recorded stream (watch.js takes the player back).
//
// It follows the premiere through live.json (the server's clock decides
// when it starts). The live stream plays with hls.js (served from this
// site) wherever the browser has Media Source Extensions, else with its
// own HLS (Safari on iPhone).
(function () {
  'use strict';
  var sec = document.getElementById('premiere');
  var video = document.getElementById('player');
  if (!sec || !video) return;
  var countdown = document.getElementById('countdown');
  var bar = document.getElementById('live-bar');
  var badge = document.getElementById('live-badge');
  var toLive = document.getElementById('to-live');
  var after = document.getElementById('after');
  var unsupported = document.getElementById('live-unsupported');
  var nowEl = document.getElementById('now');
  var buttons = Array.prototype.slice.call(document.querySelectorAll('button.chapter'));
  var native = video.canPlayType('application/vnd.apple.mpegurl') !== '';
  var start = new Date(sec.dataset.start).getTime();

  var offset = 0;      // the server's clock minus ours, ms
  var status = null;   // the last live.json
  var hls = null;      // the hls.js player, where there is no native HLS
  var live = false;    // the player holds the live stream
  var handed = false;  // the player went back to the recorded stream
  var current = -1;    // the statement on air, in status.statements
  var timer = 0;
  var tracks = [];     // the recorded stream's caption tracks, kept aside

  function serverNow() { return Date.now() + offset; }
  function pad(n) { return (n < 10 ? '0' : '') + n; }
  function clock(s) {
    s = Math.max(0, Math.ceil(s));
    var h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60, x = s % 60;
    return h ? h + ':' + pad(m) + ':' + pad(x) : m + ':' + pad(x);
  }
  function fill(tpl, s) { return (tpl || '%s').replace('%s', s); }
  function play() {
    var p = video.play();
    if (p && p.catch) p.catch(function () {}); // autoplay refused: the viewer presses play
  }

  function poll(delay) {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var sent = Date.now();
      fetch(sec.dataset.status, { credentials: 'same-origin', cache: 'no-store' })
        .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
        .then(function (st) {
          // The server's time, less half the round trip.
          offset = new Date(st.now).getTime() - (sent + Date.now()) / 2;
          status = st;
          apply(st);
        })
        .catch(function () { poll(5000); });
    }, delay || 0);
  }

  function apply(st) {
    sec.dataset.state = st.state;
    switch (st.state) {
      case 'scheduled':
        if (st.start) start = new Date(st.start).getTime();
        tick();
        break;
      case 'live':
        goLive(st);
        poll(10000);
        break;
      case 'ended':
        // The questions link shows at once. A viewer still watching plays
        // to the end (the playlists now end there) before the recording
        // takes the player; anyone else gets it now.
        countdown.hidden = true;
        after.hidden = false;
        if (live && !atEnd()) {
          poll(10000);
        } else {
          finish();
        }
        break;
      default:
        handBack();
    }
  }

  // The countdown, every second until the start, then live.json again.
  function tick() {
    var left = (start - serverNow()) / 1000;
    countdown.hidden = false;
    countdown.textContent = fill(countdown.dataset.template, clock(left));
    if (left <= 0) {
      poll(500);
      return;
    }
    clearTimeout(timer);
    timer = setTimeout(tick, Math.min(1000, Math.max(50, left * 1000 % 1000 || 1000)));
  }

  function loadHls(then) {
    if (window.Hls) { then(); return; }
    var s = document.createElement('script');
    s.src = '/watch/assets/hls.min.js';
    s.onload = then;
    s.onerror = then; // window.Hls stays undefined: goLive falls back
    document.head.appendChild(s);
  }

  function goLive(st) {
    countdown.hidden = true;
    if (live) return;
    var mse = !!(window.MediaSource || window.ManagedMediaSource);
    if (!mse && !native) {
      unsupported.hidden = false;
      handBack();
      return;
    }
    live = true;
    video.dataset.premiere = 'live'; // watch.js stands aside
    video.pause();
    bar.hidden = false;
    // The recorded stream's caption files do not fit the live one.
    tracks = Array.prototype.slice.call(video.querySelectorAll('track'));
    var modes = tracks.map(function (t) { return t.track ? t.track.mode : 'disabled'; });
    tracks.forEach(function (t) { t.remove(); });
    video.removeAttribute('poster');
    // hls.js wherever it can play (Media Source Extensions): Chromium's
    // own HLS cannot seek in a live stream and, at the edge, may start
    // over a few segments back; the browser's own HLS where hls.js cannot
    // (Safari on iPhone).
    if (!mse) {
      nativeLive(st, modes);
      return;
    }
    video.removeAttribute('src');
    loadHls(function () {
      if (!window.Hls || !window.Hls.isSupported()) {
        if (native) { nativeLive(st, modes); return; }
        unsupported.hidden = false;
        handBack();
        return;
      }
      hls = new window.Hls({ enableWorker: false, liveSyncDurationCount: 2, startPosition: -1 });
      window.presessionHls = hls; // for the end-to-end tests
      hls.on(window.Hls.Events.MANIFEST_PARSED, function () {
        // Captions as the viewer had them on the recorded stream, else in
        // the page's language.
        var want = document.documentElement.lang;
        tracks.forEach(function (t, i) { if (modes[i] === 'showing') want = t.srclang; });
        hls.subtitleTracks.forEach(function (t, i) { if (t.lang === want && hls.subtitleTrack < 0) hls.subtitleTrack = i; });
        play();
      });
      hls.loadSource(st.hls);
      hls.attachMedia(video);
    });
  }

  // nativeLive plays the live stream with the browser's own HLS. Where it
  // does not show the stream's subtitle group, the premiere's
  // whole-stream caption tracks take the recorded ones' place (Safari,
  // which lists the group itself, drops them again).
  function nativeLive(st, modes) {
    var ours = [];
    tracks.forEach(function (t, i) {
      if (!t.dataset.live) return;
      var n = document.createElement('track');
      n.kind = t.kind; n.srclang = t.srclang; n.label = t.label; n.src = t.dataset.live;
      n.dataset.liveTrack = '1';
      video.appendChild(n);
      if (n.track) n.track.mode = modes[i];
      ours.push(n);
    });
    video.src = st.hls;
    video.addEventListener('loadedmetadata', function () {
      if (video.textTracks.length > ours.length) ours.forEach(function (t) { t.remove(); });
      if (toEdge()) play();
    }, { once: true });
    video.load();
  }

  // clockPos is the moment of the premiere on air now, by the server's
  // clock: a segment is listed, whole, once its start has come.
  function clockPos() { return (serverNow() - start) / 1000; }
  // target is the stream's segment length, as live.json tells it.
  function target() { return status && status.target_duration || 6; }
  // edge is the live point the player can play at: hls.js's own (two
  // segments behind the newest), else as far behind the clock, so that a
  // player never waits at the end of what is listed and falls behind.
  function edge() {
    if (hls && hls.liveSyncPosition != null) return hls.liveSyncPosition;
    var s = video.seekable, c = clockPos() - 2 * target();
    if (s && s.length) c = Math.min(c, s.end(s.length - 1));
    return Math.max(0, c);
  }
  // toEdge puts the browser's own player at the edge; at the very start
  // it waits there until the edge has moved past the first moments.
  // It returns false while it waits (the player starts by itself).
  var hold = 0, holding = false;
  function toEdge() {
    var early = 2 * target() - clockPos();
    clearTimeout(hold);
    holding = false;
    if (!hls && early > 0) {
      holding = true;
      video.pause();
      if (video.currentTime > 0.5) video.currentTime = 0;
      hold = setTimeout(function () {
        holding = false;
        play();
        // The browser's player may jump to the newest segment by itself:
        // back to the edge, a few segments behind.
        video.addEventListener('playing', function () { toEdge(); }, { once: true });
      }, (early + 0.5) * 1000);
      return false;
    }
    var e = edge();
    if (isFinite(e) && e >= 0 && Math.abs(video.currentTime - e) > 1) video.currentTime = e;
    return true;
  }

  // atEnd: the player has reached the end of the premiere's last
  // statement (a browser's own HLS may stall there rather than end).
  function atEnd() {
    return video.ended || (status && status.duration > 0 && video.currentTime >= status.duration - 0.5);
  }

  // skipGap moves the browser's own player over a hole of a few tens of
  // milliseconds between two buffered ranges, where it would otherwise
  // wait for ever: at a statement's boundary the sound of one segment may
  // end a little before the next begins. hls.js does this itself.
  function skipGap() {
    if (!live || hls || video.paused || video.seeking) return;
    var b = video.buffered, t = video.currentTime;
    for (var i = 0; i + 1 < b.length; i++) {
      if (t >= b.start(i) && b.end(i) - t < 0.3 && b.start(i + 1) - b.end(i) < 1) {
        video.currentTime = b.start(i + 1) + 0.01;
        return;
      }
    }
  }

  function onTime() {
    if (!live || !status || !status.statements) return;
    if (status.state === 'ended' && atEnd()) { finish(); return; }
    if (video.readyState < 2 || video.seeking || holding) return; // a position in flux is not announced
    var t = video.currentTime, items = status.statements, i = -1;
    for (var j = 0; j < items.length; j++) if (t + 0.05 >= items[j].start) i = j;
    if (i !== current && i >= 0) {
      current = i;
      var it = items[i];
      nowEl.textContent = fill(nowEl.dataset.template, it.title + ' — ' + it.organisation);
      buttons.forEach(function (b) {
        if (b.dataset.id === it.id) b.setAttribute('aria-current', 'true'); else b.removeAttribute('aria-current');
      });
    }
    // A player keeps a few segments behind the newest one: beyond that the
    // viewer has gone back (or paused), and "back to live" helps.
    var behind = clockPos() - t;
    var atEdge = holding || (!video.paused && behind < 3 * target() + 1);
    badge.classList.toggle('at-edge', atEdge);
    var want = atEdge ? badge.dataset.live : fill(badge.dataset.behind, clock(Math.max(0, behind)));
    if (badge.textContent !== want) badge.textContent = want;
  }

  // finish shows what follows the premiere: the questions, the recording.
  function finish() {
    clearTimeout(timer);
    countdown.hidden = true;
    bar.hidden = true;
    after.hidden = false;
    handBack();
  }

  // handBack gives the player back to watch.js, on the recorded stream.
  function handBack() {
    if (handed) return;
    handed = true;
    clearTimeout(timer);
    var was = live;
    live = false;
    if (hls) { hls.destroy(); hls = null; }
    if (was) {
      Array.prototype.forEach.call(video.querySelectorAll('track[data-live-track]'), function (t) { t.remove(); });
      video.removeAttribute('src');
      tracks.forEach(function (t) { video.appendChild(t); });
      if (native && video.dataset.hls) video.src = video.dataset.hls;
      video.load();
    }
    video.dataset.premiere = 'recorded';
    video.dispatchEvent(new Event('presession:recorded'));
  }

  video.addEventListener('timeupdate', onTime);
  video.addEventListener('pause', onTime);
  video.addEventListener('ended', function () { if (live) finish(); });
  video.addEventListener('waiting', function () {
    if (live && status && status.state === 'ended' && atEnd()) finish(); else skipGap();
  });
  setInterval(skipGap, 500);
  toLive.addEventListener('click', function () { if (toEdge()) play(); onTime(); });
  // During the premiere a chapter jumps within the live stream, to a
  // statement that has aired.
  buttons.forEach(function (b) {
    b.addEventListener('click', function () {
      if (!live || !status || !status.statements) return;
      status.statements.forEach(function (it) {
        if (it.id === b.dataset.id && it.start <= edge()) { video.currentTime = it.start; play(); }
      });
    });
  });

  if (sec.dataset.state === 'ended') {
    after.hidden = false; // the page says so without a script; the player has the recording
  }
  poll(0);
})();
