//! Raw OAuth 2.0 / OIDC requests, for the paths where the test must see the exact status,
//! headers and error body (the `openidconnect` relying party lives in [`crate::rp`]).

use base64::Engine as _;
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde_json::Value;
use url::Url;

use crate::admin::{RegisteredClient, User};
use crate::browser::{Browser, Consent, FlowOutcome};
use crate::server::Server;

/// Plain HTTP client without cookies or redirects.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .expect("build reqwest client")
}

/// How a client authenticates at the token, introspection and revocation endpoints.
#[derive(Clone, Copy, Debug)]
pub enum ClientAuth<'a> {
    /// `client_secret_basic`.
    Basic(&'a str, &'a str),
    /// `client_secret_post`.
    Post(&'a str, &'a str),
    /// `none`: only `client_id` in the body (public clients).
    None(&'a str),
    /// Nothing at all.
    Anonymous,
}

impl ClientAuth<'_> {
    fn apply(
        &self,
        req: reqwest::RequestBuilder,
        form: &mut Vec<(String, String)>,
    ) -> reqwest::RequestBuilder {
        match *self {
            ClientAuth::Basic(id, secret) => req.header(
                reqwest::header::AUTHORIZATION,
                basic_auth_header(id, secret),
            ),
            ClientAuth::Post(id, secret) => {
                form.push(("client_id".into(), id.into()));
                form.push(("client_secret".into(), secret.into()));
                req
            }
            ClientAuth::None(id) => {
                form.push(("client_id".into(), id.into()));
                req
            }
            ClientAuth::Anonymous => req,
        }
    }
}

/// `Basic base64(urlencode(id):urlencode(secret))` per RFC 6749 section 2.3.1.
pub fn basic_auth_header(id: &str, secret: &str) -> String {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let raw = format!("{}:{}", enc(id), enc(secret));
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

/// A response whose body should be JSON.
#[derive(Clone, Debug)]
pub struct JsonResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// Parsed body (`Value::Null` when it is not JSON).
    pub body: Value,
    pub text: String,
}

