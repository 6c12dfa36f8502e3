// Staff dashboard: the webhooks section. Registers an endpoint (its
// signing secret is shown once, here), and removes one. Uses the helpers
// staff.js shares, which runs first (both are deferred, in order).
(function () {
  'use strict';

  var s = window.presessionStaff;
  if (!s) return;

  document.addEventListener('submit', function (e) {
    var form = e.target;
    if (form.dataset.form !== 'webhook') return;
    e.preventDefault();
    register(form);
  });

  function register(form) {
    var url = form.elements.url;
    var events = Array.prototype.filter.call(form.querySelectorAll('input[name=events]'), function (c) { return c.checked; })
      .map(function (c) { return c.value; });
    var boxErr = document.getElementById('wh-events-error');
    s.fieldError(url, '');
    boxErr.hidden = true;
    s.formError('wh-error', '');
    if (!url.value.trim()) { s.fieldError(url, s.t('staff.webhooks.js.url_required')); return; }
    if (!events.length) {
      boxErr.textContent = s.t('staff.webhooks.js.events_required');
      boxErr.hidden = false;
      form.querySelector('input[name=events]').focus();
      return;
    }
    s.busy(form, true);
    s.api('POST', '/api/v1/webhooks', { url: url.value.trim(), events: events }).then(function (res) {
      s.busy(form, false);
      var out = form.querySelector('.link-out');
      var secret = document.getElementById('wh-secret');
      secret.value = res.secret;
      out.hidden = false;
      secret.focus();
      secret.select();
      s.announce(s.t('staff.webhooks.js.registered'));
    }, function (err) {
      s.busy(form, false);
      // The form sends known events only: a refusal is about the URL.
      if (err.code === 'invalid') s.fieldError(url, err.message);
      else s.formError('wh-error', err.message);
    });
  }

  document.addEventListener('click', function (e) {
    var b = e.target.closest('button[data-action=wh-remove]');
    if (!b) return;
    var panel = b.closest('[data-id]');
    var url = panel.dataset.url;
    if (!window.confirm(s.t('staff.webhooks.js.confirm_remove', url))) return;
    b.disabled = true;
    s.api('DELETE', '/api/v1/webhooks/' + encodeURIComponent(panel.dataset.id)).then(function () {
      s.reloadWith(s.t('staff.webhooks.js.removed', url));
    }, function (err) {
      b.disabled = false;
      s.announce(err.message, true);
    });
  });
})();
