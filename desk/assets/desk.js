// The review desk: one statement at a time, from the keyboard. Decisions
// and caption changes go through the staff API; the claim on the
// statement is renewed while the page is open and let go when it closes.
(function () {
  'use strict';

  var kit = window.presessionKit('desk-messages', 'presession-desk-flash', 'desk.js.failed');
  var msgs = kit.msgs, t = kit.t, announce = kit.announce, api = kit.api;
  kit.showFlash();

  function clock(s) {
    s = Math.max(0, Math.round(s));
    var m = Math.floor(s / 60), h = Math.floor(m / 60);
    var mm = h ? String(m % 60).padStart(2, '0') : String(m);
    return (h ? h + ':' : '') + mm + ':' + String(s % 60).padStart(2, '0');
  }

  // WebVTT times: "00:00:01.000" (hours optional, "," accepted).
  function vttTime(s) {
    var ms = Math.round(s * 1000);
    var h = Math.floor(ms / 3600000), m = Math.floor(ms / 60000) % 60, sec = Math.floor(ms / 1000) % 60;
    return String(h).padStart(2, '0') + ':' + String(m).padStart(2, '0') + ':' + String(sec).padStart(2, '0') + '.' + String(ms % 1000).padStart(3, '0');
  }
  function parseTime(v) {
    var m = /^\s*(?:(\d+):)?([0-5]?\d):([0-5]\d)(?:[.,](\d{1,3}))?\s*$/.exec(v);
    if (!m) return NaN;
    return (+(m[1] || 0)) * 3600 + (+m[2]) * 60 + (+m[3]) + (m[4] ? +m[4].padEnd(3, '0') / 1000 : 0);
  }

  var section = document.getElementById('statement');
  if (!section) return; // nothing to review: the page is a message
  var id = section.dataset.id;
  var title = section.dataset.title;
  var duration = parseFloat(section.dataset.duration) || 0;
  var video = document.getElementById('player');
  var scope = window.location.search;
  var nextURL = '/staff/review' + scope;
  var stURL = function (rest) { return '/api/v1/statements/' + encodeURIComponent(id) + rest; };
  var reviewURL = function (rest) { return '/api/v1/review/' + encodeURIComponent(id) + rest; };

  // --- The claim ------------------------------------------------------------
  var lost = false;
  // A page left open and untouched lets its statement go after a while,
  // so that an abandoned tab does not hold it back from the others.
  var idleMs = (parseInt(section.dataset.idleSeconds, 10) || 600) * 1000;
  var lastActive = Date.now();
  ['keydown', 'pointerdown', 'input'].forEach(function (type) {
    document.addEventListener(type, function () { lastActive = Date.now(); }, true);
  });
  function renew() {
    if (lost) return;
    if (!video.paused) lastActive = Date.now();
    if (Date.now() - lastActive > idleMs) {
      lost = true;
      window.clearInterval(renewal);
      api('POST', reviewURL('/release')).catch(function () { /* it lapses anyway */ });
      announce(t('desk.js.idle'), true);
      return;
    }
    api('POST', reviewURL('/claim')).catch(function (err) {
      if (err.status === 409 && !lost) {
        lost = true;
        announce(t('desk.js.claim_lost', err.message), true);
      }
    });
  }
  renew(); // at once: a reload's release may have reached the server after this page's claim
  var renewal = window.setInterval(renew, (parseInt(section.dataset.renewSeconds, 10) || 30) * 1000);
  var leaving = false;
  window.addEventListener('pagehide', function () {
    window.clearInterval(renewal);
    if (!leaving && navigator.sendBeacon) navigator.sendBeacon(reviewURL('/release'));
  });

  // --- Player ---------------------------------------------------------------
  var speedEl = document.getElementById('speed');
  var clockEl = document.getElementById('clock');
  function seek(to) {
    video.currentTime = Math.max(0, Math.min(duration || video.duration || 0, to));
  }
  function setSpeed(rate) {
    video.playbackRate = rate;
    speedEl.textContent = t('desk.js.speed', String(rate).replace('.', msgs['desk.js.decimal'] || '.') + '×');
  }
  function togglePlay() {
    if (video.paused) { video.play().catch(function () { /* blocked: the controls remain */ }); } else { video.pause(); }
  }

  // --- Timeline and findings ---------------------------------------------------
  var timeline = document.getElementById('timeline');
  var playhead = document.getElementById('playhead');
  var marks = timeline ? Array.prototype.slice.call(timeline.querySelectorAll('.mark')) : [];
  var findingStarts = marks.map(function (m) { return parseFloat(m.dataset.start); });
  marks.forEach(function (m) {
    var s = parseFloat(m.dataset.start), e = parseFloat(m.dataset.end);
    var total = duration || 1;
    m.style.left = (100 * s / total) + '%';
    m.style.width = Math.max(0.8, 100 * (e - s) / total) + '%';
  });
  function jumpTo(i) {
    seek(findingStarts[i]);
    var li = document.querySelectorAll('.findings li')[i];
    announce(t('desk.js.jumped', clock(findingStarts[i]), li ? li.textContent.replace(/\s+/g, ' ').trim() : ''));
  }
  function nextFinding(back) {
    if (!findingStarts.length) { announce(t('desk.js.no_findings')); return; }
    var now = video.currentTime, i;
    if (back) {
      for (i = findingStarts.length - 1; i >= 0 && findingStarts[i] >= now - 0.5; i--) { /* before the playhead */ }
      if (i < 0) i = findingStarts.length - 1;
    } else {
      for (i = 0; i < findingStarts.length && findingStarts[i] <= now + 0.25; i++) { /* after the playhead */ }
      if (i >= findingStarts.length) i = 0;
    }
    jumpTo(i);
  }
  document.addEventListener('click', function (ev) {
    var b = ev.target.closest('[data-finding]');
    if (b) { jumpTo(parseInt(b.dataset.finding, 10)); return; }
  });
  if (timeline) {
    timeline.querySelector('.timeline-track').addEventListener('click', function (ev) {
      var r = ev.currentTarget.getBoundingClientRect();
      seek((ev.clientX - r.left) / r.width * duration);
    });
  }

  // --- Storyboard: the sprite's tiles, click to jump ----------------------------
  var board = document.getElementById('storyboard');
  if (board) {
    fetch(board.dataset.src, { credentials: 'same-origin' }).then(function (r) { return r.ok ? r.text() : ''; }).then(function (text) {
      var base = board.dataset.src.replace(/[^/]*$/, '');
      var blocks = text.replace(/\r/g, '').split(/\n\n+/);
      blocks.forEach(function (b) {
        var m = /(\S+)\s+-->\s+(\S+)\n(\S+)#xywh=(\d+),(\d+),(\d+),(\d+)/.exec(b);
        if (!m) return;
        var tile = document.createElement('div');
        tile.className = 'tile';
        tile.style.backgroundImage = 'url("' + base + m[3] + '")';
        tile.style.backgroundPosition = '-' + m[4] + 'px -' + m[5] + 'px';
        tile.style.width = m[6] + 'px';
        tile.style.height = m[7] + 'px';
        var at = parseTime(m[1]);
        tile.dataset.at = at;
        tile.title = clock(at);
        tile.addEventListener('click', function () { seek(at); });
        board.appendChild(tile);
      });
    });
  }

  // --- Captions editor ------------------------------------------------------------
  var langSel = document.getElementById('cap-lang');
  var list = document.getElementById('cues');
  var cuesError = document.getElementById('cues-error');
  var cues = [];      // {start, end, text, id, settings}
  var dirty = false;
  var current = -1;

  function parseVTT(text) {
    var out = [];
    text.replace(/\r\n?/g, '\n').split(/\n\n+/).forEach(function (block) {
      var lines = block.split('\n').filter(function (l, i) { return i > 0 || l.trim() !== ''; });
      var ti = lines.findIndex(function (l) { return l.indexOf('-->') >= 0; });
      if (ti < 0) return;
      var m = /^\s*(\S+)\s+-->\s+(\S+)(.*)$/.exec(lines[ti]);
      if (!m) return;
      out.push({ id: ti > 0 ? lines[0] : '', start: parseTime(m[1]), end: parseTime(m[2]), settings: m[3].trim(),
        text: lines.slice(ti + 1).join('\n') });
    });
    return out;
  }

  function trackOf(lang) {
    for (var i = 0; i < video.textTracks.length; i++) {
      if (video.textTracks[i].language === lang) return video.textTracks[i];
    }
    return null;
  }
  function showTrack(lang) {
    for (var i = 0; i < video.textTracks.length; i++) {
      video.textTracks[i].mode = video.textTracks[i].language === lang ? 'showing' : 'disabled';
    }
    document.querySelectorAll('[data-track-state]').forEach(function (p) { p.hidden = p.dataset.trackState !== lang; });
  }

  function render() {
    list.textContent = '';
    if (!cues.length) {
      var empty = document.createElement('li');
      empty.className = 'muted';
      empty.textContent = t('desk.js.no_cues');
      list.appendChild(empty);
    }
    cues.forEach(function (c, i) {
      var li = document.createElement('li');
      li.dataset.index = i;
      var n = i + 1;
      var head = document.createElement('div');
      head.className = 'cue-times';
      [['start', 'desk.cue.start'], ['end', 'desk.cue.end']].forEach(function (f) {
        var wrap = document.createElement('div');
        var lab = document.createElement('label');
        lab.htmlFor = 'cue-' + i + '-' + f[0];
        lab.textContent = t(f[1], n);
        var inp = document.createElement('input');
        inp.type = 'text';
        inp.id = lab.htmlFor;
        inp.value = vttTime(c[f[0]]);
        inp.inputMode = 'decimal';
        inp.spellcheck = false;
        inp.dataset.field = f[0];
        inp.setAttribute('aria-describedby', 'cue-' + i + '-error');
        wrap.appendChild(lab);
        wrap.appendChild(inp);
        head.appendChild(wrap);
      });
      var rm = document.createElement('button');
      rm.type = 'button';
      rm.className = 'secondary';
      rm.dataset.remove = i;
      rm.textContent = t('desk.cue.remove', n);
      head.appendChild(rm);
      li.appendChild(head);
      var lab = document.createElement('label');
      lab.htmlFor = 'cue-' + i + '-text';
      lab.textContent = t('desk.cue.text', n);
      var ta = document.createElement('textarea');
      ta.id = lab.htmlFor;
      ta.rows = 2;
      ta.value = c.text;
      ta.dataset.field = 'text';
      ta.setAttribute('aria-describedby', 'cue-' + i + '-error');
      if (langSel) ta.lang = langSel.value;
      var err = document.createElement('p');
      err.className = 'field-error';
      err.id = 'cue-' + i + '-error';
      err.hidden = true;
      li.appendChild(lab);
      li.appendChild(ta);
      li.appendChild(err);
      list.appendChild(li);
    });
    current = -1;
    highlight();
  }

  function load(lang) {
    var opt = langSel.options[langSel.selectedIndex];
    showTrack(lang);
    return fetch(opt.dataset.url, { credentials: 'same-origin' }).then(function (r) {
      if (!r.ok) throw new Error(t('desk.js.failed', r.status));
      return r.text();
    }).then(function (text) {
      cues = parseVTT(text);
      dirty = false;
      render();
    }).catch(function (err) { announce(err.message, true); });
  }

  function highlight() {
    var now = video.currentTime, idx = -1;
    for (var i = 0; i < cues.length; i++) {
      if (now >= cues[i].start && now < cues[i].end) { idx = i; break; }
    }
    if (idx === current) return;
    var items = list.children;
    if (current >= 0 && items[current]) { items[current].classList.remove('current'); items[current].removeAttribute('aria-current'); }
    current = idx;
    if (idx >= 0 && items[idx]) {
      items[idx].classList.add('current');
      items[idx].setAttribute('aria-current', 'true');
      if (!items[idx].contains(document.activeElement)) items[idx].scrollIntoView({ block: 'nearest' });
    }
  }

  function cueError(i, text) {
    var el = document.getElementById('cue-' + i + '-error');
    if (!el) return;
    el.textContent = text || '';
    el.hidden = !text;
  }

  if (list) {
    list.addEventListener('input', function (ev) {
      var li = ev.target.closest('li[data-index]');
      if (!li) return;
      var i = parseInt(li.dataset.index, 10), f = ev.target.dataset.field;
      dirty = true;
      if (f === 'text') { cues[i].text = ev.target.value; return; }
      var v = parseTime(ev.target.value);
      ev.target.setAttribute('aria-invalid', isNaN(v) ? 'true' : 'false');
      if (!isNaN(v)) cues[i][f] = v;
    });
    list.addEventListener('click', function (ev) {
      var b = ev.target.closest('[data-remove]');
      if (!b) return;
      var i = parseInt(b.dataset.remove, 10);
      cues.splice(i, 1);
      dirty = true;
      render();
      announce(t('desk.js.cue_removed', i + 1));
      var next = list.querySelector('li[data-index="' + Math.min(i, cues.length - 1) + '"] textarea');
      (next || document.getElementById('cue-add')).focus();
    });
    // Focusing a cue's field takes the player to that cue.
    list.addEventListener('focusin', function (ev) {
      var li = ev.target.closest('li[data-index]');
      if (!li) return;
      var c = cues[parseInt(li.dataset.index, 10)];
      if (c && video.paused && (video.currentTime < c.start || video.currentTime >= c.end)) seek(c.start + 0.01);
    });
    document.getElementById('cue-add').addEventListener('click', function () {
      var at = video.currentTime, i = 0;
      while (i < cues.length && cues[i].start <= at) i++;
      var end = Math.min(duration || at + 2, at + 2);
      cues.splice(i, 0, { id: '', start: at, end: Math.max(end, at + 0.5), text: '', settings: '' });
      dirty = true;
      render();
      announce(t('desk.js.cue_added', i + 1));
      document.getElementById('cue-' + i + '-text').focus();
    });
    document.getElementById('cues-save').addEventListener('click', save);
    langSel.addEventListener('change', function () { load(langSel.value); });
    load(langSel.value);
  }

  // save checks each cue, then sends the track as WebVTT; the server
  // validates it as it does an uploaded file.
  function save() {
    var bad = -1;
    cuesError.hidden = true;
    list.querySelectorAll('li[data-index]').forEach(function (li) {
      var i = parseInt(li.dataset.index, 10), c = cues[i], msg = '';
      var s = parseTime(li.querySelector('[data-field=start]').value), e = parseTime(li.querySelector('[data-field=end]').value);
      if (isNaN(s) || isNaN(e)) msg = t('desk.js.bad_time', i + 1);
      else if (e <= s) msg = t('desk.js.end_before_start', i + 1);
      else if (!c.text.trim()) msg = t('desk.js.empty_text', i + 1);
      cueError(i, msg);
      if (msg && bad < 0) bad = i;
      if (msg) announce(msg, true);
      if (!msg) { c.start = s; c.end = e; }
    });
    if (bad >= 0) {
      var field = list.querySelector('li[data-index="' + bad + '"] [aria-invalid=true]') ||
        document.getElementById(cues[bad].text.trim() ? 'cue-' + bad + '-start' : 'cue-' + bad + '-text');
      field.focus();
      return Promise.resolve(false);
    }
    var body = 'WEBVTT\n';
    cues.slice().sort(function (a, b) { return a.start - b.start; }).forEach(function (c) {
      body += '\n' + (c.id ? c.id + '\n' : '') + vttTime(c.start) + ' --> ' + vttTime(c.end) + (c.settings ? ' ' + c.settings : '') + '\n' +
        c.text.replace(/\n\s*\n/g, '\n').trim() + '\n';
    });
    var lang = langSel.value;
    return api('PUT', stURL('/captions/' + encodeURIComponent(lang) + '?source=editor'), body, 'text/vtt; charset=utf-8').then(function (c) {
      dirty = false;
      var opt = langSel.options[langSel.selectedIndex];
      opt.dataset.url = opt.dataset.url.replace(/\?.*$/, '') + '?c=' + Date.now();
      var tr = document.querySelector('track[data-lang="' + lang + '"]');
      if (tr) { tr.src = opt.dataset.url; }
      announce(t('desk.js.saved', c && c.name ? c.name : lang, title));
      return true;
    }).catch(function (err) {
      cuesError.textContent = err.message;
      cuesError.hidden = false;
      announce(err.message, true);
      return false;
    });
  }

  video.addEventListener('timeupdate', function () {
    clockEl.textContent = clock(video.currentTime);
    if (playhead && duration) playhead.style.left = (100 * Math.min(1, video.currentTime / duration)) + '%';
    if (list) highlight();
  });
  video.addEventListener('seeked', function () { if (list) highlight(); });
  video.addEventListener('play', function () { announce(t('desk.js.playing')); });
  video.addEventListener('pause', function () { if (!video.ended) announce(t('desk.js.paused', clock(video.currentTime))); });

  // --- Decisions ----------------------------------------------------------------------
  var warnedDirty = false;
  function guardDirty() {
    if (dirty && !warnedDirty) {
      warnedDirty = true;
      announce(t('desk.js.unsaved'), true);
      return false;
    }
    return true;
  }
  function goNext(text) {
    leaving = true;
    kit.flashNext(text);
    window.location.assign(nextURL);
  }
  var busy = false;
  function decide(run) {
    if (busy || !guardDirty()) return;
    busy = true;
    run().catch(function (err) { busy = false; announce(err.message, true); });
  }
  function approve() {
    decide(function () {
      return api('POST', stURL('/approve')).then(function () { goNext(t('desk.js.approved', title)); });
    });
  }
  function skip() {
    decide(function () {
      return api('POST', reviewURL('/skip')).then(function () { goNext(t('desk.js.skipped', title)); });
    });
  }
  var reason = document.getElementById('reason');
  var reasonErr = document.getElementById('reason-error');
  document.getElementById('approve').addEventListener('click', approve);
  document.getElementById('skip').addEventListener('click', skip);
  document.getElementById('reject-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var text = reason.value.trim();
    if (!text) {
      reason.setAttribute('aria-invalid', 'true');
      reasonErr.textContent = t('desk.js.reason_required');
      reasonErr.hidden = false;
      reason.focus();
      return;
    }
    reason.removeAttribute('aria-invalid');
    reasonErr.hidden = true;
    decide(function () {
      return api('POST', stURL('/reject'), { reason: text }).then(function () { goNext(t('desk.js.rejected', title, text)); });
    });
  });

  // --- Keys ------------------------------------------------------------------------------
  function typing(el) {
    return el && (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT' || el.isContentEditable);
  }
  document.addEventListener('keydown', function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    var el = document.activeElement;
    if (ev.key === 'Escape') {
      if (typing(el) || el === document.body) { ev.preventDefault(); video.focus(); }
      return;
    }
    if (typing(el)) return;
    var onButton = el && (el.tagName === 'BUTTON' || el.tagName === 'A' || el.tagName === 'SUMMARY');
    switch (ev.key) {
      case ' ':
        if (onButton || el === video) return; // the button's own action; the player's own toggle
        ev.preventDefault(); togglePlay(); break;
      case 'k': case 'K': togglePlay(); break;
      case 'j': case 'J': seek(video.currentTime - 5); break;
      case 'l': case 'L': seek(video.currentTime + 5); break;
      case 'ArrowLeft': if (el === video) return; ev.preventDefault(); seek(video.currentTime - 5); break;
      case 'ArrowRight': if (el === video) return; ev.preventDefault(); seek(video.currentTime + 5); break;
      case '1': setSpeed(1); break;
      case '2': setSpeed(1.5); break;
      case '3': setSpeed(2); break;
      case 'f': nextFinding(false); break;
      case 'F': nextFinding(true); break;
      case 'c': case 'C': {
        ev.preventDefault();
        var i = current >= 0 ? current : 0;
        var ta = document.getElementById('cue-' + i + '-text');
        if (ta) ta.focus();
        break;
      }
      case 'a': case 'A': approve(); break;
      case 'r': case 'R': ev.preventDefault(); reason.focus(); break;
      case 'n': case 'N': skip(); break;
      default: return;
    }
  });
})();
