//! `tessera-admin` as an operator meets it: bad arguments fail with a message on stderr and
//! change nothing, `--json` output is JSON, client secrets are shown once and never again,
//! password hashes are never shown, and a removed client can no longer get tokens.

use std::time::Duration;

use base64::Engine as _;
use serde_json::Value;
use tessera_tests::admin::AdminOutput;
use tessera_tests::oauth::{self, exchange_code};
use tessera_tests::steps::{self, land, Landing};
use tessera_tests::{
    both_backends, Admin, Authorize, Backend, ClientSpec, Provider, TestEnv, PASSWORD,
    RP_REDIRECT_URI,
};

/// Asserts a failed run: a non-zero exit (not a panic), `expected` on stderr, and on stdout
/// nothing or (with `--json`) a JSON `{"error": ...}` document.
fn assert_fails(out: &AdminOutput, what: &str, expected: &str) {
    let dump = format!(
        "{what}: status {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status, out.stdout, out.stderr
    );
    assert!(!out.status.success(), "succeeded: {dump}");
    let code = out
        .status
        .code()
        .unwrap_or_else(|| panic!("killed by a signal: {dump}"));
    assert_ne!(code, 101, "panicked: {dump}");
    assert!(!out.stderr.contains("panicked"), "panicked: {dump}");
    assert!(
        out.stderr.contains(expected),
        "stderr lacks {expected:?}: {dump}"
    );
    let stdout = out.stdout.trim();
    if !stdout.is_empty() {
        let v: Value = serde_json::from_str(stdout).unwrap_or_else(|e| {
            panic!("stdout of a failure is neither empty nor JSON ({e}): {dump}")
        });
        assert!(
            v.get("error").and_then(Value::as_str).is_some(),
            "JSON failure without an error message: {dump}"
        );
    }
}

/// Asserts a successful run.
fn assert_ok(out: &AdminOutput, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed ({})\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status,
        out.stdout,
        out.stderr
    );
    assert!(
        !out.stderr.contains("panicked"),
        "{what} panicked:\n{}",
        out.stderr
    );
}

/// Asserts success; the whole stdout as one JSON document (no tolerance for stray lines).
fn strict_json(out: &AdminOutput, what: &str) -> Value {
    assert_ok(out, what);
    serde_json::from_str(out.stdout.trim()).unwrap_or_else(|e| {
        panic!(
            "{what}: --json stdout is not one JSON document ({e}):\n{}",
            out.stdout
        )
    })
}

fn array_len(v: &Value, what: &str) -> usize {
    v.as_array()
        .unwrap_or_else(|| panic!("{what}: not a JSON array: {v}"))
        .len()
}

both_backends!(
    bad_arguments_fail_clearly_and_change_nothing,
    json_outputs_are_json,
    client_secret_is_shown_once,
    removed_client_gets_invalid_client,
    password_hashes_are_never_shown
);

