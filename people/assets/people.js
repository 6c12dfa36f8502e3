// Staff accounts: add a member (their one-time set-password link is shown
// here, with a copy button), disable, enable, reset, change a role; create
// an API token (its secret shown once) and revoke one. Over the JSON API,
// with the staff cookie, same-origin (the server checks Sec-Fetch-Site).
(function () {
  'use strict';

  var kit = window.presessionKit('people-messages', 'presession-people-flash', 'staff.people.js.failed');
  var t = kit.t, announce = kit.announce, api = kit.api, reloadWith = kit.reloadWith, fieldError = kit.fieldError;
  kit.showFlash();

  function formError(id, text) {
    var el = document.getElementById(id);
    el.textContent = text || '';
    el.hidden = !text;
    if (text) announce(text, true);
  }

  function busy(form, on) {
    form.querySelectorAll('button[type=submit]').forEach(function (b) { b.disabled = on; });
  }

  // The one-time set-password link of a new or reset member.
  function showLink(res, key) {
    var out = document.getElementById('link-out');
    var h = document.getElementById('link-out-h');
    var input = document.getElementById('link-url');
    h.textContent = t(res.mailed ? key + '_mailed' : key, res.member.name, res.member.email);
    input.value = res.set_password_url;
    out.hidden = false;
    h.focus();
    var text = h.textContent;
    if (res.mail_error) text += ' ' + t('staff.people.js.mail_failed', res.mail_error);
    announce(text, !!res.mail_error);
  }

  document.addEventListener('submit', function (e) {
    var form = e.target;
    if (form.dataset.form === 'member') { e.preventDefault(); addMember(form); }
    if (form.dataset.form === 'token') { e.preventDefault(); createToken(form); }
  });

  function addMember(form) {
    var name = form.elements.name, email = form.elements.email;
    fieldError(name, ''); fieldError(email, ''); formError('m-error', '');
    if (!name.value.trim()) { fieldError(name, t('staff.people.js.name_required')); return; }
    if (!email.value.trim()) { fieldError(email, t('staff.people.js.email_required')); return; }
    var body = { name: name.value.trim(), email: email.value.trim(), role: form.elements.role.value };
    if (form.elements.language) body.language = form.elements.language.value;
    busy(form, true);
    api('POST', '/api/v1/staff', body).then(function (res) {
      busy(form, false);
      form.reset();
      showLink(res, 'staff.people.js.added');
    }, function (err) {
      busy(form, false);
      // A refused address names it; an address taken is a conflict.
      var aboutAddress = err.code === 'conflict' || (err.code === 'invalid' && err.message.indexOf(body.email) >= 0);
      if (aboutAddress) fieldError(email, err.message);
      else formError('m-error', err.message);
    });
  }

  function createToken(form) {
    var name = form.elements.name;
    fieldError(name, ''); formError('t-error', '');
    if (!name.value.trim()) { fieldError(name, t('staff.people.js.token_name_required')); return; }
    busy(form, true);
    api('POST', '/api/v1/tokens', { name: name.value.trim(), role: form.elements.role.value }).then(function (res) {
      busy(form, false);
      var out = form.querySelector('.link-out');
      var secret = document.getElementById('t-secret');
      secret.value = res.secret;
      out.hidden = false;
      secret.focus();
      secret.select();
      announce(t('staff.people.js.token_created', res.token.name));
    }, function (err) {
      busy(form, false);
      if (err.code === 'invalid') fieldError(name, err.message);
      else formError('t-error', err.message);
    });
  }

  function copy(b) {
    var input = document.getElementById(b.dataset.target);
    input.select();
    var done = function () { announce(t('staff.people.js.copied')); };
    var fail = function () { announce(t('staff.people.js.copy_failed'), true); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(done, fail);
    } else {
      try { document.execCommand('copy') ? done() : fail(); } catch (e) { fail(); }
    }
  }

  function memberURL(row, action) { return '/api/v1/staff/' + encodeURIComponent(row.dataset.id) + '/' + action; }

  document.addEventListener('click', function (e) {
    var b = e.target.closest('button[data-action]');
    if (!b) return;
    var action = b.dataset.action;
    var row = b.closest('tr[data-id]');
    if (action === 'copy') { copy(b); return; }
    if (action === 'reload') { window.location.reload(); return; }
    if (!row) return;
    var name = row.dataset.name;
    var req, done;
    if (action === 'disable') {
      if (!window.confirm(t('staff.people.js.confirm_disable', name))) return;
      req = api('POST', memberURL(row, 'disable'));
      done = function () { reloadWith(t('staff.people.js.disabled', name)); };
    } else if (action === 'enable') {
      req = api('POST', memberURL(row, 'enable'));
      done = function () { reloadWith(t('staff.people.js.enabled', name)); };
    } else if (action === 'reset') {
      if (!window.confirm(t('staff.people.js.confirm_reset', name))) return;
      req = api('POST', memberURL(row, 'reset'));
      done = function (res) { b.disabled = false; showLink(res, 'staff.people.js.reset'); };
    } else if (action === 'role') {
      var sel = row.querySelector('select[name=role]');
      req = api('POST', memberURL(row, 'role'), { role: sel.value });
      done = function () { reloadWith(t('staff.people.js.role', name, sel.options[sel.selectedIndex].text)); };
    } else if (action === 'revoke') {
      if (!window.confirm(t('staff.people.js.confirm_revoke', name))) return;
      req = api('DELETE', '/api/v1/tokens/' + encodeURIComponent(row.dataset.id));
      done = function () { reloadWith(t('staff.people.js.revoked', name)); };
    } else {
      return;
    }
    b.disabled = true;
    req.then(done, function (err) {
      b.disabled = false;
      b.focus();
      announce(err.message, true);
    });
  });
})();
