// The CSO upload page. The tus protocol is tus-js-client's (vendor/,
// loaded before this script; it sends Tus-Resumable 1.0.0 and resumes
// with HEAD); this script is the page around it: the form, progress and
// time left, pause/resume/cancel, retries shown as they happen, stall
// detection, refusals in the page's language, and the upload URL kept in
// localStorage under the invitation, file name, size and modification
// time, so choosing the same file after a reload resumes. An optional
// captions file goes with the video once its upload URL exists (PUT
// cfg.captionsURL), its refusal shown next to its field while the video
// goes on. record.js adds
// the record mode on top of what this script exposes as window.presession.
(function () {
  'use strict';

  const cfg = JSON.parse(document.getElementById('upload-config').textContent);
  const $ = (id) => document.getElementById(id);
  const form = $('upload-form');
  const STORE = 'presession-upload:' + cfg.invitation + ':';
  // Twelve attempts after a failure, waiting 0, 1, 2 … 60 s; the count
  // starts again whenever the server has taken more bytes.
  const RETRY_DELAYS = [0, 1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000, 60000, 60000];
  // A request that moves no byte (and gets no answer) for this long is
  // dropped and retried from the server's offset.
  const STALL_MS = (cfg.stallSeconds || 20) * 1000;
  // Time left comes from the rate over this window, and shows only once
  // the window holds this much.
  const RATE_WINDOW_MS = 30000, RATE_MIN_MS = 5000;

  // --- messages -------------------------------------------------------------

  function t(key, ...args) {
    let s = cfg.messages[key] || key;
    let i = 0;
    return s.replace(/%%|%[sd]/g, (m) => (m === '%%' ? '%' : String(args[i++])));
  }

  const num = new Intl.NumberFormat(cfg.lang, { maximumFractionDigits: 1 });
  // Times as the server writes them (i18n.DateTime): day, month, year,
  // 24-hour time and the zone stated, in UTC like the deadline.
  const sentAt = new Intl.DateTimeFormat(cfg.lang === 'en' ? 'en-GB' : cfg.lang, {
    day: 'numeric', month: 'long', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
    timeZone: 'UTC', timeZoneName: 'short',
  });
  function bytes(n) { // as i18n.Bytes writes them: "287.4 KiB", "287,4 Kio"
    const units = cfg.units;
    if (n < 1024) return num.format(n) + ' ' + units[0];
    let u = 0;
    do { n /= 1024; u++; } while (n >= 1024 && u < units.length - 1);
    return num.format(n) + ' ' + units[u];
  }
  function duration(s) {
    if (!isFinite(s)) return '…';
    if (s < 90) return t('upload.unit.s', Math.max(1, Math.round(s)));
    if (s < 5400) return t('upload.unit.min', Math.round(s / 60));
    return t('upload.unit.h', num.format(s / 3600));
  }

  function show(el, text, kind) {
    el.textContent = text;
    el.hidden = !text;
    el.className = text ? 'message' + (kind ? ' ' + kind : '') : '';
  }
  const status = (text, kind) => show($('status'), text, kind);
  function alertError(text) {
    show($('error'), text, 'error');
    if (text) $('error').focus();
  }

  // --- the form -------------------------------------------------------------

  function extension(name) {
    const i = name.lastIndexOf('.');
    return i > 0 ? name.slice(i).toLowerCase() : '';
  }
  function acceptedFile(file) {
    const ext = extension(file.name);
    const extOK = cfg.extensions.includes(ext);
    const type = (file.type || '').toLowerCase();
    if (file.name && ext && !extOK) return false;
    if (!type) return extOK;
    if (['application/octet-stream', 'model/vnd.mts', 'application/x-matroska', 'application/mp4'].includes(type)) return extOK;
    return type.startsWith('video/') && (extOK || !ext);
  }

  function fieldError(input, text) {
    const err = $(input.id + '-error');
    err.textContent = text || '';
    err.hidden = !text;
    if (text) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
    return !text;
  }

  // validate checks the title and, unless a recording is sent, the file.
  function validate(recording) {
    const title = $('title'), file = $('file');
    let first = null;
    const v = (input, text) => { if (!fieldError(input, text) && !first) first = input; };
    const tv = title.value.trim();
    v(title, !tv ? t('upload.err.title_required') : [...tv].length > 200 ? t('upload.err.title_long') : '');
    if (!recording) {
      const f = file.files[0];
      let fe = '';
      if (!f) fe = t('upload.err.file_required');
      else if (!acceptedFile(f)) fe = t('upload.err.file_type', cfg.extensions.join(' '));
      else if (f.size === 0) fe = t('upload.err.file_empty');
      else if (f.size > cfg.maxBytes) fe = t('upload.err.file_large', bytes(f.size), bytes(cfg.maxBytes));
      v(file, fe);
      const c = $('captions');
      if (c) v(c, c.files[0] ? captionsProblem(c.files[0]) : '');
    }
    if (first) {
      alertError(t('upload.err.form'));
      first.focus();
      return false;
    }
    alertError('');
    return true;
  }

  const meta = () => ({ title: $('title').value.trim(), speaker: $('speaker').value.trim(), language: $('language').value });

  // --- the organisation's captions file ----------------------------------------

  // captionsProblem is what is wrong with a chosen captions file that the
  // page can tell without sending it ('' for nothing); the server checks
  // the rest.
  function captionsProblem(f) {
    if (!cfg.captionExtensions.includes(extension(f.name))) return t('upload.cap.err_type');
    if (f.size === 0) return t('upload.cap.err_empty');
    if (f.size > cfg.captionMaxBytes) return t('upload.cap.err_large', bytes(f.size), bytes(cfg.captionMaxBytes));
    return '';
  }
  const chosenCaptions = () => {
    const c = $('captions');
    return c && c.files[0] ? { file: c.files[0], lang: $('captions-lang').value } : null;
  };
  // captionsTarget is the upload the captions file goes with: the last one
  // whose URL the server gave, so that a refused file can be sent again,
  // corrected, while the video goes on or after it is in.
  let captionsTarget = null;

  // sendCaptions puts the captions file c with the upload at url, and says
  // how it went next to the field; the video's upload is not touched.
  async function sendCaptions(url, c) {
    const input = $('captions');
    const say = (text) => { $('captions-status').textContent = text; };
    captionsTarget = url;
    $('captions-send').hidden = false;
    fieldError(input, '');
    const problem = captionsProblem(c.file);
    if (problem) { fieldError(input, problem); return; }
    say(t('upload.cap.sending'));
    const id = url.slice(url.lastIndexOf('/') + 1);
    const target = cfg.captionsURL.replace('{id}', encodeURIComponent(id)).replace('{lang}', encodeURIComponent(c.lang));
    let res, body = null;
    try {
      res = await fetch(target, {
        method: 'PUT', body: c.file, cache: 'no-store',
        headers: { Authorization: 'Bearer ' + cfg.token, 'Accept-Language': cfg.lang, 'Content-Type': 'text/plain; charset=utf-8' },
      });
      try { body = await res.json(); } catch (e) { body = null; }
    } catch (e) {
      say('');
      fieldError(input, t('upload.cap.failed'));
      return;
    }
    say('');
    if (res.ok) {
      const opt = [...$('captions-lang').options].find((o) => o.value === c.lang);
      say(t('upload.cap.sent', opt ? opt.textContent.trim() : c.lang));
      return;
    }
    const msg = body && body.error && body.error.message;
    if (res.status >= 400 && res.status < 500 && msg) fieldError(input, t('upload.cap.refused', msg.replace(/[.\s]+$/, '')));
    else fieldError(input, t('upload.cap.failed'));
  }

  // --- saved uploads ----------------------------------------------------------

  const keyOf = (file) => STORE + [file.name, file.size, file.lastModified].join(':');
  function saved(key) {
    try { return JSON.parse(localStorage.getItem(key) || 'null'); } catch (e) { return null; }
  }
  function save(key, rec) {
    try {
      localStorage.setItem(key, JSON.stringify(Object.assign(saved(key) || {}, rec)));
    } catch (e) { /* private mode: no resume after reload, uploads still work */ }
  }
  const forget = (key) => { try { localStorage.removeItem(key); } catch (e) { /* ignore */ } };
  function savedUploads() {
    const out = [];
    for (let i = 0; i < localStorage.length; i++) {
      const k = localStorage.key(i);
      if (!k || !k.startsWith(STORE)) continue;
      const s = saved(k);
      if (s && s.url) out.push([k, s]);
    }
    return out;
  }

  // urlStorage is tus-js-client's URL storage over the page's own records,
  // which also hold what the form needs after a reload.
  function urlStorage(u) {
    return {
      findAllUploads: () => Promise.resolve(savedUploads().map(([k, s]) => ({ uploadUrl: s.url, urlStorageKey: k, size: s.size }))),
      findUploadsByFingerprint: (fp) => {
        const s = saved(fp);
        return Promise.resolve(s && s.url ? [{ uploadUrl: s.url, urlStorageKey: fp, size: s.size }] : []);
      },
      removeUpload: (key) => { forget(key); return Promise.resolve(); },
      addUpload: (fp, up) => {
        save(fp, Object.assign({ url: up.uploadUrl, offset: 0, name: u.name, size: u.size,
          title: u.meta.title, speaker: u.meta.speaker, language: u.meta.language }, u.extra || {}));
        return Promise.resolve(fp);
      },
    };
  }

  // An interrupted upload of a file from an earlier visit: say so and fill
  // the form in. (Recordings are record.js's.)
  function noteInterrupted() {
    for (const [, s] of savedUploads()) {
      if (s.recording) continue;
      const pct = s.size ? Math.floor((100 * s.offset) / s.size) : 0;
      show($('resume-note'), t('upload.interrupted', s.name, bytes(s.size), pct));
      fillForm(s);
      return;
    }
  }
  function fillForm(s) {
    if (!$('title').value) $('title').value = s.title || '';
    if (!$('speaker').value) $('speaker').value = s.speaker || '';
    if (s.language) $('language').value = s.language;
  }

  // --- failures ---------------------------------------------------------------

  // failureOf reads a tus-js-client error: the HTTP status (0 when no
  // answer came) and the server's code and message, from a JSON body
  // {"error": {"code", "message"}} or a plain "ERR_CODE: message".
  function failureOf(err) {
    const res = err && err.originalResponse;
    if (!res) return { status: 0, code: '', message: '' };
    const body = (res.getBody() || '').trim();
    let code = '', message = body;
    try {
      const j = JSON.parse(body);
      if (j && j.error) { code = j.error.code || ''; message = j.error.message || ''; }
    } catch (e) {
      const m = /^(ERR_[A-Z_]+):\s*(.*)$/s.exec(body);
      if (m) { code = m[1]; message = m[2]; }
    }
    return { status: res.getStatus(), code, message };
  }

  // Refusals a retry cannot change, whatever their status.
  const FINAL = ['ERR_UPLOAD_COMPLETE', 'ERR_TOO_MANY_STATEMENTS', 'ERR_TOO_MANY_UPLOADS'];
  function retryable(f) {
    if (FINAL.includes(f.code)) return false;
    return f.status === 0 || f.status >= 500 || [408, 409, 423, 429].includes(f.status);
  }

  function refusal(f) {
    const key = 'upload.srv.' + f.code;
    if (f.code && cfg.messages[key]) return t(key);
    return t('upload.srv.other', f.message);
  }

  // --- stall detection ----------------------------------------------------------

  // StallStack wraps tus-js-client's HTTP stack: a request that neither
  // sends a byte nor gets its answer for STALL_MS is aborted and fails like
  // a dropped connection, so tus-js-client retries it from HEAD. Once the
  // whole body has been handed to the network, the bytes may still sit in
  // the system's buffers on a slow line, which the page cannot see move:
  // it then waits three times as long for the answer.
  class StallStack {
    constructor(inner) { this.inner = inner; }
    getName() { return 'stall-detecting ' + this.inner.getName(); }
    createRequest(method, url) {
      const req = this.inner.createRequest(method, url);
      let last = 0, loaded = 0;
      const setProgressHandler = req.setProgressHandler.bind(req);
      req.setProgressHandler = (fn) => setProgressHandler((n) => { last = performance.now(); loaded = n; fn(n); });
      const send = req.send.bind(req);
      req.send = (body) => new Promise((resolve, reject) => {
        last = performance.now();
        const size = body ? body.size || body.length || 0 : 0;
        const timer = setInterval(() => {
          if (performance.now() - last < (loaded >= size ? 3 * STALL_MS : STALL_MS)) return;
          clearInterval(timer);
          req.abort();
          reject(new Error('tus: no progress for ' + STALL_MS / 1000 + ' s'));
        }, 1000);
        send(body).then((res) => { clearInterval(timer); resolve(res); }, (err) => { clearInterval(timer); reject(err); });
      });
      return req;
    }
  }

  // --- progress -----------------------------------------------------------------

  function progress(u, sent) {
    const now = performance.now();
    // Bytes re-sent after a failure were not counted as done: drop the
    // samples above them. Stalls and waits stay in the window.
    while (u.samples.length && u.samples[u.samples.length - 1][1] > sent) u.samples.pop();
    u.samples.push([now, sent]);
    while (u.samples.length > 2 && now - u.samples[1][0] > RATE_WINDOW_MS) u.samples.shift();
    const size = u.size;
    if (now - u.drawn < 200 && !(size && sent >= size)) return;
    u.drawn = now;
    if (u.onProgress) return u.onProgress(sent, now);
    const pct = Math.floor((1000 * sent) / size) / 10;
    $('progress').value = Math.floor((1000 * sent) / size);
    const parts = [t('upload.progress', bytes(sent), bytes(size), num.format(pct))];
    const speed = rate(u, now);
    if (speed > 0 && sent < size) {
      parts.push(t('upload.speed', bytes(speed)), t('upload.left', duration((size - sent) / speed)));
    }
    $('progress-text').textContent = parts.join(' · ');
    const decile = Math.floor(pct / 10);
    if (decile !== u.announced) { // screen readers hear every 10 %, not every update
      u.announced = decile;
      $('announce').textContent = t('upload.progress', bytes(sent), bytes(size), num.format(Math.floor(pct)));
    }
  }

  // rate is bytes per second over the last RATE_WINDOW_MS, or 0 while the
  // window is too short to mean anything.
  function rate(u, now) {
    const [t0, b0] = u.samples[0];
    const last = u.samples[u.samples.length - 1][1];
    if (now - t0 < RATE_MIN_MS || last <= b0) return 0;
    return ((last - b0) * 1000) / (now - t0);
  }

  // --- the upload ---------------------------------------------------------------

  let current = null;

  // countdown shows the wait before tus-js-client's next attempt.
  function countdown(u, ms, attempt) {
    clearInterval(u.timer);
    let left = Math.ceil(ms / 1000);
    const tick = () => {
      if (left <= 0) { clearInterval(u.timer); return; }
      status(navigator.onLine ? t('upload.retrying', left, attempt) : t('upload.offline'), 'error');
      left--;
    };
    u.waiting = true;
    u.timer = setInterval(tick, 1000);
    tick();
  }
  function quiet(u) {
    clearInterval(u.timer);
    if (u.waiting) status('');
    u.waiting = false;
  }
  // Back online while waiting: try at once.
  window.addEventListener('online', () => {
    const u = current;
    if (!u || !u.waiting || u.paused || u.cancelled) return;
    quiet(u);
    u.tus.abort().then(() => { if (!u.paused && !u.cancelled) u.tus.start(); });
  });

  // newUpload makes tus-js-client's upload of u.source. u: {key, name,
  // size (null when deferred), meta, filetype, source, reader (deferred
  // sources), extra (kept with the saved URL), onAck, onDone, onFail}.
  function newUpload(u) {
    const metadata = { filename: u.name, title: u.meta.title, language: u.meta.language };
    if (u.filetype) metadata.filetype = u.filetype;
    if (u.meta.speaker) metadata.speaker = u.meta.speaker;
    Object.assign(metadata, u.metadata || {});
    const opts = {
      endpoint: cfg.endpoint,
      chunkSize: cfg.chunkSize,
      retryDelays: RETRY_DELAYS,
      headers: { Authorization: 'Bearer ' + cfg.token, 'Accept-Language': cfg.lang }, // refusals come back in the page's language
      metadata,
      fingerprint: () => Promise.resolve(u.key),
      urlStorage: urlStorage(u),
      storeFingerprintForResuming: true,
      removeFingerprintOnSuccess: true,
      httpStack: new StallStack(new tus.DefaultHttpStack({})),
      onUploadUrlAvailable: () => {
        if (!u.url) loadStatements(); // the new statement shows as uploading
        u.url = u.tus.url;
        if (u.captions && !u.captionsSent) { // once the statement exists
          u.captionsSent = true;
          sendCaptions(u.url, u.captions);
        }
      },
      onProgress: (sent) => {
        if (u.paused || u.cancelled) return;
        if (u.waiting) quiet(u);
        if (u.started) { status(''); u.started = false; }
        progress(u, sent);
      },
      onChunkComplete: (_, accepted) => {
        u.offset = accepted;
        save(u.key, { offset: accepted });
        if (u.onAck) u.onAck(accepted);
      },
      onShouldRetry: (err, attempt, options) => {
        if (u.paused || u.cancelled || !retryable(failureOf(err))) return false;
        countdown(u, options.retryDelays[attempt], attempt + 1);
        return true;
      },
      onSuccess: () => { quiet(u); u.onDone(u); },
      onError: (err) => {
        quiet(u);
        if (u.paused || u.cancelled) return;
        const f = failureOf(err);
        if ((f.status === 404 || f.status === 410) && !u.restarted && !u.reader) {
          // Expired or removed on the server: start a new upload.
          u.restarted = true;
          forget(u.key);
          u.url = null;
          u.tus = newUpload(u);
          u.tus.start();
          return;
        }
        status('');
        if (retryable(f)) alertError(t('upload.gave_up'));
        else {
          alertError(refusal(f));
          if (f.code === 'ERR_INVITATION_REVOKED') revoked(u);
        }
        (u.onFail || stopped)(u, f);
      },
    };
    if (u.reader) {
      opts.uploadLengthDeferred = true;
      opts.fileReader = u.reader;
    }
    return new tus.Upload(u.source, opts);
  }

  // begin starts u, resuming the upload saved under u.key if there is one.
  function begin(u) {
    Object.assign(u, { samples: [], drawn: 0, announced: -1, paused: false, cancelled: false, started: true });
    current = u;
    u.tus = newUpload(u);
    return u.tus.findPreviousUploads().then((prev) => {
      if (prev.length) {
        u.tus.resumeFromPreviousUpload(prev[0]);
        u.url = prev[0].uploadUrl;
        status(t('upload.resuming', bytes((saved(u.key) || {}).offset || 0)));
      } else {
        status(t('upload.starting'));
      }
      u.tus.start();
    });
  }

  function pause(u) {
    u.paused = true;
    quiet(u);
    u.tus.abort();
    status(t('upload.paused'));
  }
  function resume(u) {
    u.paused = false;
    u.samples = [];
    u.tus.start();
    status('');
  }

  // cancel stops u and removes what the server has of it.
  async function cancel(u) {
    u.cancelled = true;
    quiet(u);
    await u.tus.abort(false);
    forget(u.key);
    const url = u.tus.url || u.url;
    if (url) {
      try {
        const res = await fetch(url, { method: 'DELETE', headers: { 'Tus-Resumable': '1.0.0', Authorization: 'Bearer ' + cfg.token, 'Accept-Language': cfg.lang } });
        if (res.status !== 204 && res.status !== 404) {
          const body = await res.text();
          alertError(refusal(failureOf({ originalResponse: { getStatus: () => res.status, getBody: () => body } })));
        }
      } catch (e) { /* offline: the server removes abandoned uploads */ }
    }
    if (current === u) current = null;
    loadStatements();
  }

  // Staff revoked the invitation: this upload cannot resume, and no other
  // can start; the message stays (what was uploaded before stays too).
  function revoked(u) {
    forget(u.key);
    show($('resume-note'), '');
    form.hidden = true;
    const rec = $('record-panel');
    if (rec) rec.hidden = true;
  }

  function busy(on) {
    for (const id of ['title', 'speaker', 'language', 'file', 'submit']) $(id).disabled = on;
    for (const el of document.querySelectorAll('input[name=mode]')) el.disabled = on;
    $('pause').hidden = !on;
    $('cancel').hidden = !on;
  }

  function stopped(u) {
    if (current === u) current = null;
    busy(false);
    $('pause').hidden = $('cancel').hidden = true;
  }

  function finished(u) {
    $('progress').value = 1000;
    progress(u, u.size);
    show($('resume-note'), '');
    status(t('upload.done'), 'ok');
    stopped(u);
    form.reset();
    $('status').focus();
    loadStatements();
  }

  // The form, while uploads are open.
  function initForm() {
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      if (current || !validate(false)) return;
      const file = $('file').files[0];
      const u = {
        key: keyOf(file), name: file.name, size: file.size, filetype: file.type, meta: meta(), source: file,
        captions: chosenCaptions(), onDone: finished,
      };
      captionsTarget = null;
      $('captions-send').hidden = true;
      $('captions-status').textContent = '';
      busy(true);
      $('pause').textContent = t('upload.pause');
      $('progress-section').hidden = false;
      show($('resume-note'), '');
      begin(u);
    });

    $('pause').addEventListener('click', () => {
      const u = current;
      if (!u) return;
      if (!u.paused) {
        pause(u);
        $('pause').textContent = t('upload.resume');
      } else {
        $('pause').textContent = t('upload.pause');
        resume(u);
      }
    });

    $('cancel').addEventListener('click', async () => {
      const u = current;
      if (!u) return;
      await cancel(u);
      $('progress-section').hidden = true;
      status(t('upload.cancelled'));
      stopped(u);
    });

    $('file').addEventListener('change', () => fieldError($('file'), ''));
    $('captions').addEventListener('change', () => { fieldError($('captions'), ''); $('captions-status').textContent = ''; });
    // Send (again) the chosen captions file with the last upload.
    $('captions-send').addEventListener('click', () => {
      const c = chosenCaptions();
      if (!c) { fieldError($('captions'), t('upload.cap.err_none')); $('captions').focus(); return; }
      if (captionsTarget) sendCaptions(captionsTarget, c);
    });
    $('title').addEventListener('input', () => fieldError($('title'), ''));
    noteInterrupted();
  }

  // --- the invitation's statements -------------------------------------------

  async function loadStatements() {
    const table = $('statements'), msg = $('statements-msg');
    let list;
    try {
      const res = await fetch(cfg.statementsURL, { headers: { Authorization: 'Bearer ' + cfg.token, 'Accept-Language': cfg.lang }, cache: 'no-store' });
      if (!res.ok) throw new Error(String(res.status));
      const body = await res.json();
      list = Array.isArray(body) ? body : body.statements || [];
    } catch (e) {
      msg.textContent = t('upload.statements_error');
      return;
    }
    const tbody = table.tBodies[0];
    tbody.replaceChildren();
    for (const st of list) {
      const tr = document.createElement('tr');
      const cell = (label, ...nodes) => {
        const td = document.createElement('td');
        td.dataset.label = label;
        td.append(...nodes);
        tr.append(td);
      };
      const badge = document.createElement('span');
      badge.className = 'status status-' + st.status;
      badge.textContent = cfg.messages['status.' + st.status] || st.status;
      const statusNodes = [badge];
      if (st.status === 'processing' && st.progress > 0) {
        badge.textContent += ' ' + Math.floor(st.progress) + ' %';
      }
      if (st.reason_text || st.reason) {
        const p = document.createElement('span');
        p.className = 'reason';
        p.textContent = ' ' + (st.reason_text || st.reason);
        statusNodes.push(p);
      }
      cell(t('upload.col.title'), st.title || '');
      cell(t('upload.col.status'), ...statusNodes);
      cell(t('upload.col.date'), st.created_at ? sentAt.format(new Date(st.created_at)) : '');
      cell(t('upload.col.size'), st.size ? bytes(st.size) : '');
      tbody.append(tr);
    }
    table.hidden = list.length === 0;
    msg.textContent = list.length === 0 ? t('upload.statements_none') : '';
    // While a statement is being processed, follow it without a reload.
    clearTimeout(loadStatements.timer);
    if (list.some((st) => st.status === 'uploaded' || st.status === 'processing')) {
      loadStatements.timer = setTimeout(loadStatements, 4000);
    }
  }

  $('refresh').addEventListener('click', loadStatements);
  if (form) initForm(); // absent once uploads have closed
  loadStatements();

  // What record.js builds on.
  window.presession = {
    cfg, t, bytes, duration, show, status, alertError, fieldError, validate, meta, save, saved, forget,
    savedUploads, fillForm, STORE, begin, pause, resume, cancel, busy, stopped, rate, loadStatements,
    current: () => current,
  };
})();
