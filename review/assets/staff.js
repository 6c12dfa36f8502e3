// Staff dashboard: review actions, live progress, preview, reordering,
// caption upload and link forms over the JSON API. The staff cookie is
// sent same-origin; the browser adds Sec-Fetch-Site, which the server
// checks on every unsafe request.
(function () {
  'use strict';

  var kit = window.presessionKit('staff-messages', 'presession-staff-flash', 'staff.js.failed');
  var live = kit.live, t = kit.t, announce = kit.announce, api = kit.api,
    reloadWith = kit.reloadWith, fieldError = kit.fieldError;

  function stURL(id, rest) { return '/api/v1/statements/' + encodeURIComponent(id) + rest; }

  // A decision reloads the page (counts, buttons and order change); the
  // message is shown and focused after the reload.
  kit.showFlash();

  function formError(id, text) {
    var el = document.getElementById(id);
    if (!el) return;
    el.textContent = text || '';
    el.hidden = !text;
  }

  // --- Row actions, preview, reorder, copy -------------------------------
  document.addEventListener('click', function (e) {
    var b = e.target.closest('button[data-action]');
    if (!b) return;
    var action = b.dataset.action; // an aria-disabled move button still says why nothing moves
    if (action === 'approve' || action === 'reopen') {
      var row = b.closest('tr[data-id]');
      b.disabled = true;
      api('POST', stURL(row.dataset.id, '/' + action)).then(function () {
        reloadWith(t(action === 'approve' ? 'staff.js.approved' : 'staff.js.reopened', row.dataset.title));
      }, function (err) {
        b.disabled = false;
        announce(err.message, true);
      });
    } else if (action === 'preview') {
      togglePreview(b);
    } else if (action === 'up' || action === 'down') {
      move(b, action);
    } else if (action === 'copy') {
      copy(b);
    } else if (action === 'reload') {
      window.location.reload();
    }
  });

  function togglePreview(b) {
    var box = document.getElementById(b.getAttribute('aria-controls'));
    var open = b.getAttribute('aria-expanded') === 'true';
    if (open) {
      var v = box.querySelector('video');
      if (v) { v.pause(); v.removeAttribute('src'); v.load(); }
      box.textContent = '';
      box.hidden = true;
      b.setAttribute('aria-expanded', 'false');
      return;
    }
    var video = document.createElement('video');
    video.controls = true;
    video.preload = 'metadata';
    var row = b.closest('tr[data-id]');
    video.setAttribute('aria-label', t('staff.js.preview_show') + ': ' + row.dataset.title);
    video.src = video.canPlayType('application/vnd.apple.mpegurl') ? b.dataset.hls : b.dataset.mp4;
    box.appendChild(video);
    box.hidden = false;
    b.setAttribute('aria-expanded', 'true');
  }

  function orderButtons(ol) {
    var items = ol.children;
    if (!ol.querySelector('[data-action=up]')) return; // a role that may not reorder
    for (var i = 0; i < items.length; i++) {
      items[i].querySelector('[data-action=up]').setAttribute('aria-disabled', String(i === 0));
      items[i].querySelector('[data-action=down]').setAttribute('aria-disabled', String(i === items.length - 1));
    }
  }
  document.querySelectorAll('ol.order').forEach(orderButtons);

  function move(b, dir) {
    var li = b.closest('li');
    var ol = li.parentElement;
    var title = li.dataset.title;
    var sib = dir === 'up' ? li.previousElementSibling : li.nextElementSibling;
    if (!sib) {
      announce(t(dir === 'up' ? 'staff.js.move_first' : 'staff.js.move_last', title));
      return;
    }
    var before = Array.prototype.map.call(ol.children, function (x) { return x.dataset.id; });
    if (dir === 'up') ol.insertBefore(li, sib); else ol.insertBefore(sib, li);
    orderButtons(ol);
    b.focus(); // moving a node keeps it, but say so explicitly
    var ids = Array.prototype.map.call(ol.children, function (x) { return x.dataset.id; });
    var url = '/api/v1/sessions/' + encodeURIComponent(ol.dataset.session) + '/countries/' + encodeURIComponent(ol.dataset.country) + '/order';
    api('PUT', url, { statements: ids }).then(function () {
      announce(t('staff.js.moved', title, ids.indexOf(li.dataset.id) + 1, ids.length));
    }, function (err) {
      // Put the list back as it was.
      before.forEach(function (id) { ol.appendChild(ol.querySelector('li[data-id="' + CSS.escape(id) + '"]')); });
      orderButtons(ol);
      b.focus();
      announce(t('staff.js.move_failed', err.message), true);
    });
  }

  function copy(b) {
    var input = document.getElementById(b.dataset.target);
    input.select();
    var done = function () { announce(t('staff.js.copied')); };
    var fail = function () { announce(t('staff.js.copy_failed'), true); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(done, fail);
    } else {
      try { document.execCommand('copy') ? done() : fail(); } catch (e) { fail(); }
    }
  }

  // --- Forms -------------------------------------------------------------
  document.addEventListener('submit', function (e) {
    var form = e.target;
    var kind = form.dataset.form;
    if (!kind) return;
    e.preventDefault();
    if (kind === 'reject') reject(form);
    else if (kind === 'caption') caption(form);
    else if (kind === 'invite') invite(form);
    else if (kind === 'viewer') viewer(form);
    else if (kind === 'import') importCSV(form);
  });

  function busy(form, on) {
    form.querySelectorAll('button[type=submit]').forEach(function (b) { b.disabled = on; });
  }

  function reject(form) {
    var row = form.closest('tr[data-id]');
    var input = form.elements.reason;
    var reason = input.value.trim();
    if (!reason) { fieldError(input, t('staff.js.reason_required')); return; }
    fieldError(input, '');
    busy(form, true);
    api('POST', stURL(row.dataset.id, '/reject'), { reason: reason }).then(function () {
      reloadWith(t('staff.js.rejected', row.dataset.title));
    }, function (err) {
      busy(form, false);
      fieldError(input, err.message);
    });
  }

  function caption(form) {
    var row = form.closest('tr[data-id]');
    var input = form.elements.file;
    var lang = form.elements.lang.value;
    var file = input.files && input.files[0];
    if (!file) { fieldError(input, t('staff.js.caption_file')); return; }
    fieldError(input, '');
    busy(form, true);
    var type = /\.srt$/i.test(file.name) ? 'application/x-subrip' : 'text/vtt';
    api('PUT', stURL(row.dataset.id, '/captions/' + encodeURIComponent(lang)), file, type).then(function (c) {
      busy(form, false);
      input.value = '';
      var state = row.querySelector('li[data-caption="' + CSS.escape(lang) + '"] [data-role=caption-state]');
      if (state) state.textContent = t('staff.caption.uploaded');
      announce(t('staff.js.caption_done', c.name || lang, row.dataset.title));
    }, function (err) {
      busy(form, false);
      fieldError(input, err.message);
    });
  }

  function showLink(form, inputId, url) {
    var out = form.querySelector('.link-out');
    var input = document.getElementById(inputId);
    input.value = url;
    out.hidden = false;
    input.focus();
    input.select();
    announce(t('staff.js.link_ready'));
  }

  function invite(form) {
    var org = form.elements.organisation;
    var until = form.elements.until;
    var emails = form.elements.emails;
    fieldError(org, '');
    fieldError(until, '');
    fieldError(emails, '');
    formError('inv-error', '');
    if (!org.value.trim()) { fieldError(org, t('staff.js.org_required')); return; }
    var addrs = emails.value.split(/[,;]/).map(function (a) { return a.trim(); }).filter(Boolean);
    var body = { session: form.elements.session.value, country: form.elements.country.value, organisation: org.value.trim(),
      language: form.elements.language.value };
    if (until.value) body.until = until.value;
    if (addrs.length) body.emails = addrs;
    busy(form, true);
    api('POST', '/api/v1/invitations', body).then(function (res) {
      busy(form, false);
      showLink(form, 'inv-url', res.upload_url);
      announce(t('staff.js.invited', body.organisation));
    }, function (err) {
      busy(form, false);
      // A closed deadline or a bad date is about the extension field, a
      // refused address (the message quotes it) about the addresses.
      var aboutAddress = err.code === 'invalid' && addrs.some(function (a) { return err.message.indexOf(a) >= 0; });
      if (aboutAddress) fieldError(emails, err.message);
      else if (err.code === 'forbidden' || (until.value && err.code === 'invalid' && /20\d\d/.test(err.message))) fieldError(until, err.message);
      else formError('inv-error', err.message);
    });
  }

  // A CSV import is all or nothing: on success the page reloads (the
  // table changes); a refused file lists every bad row, tied to the field.
  function importCSV(form) {
    var input = form.elements.file;
    var box = document.getElementById('imp-rows');
    var list = box.querySelector('ul');
    var file = input.files && input.files[0];
    fieldError(input, '');
    list.textContent = '';
    box.hidden = true;
    if (!file) { fieldError(input, t('staff.js.import_file')); return; }
    busy(form, true);
    fetch('/api/v1/invitations/import', {
      method: 'POST', credentials: 'same-origin', body: file,
      headers: { 'Accept': 'application/json', 'Content-Type': 'text/csv' },
    }).then(function (res) {
      return res.json().catch(function () { return null; }).then(function (data) { return { res: res, data: data }; });
    }).then(function (r) {
      busy(form, false);
      if (r.res.ok && r.data) {
        reloadWith(t('staff.js.imported', r.data.created, r.data.existing));
        return;
      }
      var e = r.data && r.data.error ? r.data.error : { message: t('staff.js.failed', r.res.status), rows: [] };
      (e.rows || []).forEach(function (row) {
        var li = document.createElement('li');
        li.textContent = row.column ? t('staff.js.row_error', row.line, row.column, row.message) : t('staff.js.line_error', row.line, row.message);
        list.appendChild(li);
      });
      box.hidden = !list.children.length;
      fieldError(input, e.message);
    }, function (err) {
      busy(form, false);
      fieldError(input, err.message);
    });
  }

  function viewer(form) {
    var days = form.elements.days;
    fieldError(days, '');
    formError('vw-error', '');
    var n = parseInt(days.value, 10);
    var most = parseInt(days.max, 10) || 3650;
    if (n > most) { fieldError(days, t('staff.err.valid_for_max', most)); return; }
    if (!(n >= 1)) { fieldError(days, t('staff.err.valid_for', days.value)); return; }
    var body = { session: form.elements.session.value, valid_for: (n * 24) + 'h' };
    if (form.elements.country.value) body.country = form.elements.country.value;
    var whom = form.elements['for'].value.trim(); // the field's maxlength is the API's
    if (whom) body['for'] = whom;
    busy(form, true);
    api('POST', '/api/v1/viewer-links', body).then(function (res) {
      busy(form, false);
      showLink(form, 'vw-url', res.url);
    }, function (err) {
      busy(form, false);
      formError('vw-error', err.message);
    });
  }

  // What the dashboard's other scripts (webhooks.js) share.
  window.presessionStaff = { t: t, api: api, announce: announce, fieldError: fieldError, formError: formError, busy: busy, reloadWith: reloadWith };

  // --- Live progress -----------------------------------------------------
  var table = document.getElementById('statements-table');
  var ACTIVE = { uploading: 1, uploaded: 1, processing: 1 };
  function activeRows() {
    return table ? table.querySelectorAll('tr[data-id]') : [];
  }
  var anyActive = Array.prototype.some.call(activeRows(), function (r) { return ACTIVE[r.dataset.status]; });
  var noticeShown = false;

  function poll() {
    var q = new URLSearchParams(window.location.search);
    var p = new URLSearchParams();
    ['session', 'country', 'status', 'q', 'offset'].forEach(function (k) { if (q.get(k)) p.set(k, q.get(k)); });
    p.set('limit', table.dataset.limit || '50');
    api('GET', '/api/v1/statements?' + p.toString()).then(function (res) {
      var changed = false;
      res.statements.forEach(function (s) {
        var row = document.getElementById('st-' + s.id);
        if (!row) return;
        var bar = row.querySelector('[data-role=progress]');
        if (bar) {
          bar.value = s.progress;
          var pct = Math.round(s.progress) + ' %';
          bar.textContent = pct;
          row.querySelector('[data-role=pct]').textContent = pct;
        }
        if (s.status !== row.dataset.status) {
          row.dataset.status = s.status;
          var badge = row.querySelector('[data-role=status]');
          badge.textContent = t('status.' + s.status);
          badge.className = 'status status-' + s.status;
          changed = true;
        }
      });
      if (changed && !noticeShown) {
        noticeShown = true;
        live.textContent = '';
        var p2 = document.createElement('p');
        p2.textContent = t('staff.js.changed');
        var btn = document.createElement('button');
        btn.type = 'button';
        btn.dataset.action = 'reload';
        btn.textContent = t('staff.js.reload');
        live.appendChild(p2);
        live.appendChild(btn);
      }
    }, function () { /* keep polling; a transient error is not worth a message */ });
  }
  if (table && anyActive) window.setInterval(poll, 3000);
})();
