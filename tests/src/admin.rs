//! Drives `target/debug/tessera-admin --json ...` with a test environment's configuration.

use std::io::Write;
use std::process::{Command, ExitStatus, Stdio};

use serde_json::Value;

use crate::server::{binary, scrub_env};
use crate::{RP_POST_LOGOUT_URI, RP_REDIRECT_URI};

/// Result of one admin CLI run.
#[derive(Debug)]
pub struct AdminOutput {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl AdminOutput {
    /// The JSON document printed on stdout.
    pub fn json(&self) -> Value {
        let text = self.stdout.trim();
        if let Ok(v) = serde_json::from_str(text) {
            return v;
        }
        // Tolerate a stray line before the document: take the last line that parses.
        for line in text.lines().rev() {
            if let Ok(v) = serde_json::from_str::<Value>(line.trim()) {
                return v;
            }
        }
        panic!(
            "tessera-admin did not print JSON\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.stdout, self.stderr
        );
    }
}

/// The admin CLI bound to one [`crate::TestEnv`].
#[derive(Clone, Debug)]
pub struct Admin {
    vars: Vec<(String, String)>,
}

/// A user created through the CLI.
#[derive(Clone, Debug)]
pub struct User {
    pub id: String,
    pub username: String,
    pub password: String,
    pub email: Option<String>,
    pub raw: Value,
}

/// What to register with `tessera-admin client add`.
#[derive(Clone, Debug)]
pub struct ClientSpec {
    pub name: String,
    pub client_id: Option<String>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub scopes: Vec<String>,
    pub public: bool,
    pub first_party: bool,
    pub id_token_alg: Option<String>,
}

impl ClientSpec {
    /// A confidential third-party web client with [`RP_REDIRECT_URI`] and
    /// [`RP_POST_LOGOUT_URI`] registered and the default grant types and scopes.
    pub fn confidential(name: &str) -> ClientSpec {
        ClientSpec {
            name: name.to_string(),
            client_id: None,
            redirect_uris: vec![RP_REDIRECT_URI.to_string()],
            post_logout_redirect_uris: vec![RP_POST_LOGOUT_URI.to_string()],
            grant_types: Vec::new(),
            scopes: Vec::new(),
            public: false,
            first_party: false,
            id_token_alg: None,
        }
    }

    /// A public (PKCE-only) client with the same URIs.
    pub fn public(name: &str) -> ClientSpec {
        ClientSpec {
            public: true,
            ..ClientSpec::confidential(name)
        }
    }

    /// A confidential backend service: client_credentials only, scopes `api.read api.write`,
    /// no redirect URIs.
    pub fn service(name: &str) -> ClientSpec {
        ClientSpec {
            redirect_uris: Vec::new(),
            post_logout_redirect_uris: Vec::new(),
            grant_types: vec!["client_credentials".to_string()],
            scopes: vec!["api.read".to_string(), "api.write".to_string()],
            ..ClientSpec::confidential(name)
        }
    }

    pub fn first_party(mut self) -> Self {
        self.first_party = true;
        self
    }

    pub fn id_token_alg(mut self, alg: &str) -> Self {
        self.id_token_alg = Some(alg.to_string());
        self
    }

    pub fn grant_types(mut self, grants: &[&str]) -> Self {
        self.grant_types = grants.iter().map(|s| s.to_string()).collect();
        self
    }

    pub fn scopes(mut self, scopes: &[&str]) -> Self {
        self.scopes = scopes.iter().map(|s| s.to_string()).collect();
        self
    }

    pub fn client_id(mut self, id: &str) -> Self {
        self.client_id = Some(id.to_string());
        self
    }

    fn args(&self) -> Vec<String> {
        let mut args = vec![
            "client".to_string(),
            "add".to_string(),
            "--name".to_string(),
            self.name.clone(),
        ];
        if let Some(id) = &self.client_id {
            args.extend(["--client-id".to_string(), id.clone()]);
        }
        for u in &self.redirect_uris {
            args.extend(["--redirect-uri".to_string(), u.clone()]);
        }
        for u in &self.post_logout_redirect_uris {
            args.extend(["--post-logout-redirect-uri".to_string(), u.clone()]);
        }
        for g in &self.grant_types {
            args.extend(["--grant-type".to_string(), g.clone()]);
        }
        for s in &self.scopes {
            args.extend(["--scope".to_string(), s.clone()]);
        }
        if self.public {
            args.push("--public".to_string());
        }
        if self.first_party {
            args.push("--first-party".to_string());
        }
        if let Some(alg) = &self.id_token_alg {
            args.extend(["--id-token-alg".to_string(), alg.clone()]);
        }
        args
    }
}

/// A client as registered (with its one-time secret for confidential clients).
#[derive(Clone, Debug)]
pub struct RegisteredClient {
    pub client_id: String,
    pub client_secret: Option<String>,
    pub redirect_uri: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub raw: Value,
}

impl RegisteredClient {
    /// The registered redirect URI (panics for clients without one).
    pub fn redirect(&self) -> &str {
        self.redirect_uri
            .as_deref()
            .expect("client has no redirect URI")
    }

    pub fn secret(&self) -> &str {
        self.client_secret
            .as_deref()
            .expect("client is public: no secret")
    }

