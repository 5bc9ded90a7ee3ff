#!/usr/bin/env python3
"""Helpers for tests/bench/run.sh (standard library only).

  bench.py field KEY              read a JSON document on stdin, print its KEY
  bench.py token BASE ID SECRET SCOPE
                                  client_credentials token (client_secret_basic), print access_token
  bench.py introspect BASE ID SECRET TOKEN
                                  exit 0 when the token is active
  bench.py get BASE PATH          exit 0 when GET answers 200
  bench.py login BASE CLIENT_ID REDIRECT_URI USERNAME PASSWORD SECONDS CONCURRENCY
                                  password-login load: each iteration is a fresh browser
                                  (GET /authorize -> GET /login -> POST /login), one keep-alive
                                  connection per worker; prints the same BENCH line as wrk's
                                  report.lua, latency being that of the form POST /login
  bench.py kek                    print a fresh key-encryption key (32 random bytes, base64url)

Only 127.0.0.1 is ever contacted (BASE comes from the server's listening line).
"""

import base64
import hashlib
import http.client
import json
import re
import secrets
import sys
import threading
import time
import urllib.parse


def conn_for(base):
    u = urllib.parse.urlsplit(base)
    if u.hostname not in ("127.0.0.1", "localhost", "::1"):
        sys.exit(f"bench.py: refusing non-loopback target {base}")
    return http.client.HTTPConnection(u.hostname, u.port or 80, timeout=30)


def basic(client_id, secret):
    raw = f"{urllib.parse.quote(client_id, safe='')}:{urllib.parse.quote(secret, safe='')}"
    return "Basic " + base64.b64encode(raw.encode()).decode()


def post_form(base, path, fields, headers=None):
    c = conn_for(base)
    body = urllib.parse.urlencode(fields)
    h = {"Content-Type": "application/x-www-form-urlencoded"}
    h.update(headers or {})
    c.request("POST", path, body=body, headers=h)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data


def cmd_token(base, client_id, secret, scope):
    fields = {"grant_type": "client_credentials"}
    if scope:
        fields["scope"] = scope
    status, data = post_form(base, "/token", fields, {"Authorization": basic(client_id, secret)})
    if status != 200:
        sys.exit(f"bench.py: /token answered {status}: {data[:300]!r}")
    print(json.loads(data)["access_token"])


def cmd_introspect(base, client_id, secret, token):
    status, data = post_form(
        base, "/introspect", {"token": token}, {"Authorization": basic(client_id, secret)}
    )
    if status != 200 or not json.loads(data).get("active"):
        sys.exit(f"bench.py: /introspect answered {status}: {data[:300]!r}")


def cmd_get(base, path):
    c = conn_for(base)
    c.request("GET", path)
    r = c.getresponse()
    r.read()
    if r.status != 200:
        sys.exit(f"bench.py: GET {path} answered {r.status}")


def cookies_from(resp, jar):
    for header in resp.msg.get_all("Set-Cookie") or []:
        pair = header.split(";", 1)[0]
        if "=" in pair:
            name, value = pair.split("=", 1)
            jar[name.strip()] = value.strip()


def cookie_header(jar):
    return "; ".join(f"{k}={v}" for k, v in jar.items())


HIDDEN = re.compile(r"<input[^>]*>", re.I)
ATTR = re.compile(r'(\w+)\s*=\s*"([^"]*)"')


def hidden_inputs(html):
    out = {}
    for tag in HIDDEN.findall(html):
        attrs = dict(ATTR.findall(tag))
        if attrs.get("type", "").lower() == "hidden" and "name" in attrs:
            out[attrs["name"]] = attrs.get("value", "")
    return out


class LoginFailed(Exception):
    pass


