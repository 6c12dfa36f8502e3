// staff-kit.js: what the staff pages' scripts share: their messages in the
// page's language, the live region, the JSON API over the staff cookie
// (same-origin; the browser adds Sec-Fetch-Site, which the server checks
// on every unsafe request), a message carried across a reload, and field
// errors. A page loads it before its own script (both deferred, so in
// order) and makes its kit with the id of its messages' JSON, its flash
// key and the message of a failed request:
//
//   var s = window.presessionKit('staff-messages', 'presession-staff-flash', 'staff.js.failed');
(function () {
  'use strict';

  window.presessionKit = function (messagesId, flashKey, failedKey) {
    var msgEl = document.getElementById(messagesId);
    var msgs = msgEl ? JSON.parse(msgEl.textContent) : {};
    var live = document.getElementById('live');

    function t(key) {
      var args = Array.prototype.slice.call(arguments, 1);
      var i = 0;
      return (msgs[key] || key).replace(/%[sdq]/g, function () { return String(args[i++]); });
    }

    function announce(text, isError) {
      // Clear first so a repeated message is announced again.
      live.textContent = '';
      live.classList.toggle('error', !!isError);
      window.setTimeout(function () { live.textContent = text; }, 50);
    }

    // api sends body as JSON, or as it is with contentType; the answer's
    // JSON (null for none); a refusal throws the server's message, in the
    // page's language, with its status and code.
    function api(method, url, body, contentType) {
      var opts = { method: method, credentials: 'same-origin', headers: { 'Accept': 'application/json' } };
      if (body !== undefined) {
        opts.headers['Content-Type'] = contentType || 'application/json';
        opts.body = contentType ? body : JSON.stringify(body);
      }
      return fetch(url, opts).then(function (res) {
        return res.json().catch(function () { return null; }).then(function (data) {
          if (!res.ok) {
            var err = new Error(data && data.error ? data.error.message : t(failedKey, res.status));
            err.status = res.status;
            err.code = data && data.error ? data.error.code : '';
            throw err;
          }
          return data;
        });
      });
    }

    // flashNext keeps text for the next page this tab opens, which shows
    // it in its live region (showFlash).
    function flashNext(text) {
      try { sessionStorage.setItem(flashKey, text); } catch (e) { /* private mode */ }
    }
    function reloadWith(text) {
      flashNext(text);
      window.location.reload();
    }
    function showFlash() {
      try {
        var flash = sessionStorage.getItem(flashKey);
        if (flash) {
          sessionStorage.removeItem(flashKey);
          live.textContent = flash;
          live.focus();
        }
      } catch (e) { /* private mode */ }
    }

    function fieldError(input, text) {
      var err = document.getElementById(input.id + '-error');
      if (text) {
        input.setAttribute('aria-invalid', 'true');
        if (err) { err.textContent = text; err.hidden = false; }
        input.focus();
      } else {
        input.removeAttribute('aria-invalid');
        if (err) { err.textContent = ''; err.hidden = true; }
      }
    }

    return { msgs: msgs, live: live, t: t, announce: announce, api: api, flashNext: flashNext,
      reloadWith: reloadWith, showFlash: showFlash, fieldError: fieldError };
  };
})();