    /// client_secret_basic for confidential clients, `none` (client_id in the body) for public
    /// ones.
    pub fn auth(&self) -> crate::ClientAuth<'_> {
        match &self.client_secret {
            Some(secret) => crate::ClientAuth::Basic(&self.client_id, secret),
            None => crate::ClientAuth::None(&self.client_id),
        }
    }
}

fn value_to_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl Admin {
    pub fn new(vars: Vec<(String, String)>) -> Admin {
        Admin { vars }
    }

    /// Runs `tessera-admin --json ARGS`, feeding `stdin` when given.
    pub fn run(&self, args: &[&str], stdin: Option<&str>) -> AdminOutput {
        self.spawn(true, args, stdin)
    }

    /// Runs `tessera-admin ARGS` without `--json` (human output), feeding `stdin` when given.
    pub fn run_plain(&self, args: &[&str], stdin: Option<&str>) -> AdminOutput {
        self.spawn(false, args, stdin)
    }

    fn spawn(&self, json: bool, args: &[&str], stdin: Option<&str>) -> AdminOutput {
        let bin = binary("tessera-admin");
        let mut cmd = Command::new(&bin);
        scrub_env(&mut cmd);
        for (k, v) in &self.vars {
            cmd.env(k, v);
        }
        if json {
            cmd.arg("--json");
        }
        cmd.args(args);
        cmd.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot spawn {}: {e}", bin.display()));
        if let Some(input) = stdin {
            let mut pipe = child.stdin.take().expect("piped stdin");
            pipe.write_all(input.as_bytes())
                .expect("write to tessera-admin stdin");
            drop(pipe);
        }
        let out = child.wait_with_output().expect("wait for tessera-admin");
        AdminOutput {
            status: out.status,
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Runs and asserts success; returns the printed JSON.
    pub fn json(&self, args: &[&str], stdin: Option<&str>) -> Value {
        let out = self.run(args, stdin);
        assert!(
            out.status.success(),
            "tessera-admin {args:?} failed ({})\n--- stdout ---\n{}\n--- stderr ---\n{}",
            out.status,
            out.stdout,
            out.stderr
        );
        out.json()
    }

    /// `user add USERNAME --password-stdin`.
    pub fn add_user(&self, username: &str, password: &str) -> User {
        self.add_user_with(username, None, None, password)
    }

    /// `user add USERNAME [--email E] [--name N] --password-stdin`.
    pub fn add_user_with(
        &self,
        username: &str,
        email: Option<&str>,
        name: Option<&str>,
        password: &str,
    ) -> User {
        let mut args = vec!["user", "add", username];
        if let Some(e) = email {
            args.extend(["--email", e]);
        }
        if let Some(n) = name {
            args.extend(["--name", n]);
        }
        args.push("--password-stdin");
        let raw = self.json(&args, Some(&format!("{password}\n")));
        let id = raw
            .get("id")
            .and_then(value_to_string)
            .unwrap_or_else(|| panic!("`user add` JSON has no id: {raw}"));
        assert_eq!(
            raw.get("username").and_then(Value::as_str),
            Some(username),
            "`user add` JSON username: {raw}"
        );
        User {
            id,
            username: username.to_string(),
            password: password.to_string(),
            email: email.map(str::to_string),
            raw,
        }
    }

    /// `client add ...` from a spec.
    pub fn add_client(&self, spec: &ClientSpec) -> RegisteredClient {
        let args = spec.args();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let raw = self.json(&args, None);
        let client_id = raw
            .get("client_id")
            .and_then(value_to_string)
            .unwrap_or_else(|| panic!("`client add` JSON has no client_id: {raw}"));
        let client_secret = match raw.get("client_secret") {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Null) | None => None,
            Some(other) => panic!("`client add` client_secret is not a string: {other}"),
        };
        if spec.public {
            assert!(client_secret.is_none(), "public client got a secret: {raw}");
        } else {
            assert!(
                client_secret.is_some(),
                "confidential client got no secret: {raw}"
            );
        }
        if let Some(id) = &spec.client_id {
            assert_eq!(&client_id, id, "--client-id not honoured: {raw}");
        }
        RegisteredClient {
            client_id,
            client_secret,
            redirect_uri: spec.redirect_uris.first().cloned(),
            post_logout_redirect_uri: spec.post_logout_redirect_uris.first().cloned(),
            raw,
        }
    }

    /// `keys rotate [--alg ALG]`.
    pub fn rotate_keys(&self, alg: Option<&str>) -> Value {
        let mut args = vec!["keys", "rotate"];
        if let Some(a) = alg {
            args.extend(["--alg", a]);
        }
        self.json(&args, None)
    }

    /// `keys list`.
    pub fn list_keys(&self) -> Value {
        self.json(&["keys", "list"], None)
    }

    /// `user disable USER`.
    pub fn disable_user(&self, username: &str) -> Value {
        self.json(&["user", "disable", username], None)
    }

    /// `user enable USER`.
    pub fn enable_user(&self, username: &str) -> Value {
        self.json(&["user", "enable", username], None)
    }

    /// `user consents USER`: the user's remembered consents.
    pub fn consents(&self, username: &str) -> Value {
        self.json(&["user", "consents", username], None)
    }

    /// `user revoke-consent USER CLIENT`.
    pub fn revoke_consent(&self, username: &str, client_id: &str) -> Value {
        self.json(&["user", "revoke-consent", username, client_id], None)
    }
}