def one_login(c, client_id, redirect_uri, username, password):
    """One fresh-browser login; returns the latency of the POST /login in seconds."""
    jar = {}
    verifier = secrets.token_urlsafe(32)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    query = urllib.parse.urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": "openid",
            "state": secrets.token_urlsafe(8),
            "nonce": secrets.token_urlsafe(8),
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    c.request("GET", "/authorize?" + query)
    r = c.getresponse()
    r.read()
    cookies_from(r, jar)
    location = r.getheader("Location") or ""
    if r.status not in (302, 303) or "/login" not in location:
        raise LoginFailed(f"/authorize answered {r.status} Location={location!r}")
    path = urllib.parse.urlsplit(location)
    path = path.path + ("?" + path.query if path.query else "")

    c.request("GET", path, headers={"Cookie": cookie_header(jar)})
    r = c.getresponse()
    html = r.read().decode("utf-8", "replace")
    cookies_from(r, jar)
    if r.status != 200:
        raise LoginFailed(f"GET /login answered {r.status}")
    form = hidden_inputs(html)
    if "req" not in form or "csrf_token" not in form:
        raise LoginFailed("login page has no req/csrf_token hidden inputs")
    form["username"] = username
    form["password"] = password

    body = urllib.parse.urlencode(form)
    start = time.perf_counter()
    c.request(
        "POST",
        "/login",
        body=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": cookie_header(jar),
        },
    )
    r = c.getresponse()
    r.read()
    elapsed = time.perf_counter() - start
    location = r.getheader("Location") or ""
    if r.status not in (302, 303) or not location.startswith(redirect_uri) or "code=" not in location:
        raise LoginFailed(f"POST /login answered {r.status} Location={location[:80]!r}")
    return elapsed


def percentile(sorted_values, p):
    if not sorted_values:
        return 0.0
    k = max(0, min(len(sorted_values) - 1, int(round(p / 100.0 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


def cmd_login(base, client_id, redirect_uri, username, password, seconds, concurrency):
    seconds = float(seconds)
    concurrency = int(concurrency)
    lock = threading.Lock()
    latencies = []
    errors = {"status": 0, "socket": 0}
    first_error = []
    start = time.perf_counter()
    deadline = start + seconds

    def worker(index):
        # Browser `index` signs in as `<username>-<index>` (one account each).
        c = conn_for(base)
        while time.perf_counter() < deadline:
            try:
                t = one_login(c, client_id, redirect_uri, f"{username}-{index}", password)
                with lock:
                    latencies.append(t)
            except LoginFailed as e:
                with lock:
                    errors["status"] += 1
                    if not first_error:
                        first_error.append(str(e))
            except (OSError, http.client.HTTPException) as e:
                with lock:
                    errors["socket"] += 1
                    if not first_error:
                        first_error.append(repr(e))
                c.close()
                c = conn_for(base)
        c.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    duration = time.perf_counter() - start
    if first_error:
        print(f"bench.py: first login error: {first_error[0]}", file=sys.stderr)
    latencies.sort()
    print(
        "BENCH requests=%d duration_us=%.0f p50_us=%.0f p99_us=%.0f status_errors=%d socket_errors=%d"
        % (
            len(latencies),
            duration * 1e6,
            percentile(latencies, 50) * 1e6,
            percentile(latencies, 99) * 1e6,
            errors["status"],
            errors["socket"],
        )
    )


def read_json(text):
    """The JSON document in text (tolerates stray lines before it, as the tests do)."""
    try:
        return json.loads(text)
    except ValueError:
        for line in reversed(text.strip().splitlines()):
            try:
                return json.loads(line)
            except ValueError:
                continue
    sys.exit(f"bench.py: no JSON document in: {text[:300]!r}")


def main(argv):
    if not argv:
        sys.exit(__doc__)
    cmd, args = argv[0], argv[1:]
    if cmd == "field":
        value = read_json(sys.stdin.read())[args[0]]
        print("" if value is None else value)
    elif cmd == "token":
        cmd_token(*args)
    elif cmd == "introspect":
        cmd_introspect(*args)
    elif cmd == "get":
        cmd_get(*args)
    elif cmd == "login":
        cmd_login(*args)
    elif cmd == "kek":
        print(base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode())
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
