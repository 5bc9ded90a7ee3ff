// A customer in a real browser: headless Debian Chromium with a DevTools
// virtual authenticator (ctap2, internal transport, resident keys, user
// verification). They sign in with a password, add a passkey on the
// account page, sign out, sign in to an OIDC client with the passkey only,
// and the client's ID token says so in `amr` and `acr`.
//
// Needs target/debug/tessera and tessera-admin (tests/run.sh builds them)
// and /usr/bin/chromium (tests/run.sh installs Debian's package).

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { createServer } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createHash, randomBytes } from "node:crypto";
import { chromium } from "playwright-core";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const bin = (name) => join(root, "target", "debug", name);
const REDIRECT = "http://127.0.0.1:9/callback";
const PASSWORD = "correct horse battery staple";
const b64url = (buf) => Buffer.from(buf).toString("base64url");

function startServer(dir) {
  const env = {
    ...process.env,
    TESSERA_BIND: "127.0.0.1:0",
    TESSERA_DATABASE_URL: `sqlite://${join(dir, "tessera.db")}`,
    TESSERA_LOG: "warn",
    TESSERA_WEBAUTHN_RP_ID: "localhost",
    TESSERA_WEBAUTHN_ORIGINS: "http://localhost",
  };
  for (const key of ["TESSERA_REDIS_URL", "REDIS_URL", "DATABASE_URL", "TESSERA_ISSUER"]) delete env[key];
  const child = spawn(bin("tessera"), ["serve"], { env, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line; stderr: ${stderr}`)), 30000);
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/tessera: listening on (http:\/\/[^ ]+) \(issuer ([^)]+)\)/);
      if (m) {
        clearTimeout(timer);
        resolve({ child, env, base: m[1], issuer: m[2] });
      }
    });
    child.on("exit", (code) => reject(new Error(`tessera exited ${code}: ${stderr}`)));
  });
}

// Debian's Chromium, headless, with nothing reaching out to the network.
function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
      "--no-first-run", "--disable-component-update", "--disable-sync"],
  });
}

function admin(env, args, input) {
  return JSON.parse(execFileSync(bin("tessera-admin"), ["--json", ...args], { env, input }).toString());
}

test("password, then a passkey on the account page, then passkey-only sign-in to an OIDC client", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "tessera-browser-"));
  const server = await startServer(dir);
  t.after(() => {
    server.child.kill();
    rmSync(dir, { recursive: true, force: true });
  });
  const port = new URL(server.base).port;
  const site = `http://localhost:${port}`;
  admin(server.env, ["user", "add", "alice", "--password-stdin"], PASSWORD + "\n");
  const client = admin(server.env, [
    "client", "add", "--name", "Shop", "--first-party", "--redirect-uri", REDIRECT,
  ]);

  const browser = await launchChromium();
  t.after(() => browser.close());
  const context = await browser.newContext();
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });

  // 1. Password sign-in on the way to the account page.
  await page.goto(`${site}/account`);
  assert.match(page.url(), /\/login\?req=/);
  await page.getByLabel("Username or email").fill("alice");
  await page.getByLabel("Password").fill(PASSWORD);
  await Promise.all([page.waitForURL(`${site}/account`), page.getByRole("button", { name: "Sign in", exact: true }).click()]);
  await page.getByText("You have no passkeys yet.").waitFor();

  // 2. Add a passkey.
  await page.getByLabel("Name for the new passkey").fill("Test laptop");
  await Promise.all([
    page.waitForEvent("load"),
    page.getByRole("button", { name: "Add a passkey" }).click(),
  ]);
  await page.locator("li.passkey", { hasText: "Test laptop" }).waitFor();
  const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
  assert.equal(credentials.length, 1);
  assert.equal(credentials[0].isResidentCredential, true, "a discoverable passkey was created");
  const stored = admin(server.env, ["user", "passkeys", "alice"]);
  assert.equal(stored.length, 1);
  assert.equal(stored[0].name, "Test laptop");

  // 3-5, twice: through autofill, then (with autofill unavailable, as in
  // browsers without conditional mediation) through the button.
  await signOutAndSignInWithPasskey(t, page, site, server, client, "autofill");
  await context.addInitScript(() => {
    Object.defineProperty(PublicKeyCredential, "isConditionalMediationAvailable", {
      value: async () => false,
      configurable: true,
    });
  });
  await signOutAndSignInWithPasskey(t, page, site, server, client, "button");

  // 6. The passkey's use was recorded.
  const after = admin(server.env, ["user", "passkeys", "alice"]);
  assert.ok(after[0].last_used_at, "last_used_at is set");
});

