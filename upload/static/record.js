// The upload page's record mode: camera and microphone preview with device
// choice and a level meter, a teleprompter, a countdown to the session's
// longest statement, stop, review, retake or send. The take is sent WHILE
// it is recorded: MediaRecorder hands over a chunk every cfg.timeslice ms,
// which goes into a tus upload of deferred length (tus-js-client's
// uploadLengthDeferred, fed by the source below), so sending after stop
// takes seconds. Every chunk is also kept in IndexedDB until the server
// has it, so a reload or a lost line loses at most the last chunk, and
// the page offers to send what was recorded. Builds on upload.js
// (window.presession).
(function () {
  'use strict';

  const P = window.presession;
  const form = document.getElementById('upload-form');
  if (!P || !form) return;
  const { cfg, t } = P;
  const $ = (id) => document.getElementById(id);
  const panel = $('record-panel');
  const TYPES = ['video/webm;codecs=vp9,opus', 'video/webm;codecs=vp8,opus', 'video/webm', 'video/mp4'];
  const SILENT_LEVEL = 0.01, SILENT_MS = 3000;

  const clock = (s) => {
    s = Math.max(0, Math.floor(s));
    const h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60, ss = String(s % 60).padStart(2, '0');
    return h ? h + ':' + String(m).padStart(2, '0') + ':' + ss : m + ':' + ss;
  };
  const recStatus = (text) => { $('rec-status').textContent = text; };
  function recError(text) {
    P.show($('record-error'), text, 'error');
    if (text) $('record-error').focus();
  }
  function buttons(which) {
    for (const id of ['rec-start', 'rec-stop', 'rec-send', 'rec-retake', 'rec-retry']) $(id).hidden = !which.includes(id);
  }

  // --- chunks kept until the server has them (IndexedDB) -----------------------

  const db = new Promise((resolve) => {
    try {
      const req = indexedDB.open('presession-recordings', 1);
      req.onupgradeneeded = () => req.result.createObjectStore('chunks', { keyPath: ['rec', 'offset'] });
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => resolve(null);
    } catch (e) { resolve(null); } // private mode: recording works, a reload loses the take
  });
  function tx(mode, fn) {
    return db.then((d) => d && new Promise((resolve) => {
      const x = d.transaction('chunks', mode);
      const out = fn(x.objectStore('chunks'));
      x.oncomplete = () => resolve(out && out.result !== undefined ? out.result : out);
      x.onerror = x.onabort = () => resolve(null);
    }));
  }
  const keep = (rec, offset, blob) => tx('readwrite', (s) => s.put({ rec, offset, size: blob.size, blob }));
  const range = (rec) => IDBKeyRange.bound([rec, 0], [rec, Number.MAX_SAFE_INTEGER]);
  const chunksOf = (rec) => tx('readonly', (s) => s.getAll(range(rec))).then((l) => l || []);
  const drop = (rec) => tx('readwrite', (s) => s.delete(range(rec)));
  // ack forgets the chunks wholly below the server's offset.
  const ack = (rec, offset) => tx('readwrite', (s) => {
    const c = s.openCursor(IDBKeyRange.bound([rec, 0], [rec, offset]));
    c.onsuccess = () => {
      const cur = c.result;
      if (!cur) return;
      if (cur.value.offset + cur.value.size <= offset) cur.delete();
      cur.continue();
    };
  });

  // --- the growing source tus-js-client reads -----------------------------------

  // Source holds the take as it grows. slice(start, end) resolves as soon
  // as there is something at start (so each PATCH carries what has been
  // recorded since the last one), and reports done once the take is
  // complete and sent up to its end; tus-js-client then declares the length.
  class Source {
    constructor(parts) {
      this.parts = parts || []; // [{offset, blob}], in order
      this.end = this.parts.length ? this.parts[this.parts.length - 1].offset + this.parts[this.parts.length - 1].blob.size : 0;
      this.complete = false;
      this.waiters = [];
    }
    push(blob) {
      this.parts.push({ offset: this.end, blob });
      this.end += blob.size;
      this.wake();
    }
    finish() { this.complete = true; this.wake(); }
    wake() { this.waiters = this.waiters.filter((w) => !w()); }
    slice(start, end) {
      return new Promise((resolve) => {
        const ready = () => {
          if (start < this.end) {
            const stop = Math.min(end, this.end);
            resolve({ value: this.range(start, stop), done: this.complete && stop === this.end });
            return true;
          }
          if (this.complete) { resolve({ value: null, done: true }); return true; }
          return false;
        };
        if (!ready()) this.waiters.push(ready);
      });
    }
    range(start, stop) {
      const out = [];
      for (const p of this.parts) {
        const a = Math.max(start, p.offset), b = Math.min(stop, p.offset + p.blob.size);
        if (a < b) out.push(p.blob.slice(a - p.offset, b - p.offset));
      }
      return new Blob(out);
    }
    close() {}
  }

  // --- camera, microphone, level -------------------------------------------------

  let stream = null, audio = null, levelTimer = 0, quietSince = 0;

  async function openCamera() {
    recError('');
    closeCamera();
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || !window.MediaRecorder) {
      recError(t('upload.rec.unsupported'));
      buttons([]);
      return false;
    }
    const cam = $('camera').value, mic = $('microphone').value;
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        video: Object.assign({ width: { ideal: 1280 }, height: { ideal: 720 } }, cam ? { deviceId: { exact: cam } } : {}),
        audio: mic ? { deviceId: { exact: mic } } : true,
      });
    } catch (e) {
      const name = (e && e.name) || '';
      recError(name === 'NotAllowedError' || name === 'SecurityError' ? t('upload.rec.denied')
        : name === 'NotFoundError' || name === 'OverconstrainedError' ? t('upload.rec.no_device')
          : name === 'NotReadableError' ? t('upload.rec.busy_device') : t('upload.rec.failed', name || String(e)));
      buttons(['rec-retry']);
      return false;
    }
    const v = $('preview');
    v.srcObject = stream;
    v.hidden = false;
    v.play().catch(() => {});
    await listDevices();
    meter();
    if (!take) buttons(['rec-start']);
    return true;
  }

  function closeCamera() {
    clearInterval(levelTimer);
    if (audio) { audio.close().catch(() => {}); audio = null; }
    if (stream) for (const tr of stream.getTracks()) tr.stop();
    stream = null;
  }

  async function listDevices() {
    const devices = await navigator.mediaDevices.enumerateDevices();
    const fill = (sel, kind, track, label) => {
      const current = track && track.getSettings().deviceId;
      sel.replaceChildren();
      let n = 0;
      for (const d of devices.filter((x) => x.kind === kind)) {
        const o = document.createElement('option');
        o.value = d.deviceId;
        o.textContent = d.label || label + ' ' + ++n;
        o.selected = d.deviceId === current;
        sel.append(o);
      }
    };
    fill($('camera'), 'videoinput', stream.getVideoTracks()[0], t('upload.rec.camera'));
    fill($('microphone'), 'audioinput', stream.getAudioTracks()[0], t('upload.rec.microphone'));
  }

  // meter shows the microphone's level, and says so when nothing comes in.
  function meter() {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx || !stream.getAudioTracks().length) return;
    audio = new Ctx();
    const an = audio.createAnalyser();
    an.fftSize = 1024;
    audio.createMediaStreamSource(stream).connect(an);
    const buf = new Float32Array(an.fftSize);
    quietSince = performance.now();
    levelTimer = setInterval(() => {
      if (audio.state === 'suspended') audio.resume().catch(() => {});
      if (audio.state !== 'running') { quietSince = performance.now(); return; } // no sound yet without a click: say nothing
      an.getFloatTimeDomainData(buf);
      let sum = 0;
      for (const x of buf) sum += x * x;
      const rms = Math.sqrt(sum / buf.length);
      $('level').value = Math.min(1, rms * 4);
      const now = performance.now();
      if (rms >= SILENT_LEVEL) quietSince = now;
      const silent = now - quietSince > SILENT_MS;
      const note = silent ? t('upload.rec.silent') : '';
      if ($('level-note').textContent !== note) $('level-note').textContent = note;
    }, 100);
  }

  // --- teleprompter ----------------------------------------------------------------

  const PROMPTER_KEY = 'presession-prompter:' + cfg.invitation; // not under P.STORE: it is no upload
  let scrolling = false, scrollPos = 0, scrollTimer = 0;
  function prompterText() {
    const text = $('prompter-text').value;
    $('prompter-content').textContent = text || t('upload.rec.prompter_empty');
    try { localStorage.setItem(PROMPTER_KEY, text); } catch (e) { /* ignore */ }
  }
  function scroll(on) {
    scrolling = on;
    clearInterval(scrollTimer);
    if (!on) return;
    scrollTimer = setInterval(() => {
      const speed = Number($('prompter-speed').value); // 0–10: px per 50 ms tick, ~0–80 px/s
      scrollPos = Math.min(scrollPos + speed * 0.4, $('prompter').scrollHeight);
      $('prompter').scrollTop = scrollPos;
    }, 50);
  }
  function initPrompter() {
    try { $('prompter-text').value = localStorage.getItem(PROMPTER_KEY) || ''; } catch (e) { /* ignore */ }
    prompterText();
    $('prompter-text').addEventListener('input', prompterText);
    $('prompter').addEventListener('keydown', (ev) => {
      const p = $('prompter');
      if (ev.key === ' ') { ev.preventDefault(); scroll(!scrolling); return; }
      const step = { ArrowDown: 40, ArrowUp: -40, PageDown: p.clientHeight, PageUp: -p.clientHeight }[ev.key];
      if (ev.key === 'Home') scrollPos = 0;
      else if (step) scrollPos = Math.max(0, scrollPos + step);
      else return;
      ev.preventDefault();
      p.scrollTop = scrollPos;
    });
  }

  // --- the take ------------------------------------------------------------------------

  let take = null; // {id, type, recorder, source, u, chunks, started, seconds, timer, stopped}

  function pickType() {
    return TYPES.find((x) => MediaRecorder.isTypeSupported(x)) || '';
  }
  const baseType = (type) => (type || 'video/webm').split(';')[0].trim();
  const extOf = (type) => (baseType(type) === 'video/mp4' ? '.mp4' : '.webm');

  // upload makes the page's upload of a take (live or restored).
  function upload(tk, offset) {
    const u = {
      key: P.STORE + 'rec:' + tk.id, name: 'recording' + extOf(tk.type), size: null, filetype: baseType(tk.type),
      meta: tk.meta, metadata: { recording: '1' }, source: { recording: tk.id },
      reader: { openFile: () => Promise.resolve(tk.source) },
      extra: { recording: true, rec: tk.id, type: tk.type, seconds: tk.seconds || 0 },
      onAck: (n) => { tk.acked = n; ack(tk.id, n); drawSent(tk); },
      onProgress: (sent) => { tk.sent = sent; drawSent(tk); },
      onDone: () => sent(tk),
      // Refused, or the line gave up: the take stops; Send tries again.
      onFail: (u2) => {
        P.stopped(u2);
        if (tk.recorder && tk.recorder.state !== 'inactive') stop(tk);
        else if (tk.stopped) buttons(['rec-send', 'rec-retake']);
      },
    };
    tk.acked = offset || 0;
    tk.u = u;
    return u;
  }

  function drawSent(tk) {
    const total = tk.source.end;
    if (!total) return;
    const sent = Math.min(tk.acked || 0, total);
    const bar = $('progress');
    bar.max = 1000;
    bar.value = Math.floor((1000 * sent) / total);
    $('progress-text').textContent = t('upload.rec.sent_part', P.bytes(sent), P.bytes(total));
  }

  async function start() {
    if (take || P.current()) return;
    if (!P.validate(true)) return;
    if (!stream && !(await openCamera())) return;
    const type = pickType();
    let recorder;
    try {
      // 1.5 Mbit/s: a speaker filmed by a laptop camera looks fine, and a
      // modest line keeps up while recording, so Send takes seconds.
      recorder = new MediaRecorder(stream, type ? { mimeType: type, videoBitsPerSecond: 1500000, audioBitsPerSecond: 96000 } : {});
    } catch (e) {
      recError(t('upload.rec.failed', e.name || String(e)));
      return;
    }
    const id = Date.now().toString(36) + Math.random().toString(36).slice(2, 8);
    const tk = take = { id, type: recorder.mimeType || type, recorder, source: new Source(), meta: P.meta(), seconds: 0, stopped: false, chunks: [] };
    recorder.ondataavailable = (ev) => {
      if (!ev.data || !ev.data.size || tk.discarded) return;
      const offset = tk.source.end;
      tk.chunks.push(ev.data);
      tk.source.push(ev.data);
      keep(id, offset, ev.data);
      P.save(tk.u.key, { seconds: tk.seconds });
      drawSent(tk);
    };
    recorder.onstop = () => stopped(tk);
    P.busy(true);
    $('pause').hidden = $('cancel').hidden = true;
    $('camera').disabled = $('microphone').disabled = true;
    $('progress-section').hidden = false;
    $('take').hidden = true;
    $('preview').hidden = false;
    P.show($('resume-note'), '');
    P.begin(upload(tk));
    recorder.start(cfg.timeslice || 2000);
    tk.started = performance.now();
    buttons(['rec-stop']);
    $('rec-stop').focus();
    scrollPos = 0;
    $('prompter').scrollTop = 0;
    if ($('prompter-text').value.trim()) scroll(true);
    tick(tk);
    tk.timer = setInterval(() => tick(tk), 250);
  }

  // tick draws the countdown and stops the take at the session's limit.
  function tick(tk) {
    const max = cfg.maxSeconds || 600;
    tk.seconds = (performance.now() - tk.started) / 1000;
    const left = max - tk.seconds;
    const c = $('rec-clock');
    c.hidden = false;
    c.textContent = t('upload.rec.elapsed', clock(tk.seconds), clock(max)) + ' · ' + t('upload.rec.left', clock(left));
    const announce = (key, ...a) => { if (!tk.said) tk.said = {}; if (!tk.said[key]) { tk.said[key] = 1; recStatus(t(key, ...a)); } };
    if (left <= 60 && max > 60) announce('upload.rec.minute_left');
    if (left <= 10 && max > 10) announce('upload.rec.seconds_left', 10);
    if (left <= 0.25) {
      tk.maxed = true;
      stop(tk);
    }
  }

  function stop(tk) {
    if (!tk || tk.recorder.state === 'inactive') return;
    clearInterval(tk.timer);
    scroll(false);
    tk.recorder.stop();
  }

  // stopped: the recorder has handed over its last chunk. The upload goes
  // on with what is left; the length is declared when the take is sent.
  function stopped(tk) {
    tk.stopped = true;
    clearInterval(tk.timer);
    P.save(tk.u.key, { seconds: tk.seconds });
    const v = $('take');
    if (tk.url) URL.revokeObjectURL(tk.url);
    tk.url = URL.createObjectURL(new Blob(tk.chunks, { type: baseType(tk.type) }));
    v.src = tk.url;
    v.hidden = false;
    $('preview').hidden = true;
    buttons(['rec-send', 'rec-retake']);
    recStatus((tk.maxed ? t('upload.rec.max_reached', clock(cfg.maxSeconds)) + ' ' : '') + t('upload.rec.recorded', clock(Math.round(tk.seconds))));
    $('rec-send').focus();
  }

  function send(tk) {
    if (!tk || !tk.stopped) return;
    buttons([]);
    recStatus(t('upload.rec.sending'));
    if (!P.current()) P.begin(tk.u); // stopped after a refusal or a reload: resume
    tk.source.finish();
  }

  function sent(tk) {
    drop(tk.id);
    P.forget(tk.u.key);
    P.stopped(tk.u);
    $('progress').value = 1000;
    P.status(t('upload.rec.done'), 'ok');
    recStatus('');
    reset();
    form.reset();
    $('mode-record').checked = true;
    P.loadStatements();
    $('status').focus();
  }

  async function retake(tk) {
    if (tk) {
      tk.discarded = true;
      if (tk.recorder && tk.recorder.state !== 'inactive') tk.recorder.stop();
      clearInterval(tk.timer);
      if (P.current() === tk.u) await P.cancel(tk.u);
      else if (tk.u) await P.cancel(Object.assign(tk.u, { tus: { abort: () => Promise.resolve(), url: (P.saved(tk.u.key) || {}).url } }));
      P.stopped(tk.u);
      drop(tk.id);
      P.forget(tk.u.key);
    }
    P.show($('resume-note'), '');
    P.status(t('upload.rec.discarded'));
    reset();
    if (!stream) await openCamera();
    $('rec-start').focus();
  }

  function reset() {
    if (take && take.url) URL.revokeObjectURL(take.url);
    take = null;
    $('take').hidden = true;
    $('take').removeAttribute('src');
    $('preview').hidden = false;
    $('rec-clock').hidden = true;
    $('progress-section').hidden = true;
    $('camera').disabled = $('microphone').disabled = false;
    buttons(['rec-start']);
  }

  // Chunks of takes whose upload never started (a reload before the
  // server answered the creation) can never be sent: forget them once
  // they are an hour old (a take's id starts with its start time; a
  // younger one may be recording in another tab).
  async function sweep() {
    const keys = (await tx('readonly', (s) => s.getAllKeys())) || [];
    const live = new Set(P.savedUploads().filter(([, s]) => s.recording).map(([, s]) => s.rec));
    for (const rec of new Set(keys.map((k) => k[0]))) {
      const age = Date.now() - parseInt(String(rec).slice(0, 8), 36);
      if (!live.has(rec) && !(take && take.id === rec) && age > 3600e3) drop(rec);
    }
  }

  // A take interrupted by a reload: offer to send what was kept.
  async function restore() {
    for (const [key, s] of P.savedUploads()) {
      if (!s.recording) continue;
      const chunks = await chunksOf(s.rec);
      const parts = chunks.sort((a, b) => a.offset - b.offset).map((c) => ({ offset: c.offset, blob: c.blob }));
      const src = new Source(parts);
      if (!parts.length) src.end = s.offset || 0;
      const tk = take = { id: s.rec, type: s.type, source: src, meta: { title: s.title, speaker: s.speaker, language: s.language },
        seconds: s.seconds || 0, stopped: true, chunks: [], restored: true };
      upload(tk, s.offset || 0);
      tk.u.key = key;
      P.fillForm(s);
      setMode('record', false);
      P.show($('resume-note'), t('upload.rec.interrupted', clock(Math.round(tk.seconds)), P.bytes(src.end), P.bytes(Math.min(s.offset || 0, src.end))));
      $('progress-section').hidden = false;
      drawSent(tk);
      buttons(['rec-send', 'rec-retake']);
      return true;
    }
    return false;
  }

  // --- mode ------------------------------------------------------------------------------

  function setMode(mode, camera) {
    $('mode-' + mode).checked = true;
    const rec = mode === 'record';
    panel.hidden = !rec;
    $('file-field').hidden = rec;
    $('submit').hidden = rec;
    if (rec && camera) openCamera();
    if (!rec) closeCamera();
  }

  function init() {
    initPrompter();
    for (const el of document.querySelectorAll('input[name=mode]')) {
      el.addEventListener('change', () => { if (el.checked) setMode(el.value, true); });
    }
    // Enter in a field submits the form: in record mode that is not a file upload.
    form.addEventListener('submit', (ev) => {
      if (!$('mode-record').checked) return;
      ev.preventDefault();
      ev.stopImmediatePropagation();
    }, true);
    $('rec-start').addEventListener('click', start);
    $('rec-stop').addEventListener('click', () => stop(take));
    $('rec-send').addEventListener('click', () => send(take));
    $('rec-retake').addEventListener('click', () => retake(take));
    $('rec-retry').addEventListener('click', openCamera);
    $('camera').addEventListener('change', openCamera);
    $('microphone').addEventListener('change', openCamera);
    window.addEventListener('pagehide', closeCamera);
    buttons(['rec-start']);
    restore().then((found) => {
      sweep();
      if (found) openCamera().then(() => { $('preview').hidden = true; });
      else if (new URLSearchParams(location.search).get('mode') === 'record') setMode('record', true); // a link straight to record mode
    });
  }
  init();
})();