async fn bad_arguments_fail_clearly_and_change_nothing(backend: Backend) {
    let env = TestEnv::new(backend);
    let admin = env.admin();
    admin.add_user("alice", PASSWORD);
    let fixed = admin.add_client(&ClientSpec::confidential("Fixed").client_id("fixed-id"));
    assert_eq!(fixed.client_id, "fixed-id");

    let cases: &[(&str, &[&str], Option<&str>, &str)] = &[
        ("unknown subcommand", &["frobnicate"], None, "frobnicate"),
        (
            "unknown user subcommand",
            &["user", "frobnicate"],
            None,
            "frobnicate",
        ),
        (
            "client add without --name",
            &["client", "add", "--redirect-uri", RP_REDIRECT_URI],
            None,
            "--name",
        ),
        (
            "non-loopback http redirect URI",
            &[
                "client",
                "add",
                "--name",
                "Evil",
                "--redirect-uri",
                "http://evil.example/cb",
            ],
            None,
            "http is only allowed for loopback hosts",
        ),
        (
            "non-loopback http post-logout redirect URI",
            &[
                "client",
                "add",
                "--name",
                "Evil",
                "--redirect-uri",
                RP_REDIRECT_URI,
                "--post-logout-redirect-uri",
                "http://evil.example/bye",
            ],
            None,
            "http is only allowed for loopback hosts",
        ),
        (
            "redirect URI with a fragment",
            &[
                "client",
                "add",
                "--name",
                "Frag",
                "--redirect-uri",
                "https://rp.example.test/cb#x",
            ],
            None,
            "fragment",
        ),
        (
            "javascript: redirect URI",
            &[
                "client",
                "add",
                "--name",
                "Js",
                "--redirect-uri",
                "javascript:alert(1)",
            ],
            None,
            "scheme not allowed",
        ),
        (
            "grant type password",
            &[
                "client",
                "add",
                "--name",
                "Pw",
                "--redirect-uri",
                RP_REDIRECT_URI,
                "--grant-type",
                "password",
            ],
            None,
            "unknown grant type `password`",
        ),
        (
            "public client with client_credentials",
            &[
                "client",
                "add",
                "--name",
                "Pub",
                "--public",
                "--grant-type",
                "client_credentials",
            ],
            None,
            "a public client cannot use client_credentials",
        ),
        (
            "authorization_code without a redirect URI",
            &["client", "add", "--name", "NoUri"],
            None,
            "--redirect-uri",
        ),
        (
            "unknown ID token algorithm",
            &[
                "client",
                "add",
                "--name",
                "Hs",
                "--redirect-uri",
                RP_REDIRECT_URI,
                "--id-token-alg",
                "HS256",
            ],
            None,
            "id token algorithm `HS256`",
        ),
        (
            "malformed client id",
            &[
                "client",
                "add",
                "--name",
                "Bad id",
                "--client-id",
                "bad id!",
                "--redirect-uri",
                RP_REDIRECT_URI,
            ],
            None,
            "client id must be",
        ),
        (
            "duplicate client id",
            &[
                "client",
                "add",
                "--name",
                "Again",
                "--client-id",
                "fixed-id",
                "--redirect-uri",
                RP_REDIRECT_URI,
            ],
            None,
            "already exists",
        ),
        (
            "duplicate username",
            &["user", "add", "alice", "--password-stdin"],
            Some("another good password\n"),
            "already exists",
        ),
        (
            "duplicate username in another case",
            &["user", "add", "ALICE", "--password-stdin"],
            Some("another good password\n"),
            "already exists",
        ),
        (
            "short password",
            &["user", "add", "bob", "--password-stdin"],
            Some("short7!\n"),
            "at least 8 characters",
        ),
        (
            "empty password on stdin",
            &["user", "add", "bob", "--password-stdin"],
            Some("\n"),
            "no password on standard input",
        ),
        (
            "malformed username",
            &["user", "add", "bad user", "--password-stdin"],
            Some("a good password\n"),
            "username must be",
        ),
        (
            "malformed email",
            &["user", "add", "carol", "--email", "not-an-email"],
            None,
            "is not an email address",
        ),
        (
            "user show nobody",
            &["user", "show", "nobody"],
            None,
            "no such user",
        ),
        (
            "user disable nobody",
            &["user", "disable", "nobody"],
            None,
            "no such user",
        ),
        (
            "short password for set-password",
            &["user", "set-password", "alice", "--password-stdin"],
            Some("short\n"),
            "at least 8 characters",
        ),
        (
            "keys rotate --alg HS256",
            &["keys", "rotate", "--alg", "HS256"],
            None,
            "unknown algorithm `HS256`",
        ),
        (
            "client show unknown",
            &["client", "show", "no-such-client"],
            None,
            "no client `no-such-client`",
        ),
        (
            "client remove unknown",
            &["client", "remove", "no-such-client"],
            None,
            "no such client",
        ),
    ];
    for (what, args, stdin, expected) in cases {
        assert_fails(&admin.run(args, *stdin), what, expected);
        assert_fails(
            &admin.run_plain(args, *stdin),
            &format!("{what} (without --json)"),
            expected,
        );
    }

    // Nothing was created by the failures.
    let users = strict_json(&admin.run(&["user", "list"], None), "user list");
    let names: Vec<&str> = users
        .as_array()
        .expect("user list array")
        .iter()
        .filter_map(|u| u.get("username").and_then(Value::as_str))
        .collect();
    assert_eq!(names, ["alice"], "failed `user add`s left users behind");
    let clients = strict_json(&admin.run(&["client", "list"], None), "client list");
    let ids: Vec<&str> = clients
        .as_array()
        .expect("client list array")
        .iter()
        .filter_map(|c| c.get("client_id").and_then(Value::as_str))
        .collect();
    assert_eq!(
        ids,
        ["fixed-id"],
        "failed `client add`s left clients behind"
    );
    // The password of alice was not changed by the refused set-password: she still logs in
    // (checked through `user show`: the hash is there, and the account is enabled).
    let alice = strict_json(&admin.run(&["user", "show", "alice"], None), "user show");
    assert_eq!(alice["has_password"], Value::Bool(true), "{alice}");
    assert_eq!(alice["disabled"], Value::Bool(false), "{alice}");
}

