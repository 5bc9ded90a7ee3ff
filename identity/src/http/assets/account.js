// "Add a passkey" on the account page: asks the browser to create a
// passkey and sends it to the provider. The rest of the page is plain forms.
"use strict";
(function () {
  const b64 = {
    decode(s) {
      s = s.replace(/-/g, "+").replace(/_/g, "/");
      while (s.length % 4) s += "=";
      return Uint8Array.from(atob(s), (c) => c.charCodeAt(0)).buffer;
    },
    encode(buf) {
      let s = "";
      for (const b of new Uint8Array(buf)) s += String.fromCharCode(b);
      return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    },
  };

  function creationOptions(options) {
    const pk = Object.assign({}, options.publicKey);
    pk.challenge = b64.decode(pk.challenge);
    pk.user = Object.assign({}, pk.user, { id: b64.decode(pk.user.id) });
    pk.excludeCredentials = (pk.excludeCredentials || []).map((c) =>
      Object.assign({}, c, { id: b64.decode(c.id) }));
    return pk;
  }

  function attestationJSON(cred) {
    const r = cred.response;
    return {
      id: cred.id,
      rawId: b64.encode(cred.rawId),
      type: cred.type,
      response: {
        clientDataJSON: b64.encode(r.clientDataJSON),
        attestationObject: b64.encode(r.attestationObject),
        transports: r.getTransports ? r.getTransports() : [],
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
    if (!res.ok) throw new Error(json.error_description || "the passkey could not be added");
    return json;
  }

  document.addEventListener("DOMContentLoaded", () => {
    const form = document.getElementById("add-passkey");
    if (!form || !window.PublicKeyCredential) return;
    form.hidden = false;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const status = document.getElementById("add-passkey-status");
      const csrf = form.dataset.csrf;
      try {
        const name = document.getElementById("passkey-name").value;
        const start = await post("/account/passkeys/registration/start", { name, csrf_token: csrf });
        const cred = await navigator.credentials.create({ publicKey: creationOptions(start.options) });
        await post("/account/passkeys/registration/finish", {
          csrf_token: csrf,
          ceremony_id: start.ceremony_id,
          credential: attestationJSON(cred),
        });
        window.location.reload();
      } catch (e) {
        status.textContent = e.message;
        status.hidden = false;
      }
    });
  });
})();