impl JsonResponse {
    pub async fn read(resp: reqwest::Response) -> JsonResponse {
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        JsonResponse {
            status,
            headers,
            body,
            text,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// A string member of the JSON body.
    pub fn str(&self, key: &str) -> Option<&str> {
        self.body.get(key).and_then(Value::as_str)
    }

    /// A string member that must be there.
    pub fn expect_str(&self, key: &str) -> String {
        self.str(key)
            .unwrap_or_else(|| panic!("response has no string `{key}`: {}", self.describe()))
            .to_string()
    }

    pub fn describe(&self) -> String {
        let headers = self
            .headers
            .iter()
            .map(|(k, v)| format!("{k}: {}", v.to_str().unwrap_or("<binary>")))
            .collect::<Vec<_>>()
            .join("; ");
        format!("{} [{headers}] {}", self.status, self.text)
    }

    /// Asserts `status` and a JSON body `{"error": error, ...}` (RFC 6749 section 5.2).
    pub fn assert_error(&self, status: u16, error: &str) {
        assert_eq!(
            self.status.as_u16(),
            status,
            "expected {status} {error}, got {}",
            self.describe()
        );
        let ct = self.header("content-type").unwrap_or("");
        assert!(
            ct.starts_with("application/json"),
            "error response is not JSON (content-type {ct:?}): {}",
            self.describe()
        );
        assert_eq!(
            self.str("error"),
            Some(error),
            "wrong error code: {}",
            self.describe()
        );
    }

    /// Asserts 200 and returns the body.
    pub fn assert_ok(&self) -> &Value {
        assert_eq!(
            self.status,
            StatusCode::OK,
            "expected 200: {}",
            self.describe()
        );
        &self.body
    }
}

/// POST a form to `url` with client authentication.
pub async fn post_form(url: &str, auth: ClientAuth<'_>, params: &[(&str, &str)]) -> JsonResponse {
    let mut form: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let req = auth.apply(http().post(url), &mut form);
    let resp = req
        .form(&form)
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {url} failed: {e}"));
    JsonResponse::read(resp).await
}

/// POST /token.
pub async fn token(server: &Server, auth: ClientAuth<'_>, params: &[(&str, &str)]) -> JsonResponse {
    post_form(&server.url("/token"), auth, params).await
}

/// POST /introspect for `token`.
pub async fn introspect(server: &Server, auth: ClientAuth<'_>, token: &str) -> JsonResponse {
    post_form(&server.url("/introspect"), auth, &[("token", token)]).await
}

/// POST /introspect and return `active` (asserting a well-formed 200 answer).
pub async fn is_active(server: &Server, auth: ClientAuth<'_>, token: &str) -> bool {
    let resp = introspect(server, auth, token).await;
    resp.assert_ok();
    resp.body
        .get("active")
        .and_then(Value::as_bool)
        .unwrap_or_else(|| {
            panic!(
                "introspection without boolean `active`: {}",
                resp.describe()
            )
        })
}

/// POST /revoke for `token` (with optional `token_type_hint`); asserts 200 (RFC 7009 2.2).
pub async fn revoke(server: &Server, auth: ClientAuth<'_>, token: &str, hint: Option<&str>) {
    let mut params = vec![("token", token)];
    if let Some(h) = hint {
        params.push(("token_type_hint", h));
    }
    let resp = post_form(&server.url("/revoke"), auth, &params).await;
    assert_eq!(
        resp.status,
        StatusCode::OK,
        "revocation failed: {}",
        resp.describe()
    );
}

/// GET /userinfo with a bearer token.
pub async fn userinfo(server: &Server, access_token: &str) -> JsonResponse {
    let resp = http()
        .get(server.url("/userinfo"))
        .bearer_auth(access_token)
        .send()
        .await
        .expect("GET /userinfo");
    JsonResponse::read(resp).await
}

/// POST /userinfo with a bearer token.
pub async fn userinfo_post(server: &Server, access_token: &str) -> JsonResponse {
    let resp = http()
        .post(server.url("/userinfo"))
        .bearer_auth(access_token)
        .send()
        .await
        .expect("POST /userinfo");
    JsonResponse::read(resp).await
}

/// GET a JSON document (discovery, JWKS).
pub async fn get_json(url: &str) -> JsonResponse {
    let resp = http()
        .get(url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url} failed: {e}"));
    JsonResponse::read(resp).await
}

/// Asserts a 401 from a protected resource with
/// `WWW-Authenticate: Bearer ... error="invalid_token"` (RFC 6750 section 3.1).
pub fn assert_invalid_token(resp: &JsonResponse) {
    assert_eq!(
        resp.status,
        StatusCode::UNAUTHORIZED,
        "expected 401 invalid_token: {}",
        resp.describe()
    );
    let www = resp
        .header("www-authenticate")
        .unwrap_or_else(|| panic!("401 without WWW-Authenticate: {}", resp.describe()));
    assert!(
        www.trim_start().to_ascii_lowercase().starts_with("bearer"),
        "WWW-Authenticate is not a Bearer challenge: {www}"
    );
    assert!(
        www.contains("error=\"invalid_token\""),
        "WWW-Authenticate lacks error=\"invalid_token\": {www}"
    );
}

/// A PKCE verifier and its S256 challenge (RFC 7636).
#[derive(Clone, Debug)]
pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
}

impl Pkce {
    pub fn new() -> Pkce {
        let verifier = crate::random_token(32);
        let challenge = s256(&verifier);
        Pkce {
            verifier,
            challenge,
        }
    }
}

impl Default for Pkce {
    fn default() -> Self {
        Pkce::new()
    }
}

/// base64url(SHA-256(ascii(verifier))).
pub fn s256(verifier: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref())
}

/// Builder of an `/authorize` URL with sane defaults: `response_type=code`, the client's
/// redirect URI, scope `openid profile email offline_access`, random `state` and `nonce`, and
/// a PKCE S256 challenge.
#[derive(Clone, Debug)]
pub struct Authorize {
    base: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub state: String,
    pub nonce: String,
    pub pkce: Option<Pkce>,
    params: Vec<(String, String)>,
}

impl Authorize {
    pub fn new(server: &Server, client: &RegisteredClient) -> Authorize {
        let pkce = Pkce::new();
        let state = crate::random_token(16);
        let nonce = crate::random_token(16);
        let mut a = Authorize {
            base: server.url("/authorize"),
            client_id: client.client_id.clone(),
            redirect_uri: client.redirect().to_string(),
            state: state.clone(),
            nonce: nonce.clone(),
            pkce: None,
            params: Vec::new(),
        };
        a.set("response_type", "code");
        a.set("client_id", &client.client_id);
        a.set("redirect_uri", client.redirect());
        a.set("scope", "openid profile email offline_access");
        a.set("state", &state);
        a.set("nonce", &nonce);
        a.with_pkce(pkce)
    }

    fn set(&mut self, k: &str, v: &str) {
        self.params.retain(|(n, _)| n != k);
        self.params.push((k.to_string(), v.to_string()));
    }