async fn json_outputs_are_json(backend: Backend) {
    let env = TestEnv::new(backend);
    let admin = env.admin();
    let run = |args: &[&str], stdin: Option<&str>| -> Value {
        strict_json(&admin.run(args, stdin), &args.join(" "))
    };

    let created = run(
        &[
            "user",
            "add",
            "alice",
            "--email",
            "alice@example.test",
            "--name",
            "Alice",
            "--password-stdin",
        ],
        Some(&format!("{PASSWORD}\n")),
    );
    assert_eq!(created["username"], "alice", "{created}");
    assert_eq!(created["email"], "alice@example.test", "{created}");
    assert!(created["id"].is_string(), "{created}");
    assert_eq!(array_len(&run(&["user", "list"], None), "user list"), 1);
    assert_eq!(run(&["user", "show", "alice"], None)["id"], created["id"]);
    assert_eq!(
        run(&["user", "show", "alice@example.test"], None)["id"],
        created["id"],
        "user show by email"
    );
    assert_eq!(run(&["user", "disable", "alice"], None)["disabled"], true);
    assert_eq!(run(&["user", "enable", "alice"], None)["disabled"], false);
    assert_eq!(
        array_len(&run(&["user", "consents", "alice"], None), "user consents"),
        0
    );
    run(
        &["user", "set-password", "alice", "--password-stdin"],
        Some("a brand new password\n"),
    );

    let client = run(
        &[
            "client",
            "add",
            "--name",
            "Web",
            "--client-id",
            "web",
            "--redirect-uri",
            RP_REDIRECT_URI,
        ],
        None,
    );
    let id = client["client_id"].as_str().expect("client_id").to_string();
    assert!(client["client_secret"].is_string(), "{client}");
    let public = run(
        &[
            "client",
            "add",
            "--name",
            "SPA",
            "--public",
            "--redirect-uri",
            RP_REDIRECT_URI,
        ],
        None,
    );
    assert!(public["client_secret"].is_null(), "public client: {public}");
    assert_eq!(array_len(&run(&["client", "list"], None), "client list"), 2);
    assert_eq!(
        run(&["client", "show", &id], None)["client_id"],
        id.as_str()
    );

    let keys = run(&["keys", "list"], None);
    assert!(array_len(&keys, "keys list") >= 1, "{keys}");
    let rotated = run(&["keys", "rotate", "--alg", "ES256"], None);
    assert_eq!(array_len(&rotated, "keys rotate"), 1, "{rotated}");
    assert_eq!(rotated[0]["alg"], "ES256", "{rotated}");
    let all = run(&["keys", "rotate"], None);
    assert_eq!(array_len(&all, "keys rotate (all)"), 3, "{all}");

    assert_eq!(
        run(&["client", "remove", &id], None)["removed"],
        id.as_str()
    );
    assert_eq!(array_len(&run(&["client", "list"], None), "client list"), 1);

    // `--json` after the subcommand works the same (global flag).
    let out = admin.run_plain(&["user", "list", "--json"], None);
    assert_eq!(
        array_len(&strict_json(&out, "user list --json"), "user list"),
        1
    );
}

