// The CSO upload page: a small tus 1.0.0 client (creation, chunked PATCH,
// HEAD to resume, termination) with retries and exponential backoff. The
// upload URL is kept in localStorage under the invitation, file name, size
// and modification time, so choosing the same file after a reload resumes.
(function () {
  'use strict';

  const cfg = JSON.parse(document.getElementById('upload-config').textContent);
  const $ = (id) => document.getElementById(id);
  const form = $('upload-form');
  const STORE = 'presession-upload:' + cfg.invitation + ':';
  const MAX_ATTEMPTS = 12;

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

  function validate() {
    const title = $('title'), file = $('file');
    let first = null;
    const v = (input, text) => { if (!fieldError(input, text) && !first) first = input; };
    const tv = title.value.trim();
    v(title, !tv ? t('upload.err.title_required') : [...tv].length > 200 ? t('upload.err.title_long') : '');
    const f = file.files[0];
    let fe = '';
    if (!f) fe = t('upload.err.file_required');
    else if (!acceptedFile(f)) fe = t('upload.err.file_type', cfg.extensions.join(' '));
    else if (f.size === 0) fe = t('upload.err.file_empty');
    else if (f.size > cfg.maxBytes) fe = t('upload.err.file_large', bytes(f.size), bytes(cfg.maxBytes));
    v(file, fe);
    if (first) {
      alertError(t('upload.err.form'));
      first.focus();
      return false;
    }
    alertError('');
    return true;
  }

  // --- saved uploads ----------------------------------------------------------

  const keyOf = (file) => STORE + [file.name, file.size, file.lastModified].join(':');
  function saved(key) {
    try { return JSON.parse(localStorage.getItem(key) || 'null'); } catch (e) { return null; }
  }
  function save(u) {
    try {
      localStorage.setItem(u.key, JSON.stringify({
        url: u.url, offset: u.offset, name: u.file.name, size: u.file.size,
        title: u.meta.title, speaker: u.meta.speaker, language: u.meta.language,
      }));
    } catch (e) { /* private mode: no resume after reload, uploads still work */ }
  }
  const forget = (key) => { try { localStorage.removeItem(key); } catch (e) { /* ignore */ } };

  // An interrupted upload from an earlier visit: say so and fill the form in.
  function noteInterrupted() {
    for (let i = 0; i < localStorage.length; i++) {
      const k = localStorage.key(i);
      if (!k || !k.startsWith(STORE)) continue;
      const s = saved(k);
      if (!s || !s.url) continue;
      const pct = s.size ? Math.floor((100 * s.offset) / s.size) : 0;
      show($('resume-note'), t('upload.interrupted', s.name, bytes(s.size), pct));
      if (!$('title').value) $('title').value = s.title || '';
      if (!$('speaker').value) $('speaker').value = s.speaker || '';
      if (s.language) $('language').value = s.language;
      return;
    }
  }

  // --- tus --------------------------------------------------------------------

  function b64(s) {
    const utf8 = new TextEncoder().encode(s);
    let bin = '';
    utf8.forEach((b) => { bin += String.fromCharCode(b); });
    return btoa(bin);
  }

  // request sends one tus request; it resolves with the XHR whatever the
  // status, and rejects on network failure or abort.
  function request(u, method, url, headers, body, onProgress) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      u.xhr = xhr;
      xhr.open(method, url);
      xhr.setRequestHeader('Tus-Resumable', '1.0.0');
      xhr.setRequestHeader('Authorization', 'Bearer ' + cfg.token);
      xhr.setRequestHeader('Accept-Language', cfg.lang); // refusals come back in the page's language
      for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
      if (onProgress) xhr.upload.onprogress = (e) => onProgress(e.loaded);
      xhr.onload = () => { u.xhr = null; resolve(xhr); };
      xhr.onerror = () => { u.xhr = null; reject(new Failure('network')); };
      xhr.onabort = () => { u.xhr = null; reject(new Failure('aborted')); };
      xhr.send(body === undefined ? null : body);
    });
  }

  class Failure extends Error {
    constructor(kind, code, message) {
      super(message || kind);
      this.kind = kind; // network, aborted, retry, fatal, gone
      this.code = code || '';
    }
  }

  // failure classifies an unsuccessful response.
  function failure(xhr) {
    const body = (xhr.responseText || '').trim();
    const m = /^(ERR_[A-Z_]+):\s*(.*)$/s.exec(body);
    const code = m ? m[1] : '', msg = m ? m[2] : body;
    const s = xhr.status;
    if (s === 404 || s === 410) return new Failure('gone', code, msg);
    if (s >= 500 || s === 409 || s === 423 || s === 429 || s === 408) {
      // Refusals a retry cannot change: a finished upload, an invitation's limits.
      if (['ERR_UPLOAD_COMPLETE', 'ERR_TOO_MANY_STATEMENTS', 'ERR_TOO_MANY_UPLOADS'].includes(code)) return new Failure('fatal', code, msg);
      return new Failure('retry', code, msg);
    }
    return new Failure('fatal', code, msg);
  }

  function refusal(f) {
    const key = 'upload.srv.' + f.code;
    if (f.code && cfg.messages[key]) return t(key);
    return t('upload.srv.other', f.message);
  }

  async function create(u) {
    const meta = { filename: u.file.name, title: u.meta.title, language: u.meta.language };
    if (u.file.type) meta.filetype = u.file.type;
    if (u.meta.speaker) meta.speaker = u.meta.speaker;
    const hdr = {
      'Upload-Length': String(u.file.size),
      'Upload-Metadata': Object.entries(meta).map(([k, v]) => k + ' ' + b64(v)).join(','),
    };
    const xhr = await request(u, 'POST', cfg.endpoint, hdr);
    if (xhr.status !== 201) throw failure(xhr);
    u.url = new URL(xhr.getResponseHeader('Location'), location.href).href;
    u.offset = 0;
    save(u);
    loadStatements(); // the new statement shows as uploading
  }

  async function head(u) {
    const xhr = await request(u, 'HEAD', u.url, {});
    if (xhr.status !== 200) throw failure(xhr);
    if (Number(xhr.getResponseHeader('Upload-Length')) !== u.file.size) throw new Failure('gone');
    u.offset = Number(xhr.getResponseHeader('Upload-Offset'));
    save(u);
  }

  async function patch(u) {
    const end = Math.min(u.file.size, u.offset + cfg.chunkSize);
    const xhr = await request(u, 'PATCH', u.url,
      { 'Upload-Offset': String(u.offset), 'Content-Type': 'application/offset+octet-stream' },
      u.file.slice(u.offset, end), (loaded) => progress(u, u.offset + loaded));
    if (xhr.status !== 204) throw failure(xhr);
    u.offset = Number(xhr.getResponseHeader('Upload-Offset'));
    u.attempt = 0;
    save(u);
    progress(u, u.offset);
  }

  // --- progress -----------------------------------------------------------------

  function progress(u, sent) {
    const now = performance.now();
    u.samples.push([now, sent]);
    while (u.samples.length > 2 && now - u.samples[0][0] > 8000) u.samples.shift();
    if (now - u.drawn < 200 && sent < u.file.size) return;
    u.drawn = now;
    const size = u.file.size;
    const pct = Math.floor((1000 * sent) / size) / 10;
    $('progress').value = Math.floor((1000 * sent) / size);
    const parts = [t('upload.progress', bytes(sent), bytes(size), num.format(pct))];
    const [t0, b0] = u.samples[0];
    const speed = now > t0 + 500 ? ((sent - b0) * 1000) / (now - t0) : 0;
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

  // --- the upload ---------------------------------------------------------------

  let current = null;

  function wait(u, seconds) {
    return new Promise((resolve) => {
      let left = seconds;
      const tick = () => {
        if (u.paused || u.cancelled || left <= 0 || (navigator.onLine && u.wakeOnline)) {
          clearInterval(timer);
          window.removeEventListener('online', online);
          resolve();
          return;
        }
        status(navigator.onLine ? t('upload.retrying', left, u.attempt) : t('upload.offline'), 'error');
        left--;
      };
      const online = () => { u.wakeOnline = true; tick(); };
      const timer = setInterval(tick, 1000);
      u.wakeOnline = false;
      window.addEventListener('online', online);
      tick();
    });
  }

  async function run(u) {
    while (!u.paused && !u.cancelled) {
      try {
        if (u.url) {
          status(t('upload.resuming', bytes(u.offset)));
          await head(u);
        } else {
          status(t('upload.starting'));
          await create(u);
        }
        status('');
        progress(u, u.offset);
        while (u.offset < u.file.size) await patch(u);
        return finished(u);
      } catch (e) {
        if (u.paused || u.cancelled) return;
        if (!(e instanceof Failure)) throw e;
        if (e.kind === 'gone') { // expired or removed: start a new upload
          u.url = null;
          forget(u.key);
          continue;
        }
        if (e.kind === 'fatal') {
          status('');
          alertError(refusal(e));
          if (e.code === 'ERR_INVITATION_REVOKED') revoked(u);
          return stopped(u, false);
        }
        u.attempt++;
        if (u.attempt > MAX_ATTEMPTS) {
          alertError(t('upload.gave_up'));
          return stopped(u, false);
        }
        await wait(u, Math.min(60, 2 ** (u.attempt - 1)));
      }
    }
  }

  // Staff revoked the invitation: this upload cannot resume, and no other
  // can start; the message stays (what was uploaded before stays too).
  function revoked(u) {
    forget(u.key);
    show($('resume-note'), '');
    form.hidden = true;
  }

  function busy(on) {
    for (const id of ['title', 'speaker', 'language', 'file', 'submit']) $(id).disabled = on;
    $('pause').hidden = !on;
    $('cancel').hidden = !on;
  }

  function stopped(u, keepButtons) {
    if (current === u) current = null;
    busy(false);
    if (keepButtons) return;
    $('pause').hidden = $('cancel').hidden = true;
  }

  function finished(u) {
    forget(u.key);
    $('progress').value = 1000;
    progress(u, u.file.size);
    show($('resume-note'), '');
    status(t('upload.done'), 'ok');
    stopped(u, false);
    form.reset();
    $('status').focus();
    loadStatements();
  }

  // The form, while uploads are open.
  function initForm() {
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      if (current || !validate()) return;
      const file = $('file').files[0];
      const key = keyOf(file);
      const s = saved(key);
      const u = {
        file, key, url: s && s.url, offset: (s && s.offset) || 0, attempt: 0,
        meta: { title: $('title').value.trim(), speaker: $('speaker').value.trim(), language: $('language').value },
        samples: [], drawn: 0, announced: -1, paused: false, cancelled: false, xhr: null,
      };
      current = u;
      busy(true);
      $('pause').textContent = t('upload.pause');
      $('progress-section').hidden = false;
      show($('resume-note'), '');
      run(u);
    });

    $('pause').addEventListener('click', () => {
      const u = current;
      if (!u) return;
      if (!u.paused) {
        u.paused = true;
        if (u.xhr) u.xhr.abort();
        $('pause').textContent = t('upload.resume');
        status(t('upload.paused'));
      } else {
        u.paused = false;
        u.attempt = 0;
        u.samples = [];
        $('pause').textContent = t('upload.pause');
        run(u);
      }
    });

    $('cancel').addEventListener('click', async () => {
      const u = current;
      if (!u) return;
      u.cancelled = true;
      if (u.xhr) u.xhr.abort();
      forget(u.key);
      if (u.url) {
        try {
          const xhr = await request(u, 'DELETE', u.url, {});
          if (xhr.status !== 204 && xhr.status !== 404) alertError(refusal(failure(xhr)));
        } catch (e) { /* offline: the server removes abandoned uploads */ }
      }
      $('progress-section').hidden = true;
      status(t('upload.cancelled'));
      stopped(u, false);
      loadStatements();
    });

    $('file').addEventListener('change', () => fieldError($('file'), ''));
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
})();
