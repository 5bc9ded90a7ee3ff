// Passkey sign-in on the login page: a "Sign in with a passkey" button and
// browser autofill (conditional mediation) on the username field. The page
// works without this script; it only adds passkeys.
"use strict";
(function () {
  const b64 = {
    decode(s) {
      s = s.replace(/-/g, "+").replace(/_/g, "/");
      while (s.length % 4) s += "=";
      return Uint8Array.from(atob(s), (c) => c.charCodeAt(0)).buffer;
    },
    encode(buf) {
      const bytes = new Uint8Array(buf);
      let s = "";
      for (const b of bytes) s += String.fromCharCode(b);
      return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    },
  };

  function requestOptions(options) {
    const pk = Object.assign({}, options.publicKey);
    pk.challenge = b64.decode(pk.challenge);
    pk.allowCredentials = (pk.allowCredentials || []).map((c) =>
      Object.assign({}, c, { id: b64.decode(c.id) }));
    return pk;
  }

  function assertionJSON(cred) {
    const r = cred.response;
    return {
      id: cred.id,
      rawId: b64.encode(cred.rawId),
      type: cred.type,
      response: {
        clientDataJSON: b64.encode(r.clientDataJSON),
        authenticatorData: b64.encode(r.authenticatorData),
        signature: b64.encode(r.signature),
        userHandle: r.userHandle ? b64.encode(r.userHandle) : null,
      },
      extensions: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
    };
  }

  async function post(path, body) {
    const res = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      credentials: "same-origin",
      body: JSON.stringify(body),
    });
    const json = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(json.error_description || "passkey sign-in failed");
    return json;
  }

  function showError(message) {
    const box = document.getElementById("passkey-error");
    if (box) {
      box.textContent = message;
      box.hidden = false;
    }
  }

  async function signIn(root, mediation, signal) {
    const base = { req: root.dataset.req, csrf_token: root.dataset.csrf };
    // No username is sent: the challenge never depends on one.
    const start = await post("/login/passkey/start", base);
    const cred = await navigator.credentials.get({
      publicKey: requestOptions(start.options),
      mediation: mediation || "optional",
      signal,
    });
    const done = await post("/login/passkey/finish", Object.assign({}, base, {
      ceremony_id: start.ceremony_id,
      credential: assertionJSON(cred),
    }));
    window.location.assign(done.location);
  }

  document.addEventListener("DOMContentLoaded", async () => {
    const root = document.getElementById("passkey");
    if (!root || !window.PublicKeyCredential) return;
    root.hidden = false;
    let conditional = null;
    let conditionalDone = Promise.resolve();
    const button = document.getElementById("passkey-signin");
    button.addEventListener("click", async () => {
      // One WebAuthn request at a time: end the autofill request first.
      if (conditional) {
        conditional.abort();
        await conditionalDone;
      }
      try {
        await signIn(root, null, undefined);
      } catch (e) {
        showError(e.message);
      }
    });
    if (PublicKeyCredential.isConditionalMediationAvailable &&
        await PublicKeyCredential.isConditionalMediationAvailable()) {
      conditional = new AbortController();
      conditionalDone = signIn(root, "conditional", conditional.signal).catch(() => {});
    }
  });
})();