async fn client_secret_is_shown_once(backend: Backend) {
    let p = Provider::start(backend);
    let admin = p.admin();
    // Fixed ids: see the note on `--client-id` in `removed_client_gets_invalid_client`.
    let client = admin.add_client(&ClientSpec::service("Backend").client_id("backend"));
    let secret = client.secret().to_string();
    assert!(
        secret.len() >= 32,
        "client secret too short to be 256-bit random: {secret:?}"
    );
    // The printed secret is the real one.
    oauth::token(
        &p.server,
        client.auth(),
        &[("grant_type", "client_credentials"), ("scope", "api.read")],
    )
    .await
    .assert_ok();

    // Neither the secret nor its stored form (SHA-256, base64url or hex) is ever shown again.
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, secret.as_bytes());
    let hash_b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref());
    let hash_hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    let id = client.client_id.as_str();
    let outputs = [
        (
            "client show --json",
            admin.run(&["client", "show", id], None),
        ),
        ("client list --json", admin.run(&["client", "list"], None)),
        (
            "client show",
            admin.run_plain(&["client", "show", id], None),
        ),
        ("client list", admin.run_plain(&["client", "list"], None)),
    ];
    for (what, out) in &outputs {
        assert_ok(out, what);
        assert!(out.stdout.contains(id), "{what} does not list the client");
        for (name, needle) in [
            ("secret", secret.as_str()),
            ("secret hash (base64url)", hash_b64.as_str()),
            ("secret hash (hex)", hash_hex.as_str()),
        ] {
            assert!(
                !out.stdout.contains(needle) && !out.stderr.contains(needle),
                "{what} shows the client {name}:\n{}",
                out.stdout
            );
        }
        assert!(
            !out.stdout.contains("secret_hash") && !out.stdout.contains("client_secret"),
            "{what} has a secret field:\n{}",
            out.stdout
        );
    }
    let shown = strict_json(&outputs[0].1, "client show --json");
    assert_eq!(shown["client_id"], id, "{shown}");
    assert_eq!(shown["public"], Value::Bool(false), "{shown}");

    // Human `client add` prints its secret exactly once.
    let out = admin.run_plain(
        &[
            "client",
            "add",
            "--name",
            "Human",
            "--redirect-uri",
            RP_REDIRECT_URI,
        ],
        None,
    );
    assert_ok(&out, "client add (human)");
    let line = out
        .stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("client_secret:"))
        .unwrap_or_else(|| panic!("human `client add` prints no secret:\n{}", out.stdout));
    let human_secret = line.trim();
    assert!(human_secret.len() >= 32, "{:?}", out.stdout);
    assert_eq!(
        out.stdout.matches(human_secret).count(),
        1,
        "the secret is printed more than once:\n{}",
        out.stdout
    );
    let listed = admin.run_plain(&["client", "list"], None);
    assert_ok(&listed, "client list (human)");
    assert!(
        !listed.stdout.contains(human_secret),
        "client list shows the secret of the human-added client"
    );
}

