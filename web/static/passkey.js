// Passkeys (WebAuthn) on the staff pages, with the browser's own API:
// adding one on /staff/me (#pk-register), signing in with one alone
// (#pk-login) or after the password (#pk-second) on the sign-in page. The
// server's options are JSON with base64url strings where the API wants
// bytes; the answers go back the same way. Messages come from the data-
// attributes of the element that starts the ceremony, in the page's
// language.
(function () {
  'use strict';

  function toBytes(s) {
    var b64 = s.replace(/-/g, '+').replace(/_/g, '/');
    while (b64.length % 4) b64 += '=';
    var bin = atob(b64);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }

  function toB64u(buf) {
    var bytes = new Uint8Array(buf);
    var bin = '';
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  function descriptors(list) {
    return (list || []).map(function (d) { return Object.assign({}, d, { id: toBytes(d.id) }); });
  }

  function creationOptions(o) {
    var pk = Object.assign({}, o.publicKey);
    pk.challenge = toBytes(pk.challenge);
    pk.user = Object.assign({}, pk.user, { id: toBytes(pk.user.id) });
    if (pk.excludeCredentials) pk.excludeCredentials = descriptors(pk.excludeCredentials);
    return { publicKey: pk };
  }

  function requestOptions(o) {
    var pk = Object.assign({}, o.publicKey);
    pk.challenge = toBytes(pk.challenge);
    if (pk.allowCredentials) pk.allowCredentials = descriptors(pk.allowCredentials);
    return { publicKey: pk };
  }

  function credentialJSON(c) {
    var r = c.response;
    var out = { id: c.id, rawId: toB64u(c.rawId), type: c.type, clientExtensionResults: c.getClientExtensionResults(),
      authenticatorAttachment: c.authenticatorAttachment || undefined, response: { clientDataJSON: toB64u(r.clientDataJSON) } };
    if (r.attestationObject) {
      out.response.attestationObject = toB64u(r.attestationObject);
      if (r.getTransports) out.response.transports = r.getTransports();
    } else {
      out.response.authenticatorData = toB64u(r.authenticatorData);
      out.response.signature = toB64u(r.signature);
      if (r.userHandle) out.response.userHandle = toB64u(r.userHandle);
    }
    return out;
  }

  async function post(url, body) {
    var res = await fetch(url, { method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'Accept': 'application/json' }, body: JSON.stringify(body || {}) });
    var data = await res.json().catch(function () { return {}; });
    if (!res.ok) throw new Error((data.error && data.error.message) || res.statusText);
    return data;
  }

  function supported() { return !!(window.PublicKeyCredential && navigator.credentials); }

  // say shows msg in the live region live (an error when bad) and moves
  // focus there, so a screen reader hears it and a keyboard user is near.
  function say(live, msg, bad) {
    if (!live) return;
    live.textContent = msg;
    live.classList.toggle('error', !!bad);
    live.focus();
  }

  // failed is the message of a ceremony that did not end: the person
  // cancelled it (or the browser refused it), or the server said why.
  function failed(e, el) {
    if (e && (e.name === 'NotAllowedError' || e.name === 'AbortError')) return el.dataset.cancelled;
    return (e && e.message) || String(e);
  }

  function setBusy(button, busy) {
    if (!button) return;
    button.disabled = busy;
    button.setAttribute('aria-busy', busy ? 'true' : 'false');
  }

  var reg = document.getElementById('pk-register');
  if (reg) {
    var regLive = document.getElementById('pk-live');
    reg.addEventListener('submit', async function (ev) {
      ev.preventDefault();
      var nameEl = document.getElementById('pk-name');
      var name = nameEl.value.trim();
      if (!name) {
        nameEl.setAttribute('aria-invalid', 'true');
        say(regLive, reg.dataset.nameRequired, true);
        nameEl.focus();
        return;
      }
      nameEl.removeAttribute('aria-invalid');
      if (!supported()) { say(regLive, reg.dataset.unsupported, true); return; }
      var button = document.getElementById('pk-add');
      setBusy(button, true);
      say(regLive, reg.dataset.working, false);
      try {
        var options = await post('/staff/passkeys/register/begin');
        var cred = await navigator.credentials.create(creationOptions(options));
        await post('/staff/passkeys/register/finish', { name: name, credential: credentialJSON(cred) });
        window.location.assign('/staff/me?done=added');
      } catch (e) {
        say(regLive, failed(e, reg), true);
        setBusy(button, false);
      }
    });
  }

  function signIn(button, second) {
    if (!button) return;
    var live = document.getElementById(button.dataset.live);
    button.addEventListener('click', async function () {
      if (!supported()) { say(live, button.dataset.unsupported, true); return; }
      setBusy(button, true);
      say(live, button.dataset.working, false);
      try {
        var options = await post('/staff/passkeys/login/begin', { second_factor: second });
        var cred = await navigator.credentials.get(requestOptions(options));
        var done = await post('/staff/passkeys/login/finish', credentialJSON(cred));
        window.location.assign(done.redirect || '/staff');
      } catch (e) {
        say(live, failed(e, button), true);
        setBusy(button, false);
      }
    });
  }
  signIn(document.getElementById('pk-login'), false);
  signIn(document.getElementById('pk-second'), true);
})();