    /// Sets or replaces a parameter.
    pub fn param(mut self, k: &str, v: &str) -> Self {
        match k {
            "redirect_uri" => self.redirect_uri = v.to_string(),
            "client_id" => self.client_id = v.to_string(),
            "state" => self.state = v.to_string(),
            "nonce" => self.nonce = v.to_string(),
            _ => {}
        }
        self.set(k, v);
        self
    }

    /// Removes a parameter.
    pub fn without(mut self, k: &str) -> Self {
        self.params.retain(|(n, _)| n != k);
        self
    }

    pub fn with_pkce(mut self, pkce: Pkce) -> Self {
        self.set("code_challenge", &pkce.challenge);
        self.set("code_challenge_method", "S256");
        self.pkce = Some(pkce);
        self
    }

    /// No `code_challenge` / `code_challenge_method`.
    pub fn without_pkce(mut self) -> Self {
        self.pkce = None;
        self.without("code_challenge")
            .without("code_challenge_method")
    }

    pub fn scope(self, scope: &str) -> Self {
        self.param("scope", scope)
    }

    pub fn url(&self) -> String {
        let mut u = Url::parse(&self.base).expect("authorize URL");
        {
            let mut q = u.query_pairs_mut();
            for (k, v) in &self.params {
                q.append_pair(k, v);
            }
        }
        u.to_string()
    }

    /// The PKCE verifier (panics when PKCE was removed).
    pub fn verifier(&self) -> &str {
        &self
            .pkce
            .as_ref()
            .expect("no PKCE in this request")
            .verifier
    }

    /// Logs in as `user` (approving consent) and returns the outcome; asserts the redirect
    /// goes to our redirect URI with our `state` and the provider's `iss` (RFC 9207).
    pub async fn run(&self, browser: &Browser, server: &Server, user: &User) -> FlowOutcome {
        let outcome = browser
            .authorize(
                &self.url(),
                &user.username,
                &user.password,
                Consent::Approve,
            )
            .await;
        self.check_redirect(server, &outcome);
        outcome
    }

    /// Asserts the redirect target, `state` and `iss` of an outcome.
    pub fn check_redirect(&self, server: &Server, outcome: &FlowOutcome) {
        let r = &outcome.redirect;
        let mut target = r.clone();
        target.set_query(None);
        target.set_fragment(None);
        assert_eq!(
            target.as_str(),
            self.redirect_uri,
            "redirected somewhere else: {r}"
        );
        assert_eq!(
            outcome.param("state").as_deref(),
            Some(self.state.as_str()),
            "state not echoed: {r}"
        );
        if outcome.param("code").is_some() {
            assert_eq!(
                outcome.param("iss").as_deref(),
                Some(server.issuer()),
                "iss missing or wrong in the authorization response: {r}"
            );
        }
    }
}

/// Tokens from a successful token response.
#[derive(Clone, Debug)]
pub struct TokenSet {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub id_token: Option<String>,
    pub raw: Value,
}

impl TokenSet {
    pub fn from_response(resp: &JsonResponse) -> TokenSet {
        resp.assert_ok();
        TokenSet {
            access_token: resp.expect_str("access_token"),
            refresh_token: resp.str("refresh_token").map(str::to_string),
            id_token: resp.str("id_token").map(str::to_string),
            raw: resp.body.clone(),
        }
    }

    pub fn refresh(&self) -> &str {
        self.refresh_token.as_deref().unwrap_or_else(|| {
            panic!(
                "no refresh_token issued (scope offline_access was requested): {}",
                self.raw
            )
        })
    }
}

/// POST /token grant_type=authorization_code for `code` with `verifier` (if any).
pub async fn exchange_code(
    server: &Server,
    client: &RegisteredClient,
    code: &str,
    verifier: Option<&str>,
) -> JsonResponse {
    let mut params = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", client.redirect()),
    ];
    if let Some(v) = verifier {
        params.push(("code_verifier", v));
    }
    token(server, client.auth(), &params).await
}

/// POST /token grant_type=refresh_token.
pub async fn refresh(
    server: &Server,
    client: &RegisteredClient,
    refresh_token: &str,
) -> JsonResponse {
    token(
        server,
        client.auth(),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ],
    )
    .await
}

/// Logs `user` in for `client` with PKCE and redeems the code: the tokens.
pub async fn login_and_exchange(
    browser: &Browser,
    server: &Server,
    client: &RegisteredClient,
    user: &User,
) -> TokenSet {
    let req = Authorize::new(server, client);
    let outcome = req.run(browser, server, user).await;
    let resp = exchange_code(server, client, &outcome.code(), Some(req.verifier())).await;
    TokenSet::from_response(&resp)
}