// Signs out, signs in to the client with the passkey only, redeems the
// code and checks the ID token. `how`: "autofill" (conditional mediation)
// or "button".
async function signOutAndSignInWithPasskey(t, page, site, server, client, how) {
  // 3. Sign out (confirmation page, no id_token_hint).
  await page.goto(`${site}/logout`);
  await Promise.all([page.waitForLoadState(), page.getByRole("button", { name: "Sign out" }).click()]);
  await page.getByText("You are signed out").waitFor();

  // 4. An OIDC client sends the customer to sign in; they use the passkey only.
  const verifier = b64url(randomBytes(32));
  const challenge = b64url(createHash("sha256").update(verifier).digest());
  const nonce = b64url(randomBytes(16));
  const authorize = new URL(`${site}/authorize`);
  for (const [k, v] of Object.entries({
    response_type: "code", client_id: client.client_id, redirect_uri: REDIRECT, scope: "openid",
    state: "st-1", nonce, code_challenge: challenge, code_challenge_method: "S256",
  })) authorize.searchParams.set(k, v);
  let callback = null;
  await page.route(`${REDIRECT}**`, (route) => {
    callback = new URL(route.request().url());
    return route.fulfill({ status: 200, body: "back at the client" });
  });
  // With autofill (conditional mediation), Chromium's virtual authenticator
  // answers the page's request by itself: no click. Without it, the
  // "Sign in with a passkey" button starts the request.
  const landed = page.waitForURL(`${REDIRECT}**`, { timeout: 20000 });
  await page.goto(authorize.toString());
  if (how === "button") {
    await page.getByRole("button", { name: "Sign in with a passkey" }).click();
  }
  await landed;
  t.diagnostic(`signed in through ${how}`);
  assert.ok(callback, "the browser came back to the client");
  assert.equal(callback.searchParams.get("state"), "st-1");
  const code = callback.searchParams.get("code");
  assert.ok(code);

  // 5. The client redeems the code; the ID token says how the user signed in.
  const res = await fetch(`${server.base}/token`, {
    method: "POST",
    headers: {
      "Content-Type": "application/x-www-form-urlencoded",
      Authorization: "Basic " + Buffer.from(`${client.client_id}:${client.client_secret}`).toString("base64"),
    },
    body: new URLSearchParams({ grant_type: "authorization_code", code, redirect_uri: REDIRECT, code_verifier: verifier }),
  });
  const tokens = await res.json();
  assert.equal(res.status, 200, JSON.stringify(tokens));
  const claims = JSON.parse(Buffer.from(tokens.id_token.split(".")[1], "base64url").toString());
  assert.equal(claims.nonce, nonce);
  assert.ok(!claims.amr.includes("pwd"), `no password was used: ${claims.amr}`);
  assert.ok(claims.amr.includes("hwk") || claims.amr.includes("swk"), `amr names the key: ${claims.amr}`);
  assert.ok(claims.amr.includes("user"), `user verification: ${claims.amr}`);
  assert.ok(["phr", "phrh"].includes(claims.acr), `acr ${claims.acr}`);

  await page.unroute(`${REDIRECT}**`);
}

// The password form posts to the provider, which answers 303 to the client's
// redirect URI on another origin: Chromium checks the page's CSP form-action
// on that redirect too, so this proves the login page allows exactly it.
test("password sign-in through the login form lands back at the client", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "tessera-browser-"));
  const server = await startServer(dir);
  t.after(() => {
    server.child.kill();
    rmSync(dir, { recursive: true, force: true });
  });
  // The client: a real listener on 127.0.0.1 (routes are not applied to a
  // redirect's target, so the 303 must reach something).
  let callback = null;
  const rp = createServer((req, res) => {
    // Only the callback: the browser may ask for /favicon.ico afterwards.
    const url = new URL(req.url, "http://127.0.0.1");
    if (url.pathname === "/callback") callback = url;
    res.end("back at the client");
  });
  await new Promise((resolve) => rp.listen(0, "127.0.0.1", resolve));
  t.after(() => rp.close());
  const CLIENT_CALLBACK = `http://127.0.0.1:${rp.address().port}/callback`;
  admin(server.env, ["user", "add", "alice", "--password-stdin"], PASSWORD + "\n");
  const client = admin(server.env, [
    "client", "add", "--name", "Shop", "--first-party", "--redirect-uri", CLIENT_CALLBACK,
  ]);
  const browser = await launchChromium();
  t.after(() => browser.close());
  const page = await (await browser.newContext()).newPage();
  const authorize = new URL(`${server.base}/authorize`);
  const challenge = b64url(createHash("sha256").update(b64url(randomBytes(32))).digest());
  for (const [k, v] of Object.entries({
    response_type: "code", client_id: client.client_id, redirect_uri: CLIENT_CALLBACK, scope: "openid",
    state: "st-2", code_challenge: challenge, code_challenge_method: "S256",
  })) authorize.searchParams.set(k, v);
  await page.goto(authorize.toString());
  assert.match(page.url(), /\/login\?req=/);
  const csp = (await page.context().request.get(page.url())).headers()["content-security-policy"] || "";
  assert.ok(csp.endsWith(`form-action 'self' http://127.0.0.1:${rp.address().port}`), csp);
  await page.getByLabel("Username").fill("alice");
  await page.getByLabel("Password").fill(PASSWORD);
  const landed = page.waitForURL(`${CLIENT_CALLBACK}**`, { timeout: 20000 });
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await landed;
  assert.ok(callback, "the browser came back to the client");
  assert.equal(callback.searchParams.get("state"), "st-2");
  assert.ok(callback.searchParams.get("code"));
});