async fn removed_client_gets_invalid_client(backend: Backend) {
    let p = Provider::start(backend);
    let admin = p.admin();
    let user = admin.add_user("alice", PASSWORD);
    // Fixed ids: a generated id may start with `-`, which the CLI's positional CLIENT_ID
    // argument would take for an option (reported separately; `--` works around it).
    let service = admin.add_client(&ClientSpec::service("Backend").client_id("backend"));
    let web = admin.add_client(
        &ClientSpec::confidential("Web")
            .first_party()
            .client_id("web"),
    );
    let cc = [("grant_type", "client_credentials"), ("scope", "api.read")];

    // Working before removal (and now in the server's client cache).
    oauth::token(&p.server, service.auth(), &cc)
        .await
        .assert_ok();
    let tokens = oauth::login_and_exchange(&p.browser(), &p.server, &web, &user).await;
    let browser = p.browser();
    let req = Authorize::new(&p.server, &web);
    let code = req.run(&browser, &p.server, &user).await.code();

    for client in [&service, &web] {
        let removed = strict_json(
            &admin.run(&["client", "remove", &client.client_id], None),
            "client remove",
        );
        assert_eq!(removed["removed"], client.client_id.as_str(), "{removed}");
    }
    // A running server reuses a client read from the database for up to 5 s
    // (`oauth::clients::CACHE_TTL`, docs/architecture.md "Hot paths"), so a removal by
    // `tessera-admin` (another process) is only guaranteed to be seen after that: wait 6 s.
    tokio::time::sleep(Duration::from_secs(6)).await;

    let resp = oauth::token(&p.server, service.auth(), &cc).await;
    resp.assert_error(401, "invalid_client");
    assert!(
        resp.header("www-authenticate").is_some(),
        "401 invalid_client without WWW-Authenticate: {}",
        resp.describe()
    );
    oauth::refresh(&p.server, &web, tokens.refresh())
        .await
        .assert_error(401, "invalid_client");
    exchange_code(&p.server, &web, &code, Some(req.verifier()))
        .await
        .assert_error(401, "invalid_client");
    oauth::introspect(&p.server, web.auth(), &tokens.access_token)
        .await
        .assert_error(401, "invalid_client");

    // /authorize for the removed client: an error page, never a redirect.
    let req = Authorize::new(&p.server, &web);
    match land(&browser, &req.url()).await {
        Landing::Other(page) => steps::assert_error_page(&page, 400, "authorize removed client"),
        other => panic!("authorize for a removed client: {}", other.describe()),
    }

    // And the CLI no longer knows it.
    assert_fails(
        &admin.run(&["client", "show", &service.client_id], None),
        "client show after remove",
        "no client",
    );
    assert_fails(
        &admin.run(&["client", "remove", &service.client_id], None),
        "client remove twice",
        "no such client",
    );
    let listed = strict_json(&admin.run(&["client", "list"], None), "client list");
    assert_eq!(array_len(&listed, "client list"), 0, "{listed}");
}

async fn password_hashes_are_never_shown(backend: Backend) {
    let env = TestEnv::new(backend);
    let admin: Admin = env.admin();
    let alice = admin.add_user_with("alice", Some("alice@example.test"), Some("Alice"), PASSWORD);
    admin.add_user("bob", PASSWORD);
    let no_password = strict_json(&admin.run(&["user", "add", "carol"], None), "user add");
    assert_eq!(
        no_password["has_password"],
        Value::Bool(false),
        "{no_password}"
    );

    let outputs = [
        (
            "user add --json",
            admin.run(
                &["user", "add", "dave", "--password-stdin"],
                Some("dave's password\n"),
            ),
        ),
        ("user list --json", admin.run(&["user", "list"], None)),
        (
            "user show --json",
            admin.run(&["user", "show", "alice"], None),
        ),
        (
            "user disable --json",
            admin.run(&["user", "disable", "bob"], None),
        ),
        (
            "user enable --json",
            admin.run(&["user", "enable", "bob"], None),
        ),
        (
            "user set-password --json",
            admin.run(
                &["user", "set-password", "alice", "--password-stdin"],
                Some("a brand new password\n"),
            ),
        ),
        ("user list", admin.run_plain(&["user", "list"], None)),
        (
            "user show",
            admin.run_plain(&["user", "show", "alice"], None),
        ),
    ];
    for (what, out) in &outputs {
        assert_ok(out, what);
        for needle in ["$argon2", "password_hash", PASSWORD, "a brand new password"] {
            assert!(
                !out.stdout.contains(needle) && !out.stderr.contains(needle),
                "{what} shows {needle:?}:\n{}",
                out.stdout
            );
        }
    }
    let listed = strict_json(&outputs[1].1, "user list --json");
    assert_eq!(array_len(&listed, "user list"), 4);
    for user in listed.as_array().unwrap() {
        let has = user["has_password"]
            .as_bool()
            .unwrap_or_else(|| panic!("user without has_password: {user}"));
        let name = user["username"].as_str().unwrap_or_default();
        assert_eq!(has, name != "carol", "has_password of {name}: {user}");
    }
    assert_eq!(
        strict_json(&outputs[2].1, "user show --json")["id"].as_str(),
        Some(alice.id.as_str())
    );
}
