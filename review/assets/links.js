// Staff dashboard: revoking an upload link (an invitation) or a viewing
// link, after a confirmation; the page reloads with the message. Uses the
// helpers staff.js shares, which runs first (both are deferred, in order).
(function () {
  'use strict';

  var s = window.presessionStaff;
  if (!s) return;

  var kinds = {
    'inv-revoke': { url: '/api/v1/invitations/', confirm: 'staff.revoke.js.confirm_invitation', done: 'staff.revoke.js.invitation_done' },
    'vl-revoke': { url: '/api/v1/viewer-links/', confirm: 'staff.revoke.js.confirm_link', done: 'staff.revoke.js.link_done' },
  };

  document.addEventListener('click', function (e) {
    var b = e.target.closest('button[data-action]');
    var kind = b && kinds[b.dataset.action];
    if (!kind) return;
    var row = b.closest('tr[data-id]');
    var name = row.dataset.name;
    if (!window.confirm(s.t(kind.confirm, name))) return;
    b.disabled = true;
    s.api('POST', kind.url + encodeURIComponent(row.dataset.id) + '/revoke').then(function () {
      s.reloadWith(s.t(kind.done, name));
    }, function (err) {
      b.disabled = false;
      s.announce(err.message, true);
    });
  });
})();
