//! Store outages on a cluster of two provider processes, with throwaway PostgreSQL and Redis
//! servers the test stops and starts:
//! - every request that needs the missing store answers within 2 s, 503 with
//!   `temporarily_unavailable` and `Retry-After` (JSON) or a 503 page (HTML), never 500;
//! - `/readyz` turns 503 and names the store, `/healthz` stays 200;
//! - discovery, JWKS and client_credentials keep working; introspection, userinfo and refresh
//!   fail closed (a revoked token is never accepted);
//! - within 10 s of the store's return everything works again, without a restart, and nothing
//!   committed before the outage is lost.
//!
//! The answer times are printed (`outage timing:` lines) for the record.

use std::future::Future;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use tessera_tests::oauth::{self, get_json, http, login_and_exchange, JsonResponse};
use tessera_tests::server::free_port;
use tessera_tests::services::{ThrowawayPostgres, ThrowawayRedis};
use tessera_tests::{
    Admin, Authorize, Browser, ClientSpec, RegisteredClient, Server, TestEnv, TokenSet, User,
    PASSWORD,
};

/// The bound on every answer during an outage.
const ANSWER_WITHIN: Duration = Duration::from_secs(2);
/// The bound on recovery after the store returns.
const RECOVER_WITHIN: Duration = Duration::from_secs(10);

/// Two servers with one issuer on one env.
fn two_servers(env: &TestEnv) -> [Server; 2] {
    let bind = format!("127.0.0.1:{}", free_port());
    let issuer = format!("http://{bind}");
    let a = Server::start(
        env,
        &[
            ("TESSERA_BIND", bind.as_str()),
            ("TESSERA_ISSUER", issuer.as_str()),
        ],
    );
    let b = Server::start(env, &[("TESSERA_ISSUER", issuer.as_str())]);
    [a, b]
}

/// Runs `f`, asserts it answered within [`ANSWER_WITHIN`], and records the time.
async fn timed<T>(
    what: &str,
    times: &mut Vec<(String, Duration)>,
    f: impl Future<Output = T>,
) -> T {
    let started = Instant::now();
    let out = f.await;
    let took = started.elapsed();
    assert!(
        took < ANSWER_WITHIN,
        "{what} took {took:?} during the outage (bound {ANSWER_WITHIN:?})"
    );
    times.push((what.to_string(), took));
    out
}

fn print_times(outage: &str, times: &[(String, Duration)]) {
    let max = times.iter().map(|(_, d)| *d).max().unwrap_or_default();
    for (what, took) in times {
        eprintln!("outage timing: {outage}: {what}: {} ms", took.as_millis());
    }
    eprintln!(
        "outage timing: {outage}: slowest answer {} ms over {} requests",
        max.as_millis(),
        times.len()
    );
}

fn assert_unavailable(resp: &JsonResponse, what: &str) {
    resp.assert_error(503, "temporarily_unavailable");
    assert!(
        resp.header("retry-after").is_some(),
        "{what}: 503 without Retry-After: {}",
        resp.describe()
    );
}

async fn readyz(server: &Server) -> JsonResponse {
    get_json(&server.url("/readyz")).await
}

fn assert_not_ready(resp: &JsonResponse, store: &str) {
    assert_eq!(
        resp.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        resp.describe()
    );
    let named = resp.body["unavailable_stores"]
        .as_array()
        .is_some_and(|stores| stores.iter().any(|s| s == store));
    assert!(named, "/readyz does not name {store}: {}", resp.describe());
    assert_eq!(resp.body[store], "unavailable", "{}", resp.describe());
}

/// Polls `/readyz` of both servers until both are ready; returns how long that took.
async fn wait_until_ready(servers: &[Server; 2], since: Instant) -> Duration {
    loop {
        let a = readyz(&servers[0]).await;
        let b = readyz(&servers[1]).await;
        if a.status == StatusCode::OK && b.status == StatusCode::OK {
            return since.elapsed();
        }
        assert!(
            since.elapsed() < RECOVER_WITHIN,
            "not ready {RECOVER_WITHIN:?} after the store returned: {} / {}",
            a.describe(),
            b.describe()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn client_credentials(server: &Server, service: &RegisteredClient) -> JsonResponse {
    oauth::token(
        server,
        service.auth(),
        &[("grant_type", "client_credentials")],
    )
    .await
}

/// GET /authorize as a browser would, without following the answer.
async fn authorize_page(server: &Server, client: &RegisteredClient) -> reqwest::Response {
    http()
        .get(Authorize::new(server, client).url())
        .send()
        .await
        .expect("GET /authorize")
}

fn assert_unavailable_page(resp: &reqwest::Response, what: &str) {
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE, "{what}");
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(
        ct.starts_with("text/html"),
        "{what}: not an HTML page ({ct})"
    );
    assert!(
        resp.headers().get("retry-after").is_some(),
        "{what}: no Retry-After"
    );
}

/// What both outage tests set up: a user, a web client with tokens (one set revoked), and a
/// backend service whose client_credentials token both servers have issued.
struct Cluster {
    servers: [Server; 2],
    user: User,
    web: RegisteredClient,
    service: RegisteredClient,
    tokens: TokenSet,
    revoked: TokenSet,
}

async fn cluster(env: &TestEnv) -> Cluster {
    let servers = two_servers(env);
    let admin: Admin = env.admin();
    let user = admin.add_user("alice", PASSWORD);
    let web = admin.add_client(&ClientSpec::confidential("Web"));
    let service = admin.add_client(&ClientSpec::service("Backend"));
    let browser = Browser::new(servers[0].base_url());
    let tokens = login_and_exchange(&browser, &servers[0], &web, &user).await;
    let revoked = login_and_exchange(&browser, &servers[0], &web, &user).await;
    oauth::revoke(&servers[1], web.auth(), &revoked.access_token, None).await;
    for server in &servers {
        client_credentials(server, &service).await.assert_ok();
        assert!(oauth::is_active(server, web.auth(), &tokens.access_token).await);
        assert!(!oauth::is_active(server, web.auth(), &revoked.access_token).await);
    }
    Cluster {
        servers,
        user,
        web,
        service,
        tokens,
        revoked,
    }
}

/// What needs no store answers normally on both servers.
async fn storeless_paths_work(c: &Cluster, times: &mut Vec<(String, Duration)>) {
    for (i, server) in c.servers.iter().enumerate() {
        let health = timed(
            &format!("healthz #{i}"),
            times,
            get_json(&server.url("/healthz")),
        )
        .await;
        assert_eq!(health.status, StatusCode::OK, "{}", health.describe());
        let discovery = timed(
            &format!("discovery #{i}"),
            times,
            get_json(&server.url("/.well-known/openid-configuration")),
        )
        .await;
        discovery.assert_ok();
        let jwks = timed(&format!("jwks #{i}"), times, get_json(&server.url("/jwks"))).await;
        jwks.assert_ok();
        let cc = timed(
            &format!("client_credentials #{i}"),
            times,
            client_credentials(server, &c.service),
        )
        .await;
        cc.assert_ok();
    }
}

/// After recovery: old tokens still valid, the revoked one still revoked, refresh and a new
/// sign-in work on both servers. The rotated refresh token replaces the old one.
async fn everything_works_again(c: &mut Cluster) {
    for server in &c.servers {
        assert!(oauth::is_active(server, c.web.auth(), &c.tokens.access_token).await);
        assert!(!oauth::is_active(server, c.web.auth(), &c.revoked.access_token).await);
        oauth::userinfo(server, &c.tokens.access_token)
            .await
            .assert_ok();
    }
    let refreshed = oauth::refresh(&c.servers[1], &c.web, c.tokens.refresh()).await;
    c.tokens.refresh_token = TokenSet::from_response(&refreshed).refresh_token;
    let browser = Browser::new(c.servers[0].base_url());
    login_and_exchange(&browser, &c.servers[0], &c.web, &c.user).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_outage_on_two_processes() {
    let mut redis = ThrowawayRedis::start();
    let pg_url = std::env::var(tessera_tests::env::PG_URL_VAR)
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let env = TestEnv::production_on(&pg_url, &redis.url());
    let mut c = cluster(&env).await;

    // 1. Redis hangs: connections stay open, nothing answers.
    redis.freeze();
    let mut times = Vec::new();
    redis_down_answers(&c, &mut times).await;
    print_times("redis frozen", &times);
    redis.thaw();
    let recovered = wait_until_ready(&c.servers, Instant::now()).await;
    eprintln!(
        "outage timing: redis frozen: ready again {} ms after thaw",
        recovered.as_millis()
    );
    everything_works_again(&mut c).await;

    // 2. Redis is gone: connections are refused.
    redis.stop();
    let mut times = Vec::new();
    redis_down_answers(&c, &mut times).await;
    print_times("redis stopped", &times);
    let since = Instant::now();
    redis.start_again();
    let recovered = wait_until_ready(&c.servers, since).await;
    eprintln!(
        "outage timing: redis stopped: ready again {} ms after start",
        recovered.as_millis()
    );
    everything_works_again(&mut c).await;
}

async fn redis_down_answers(c: &Cluster, times: &mut Vec<(String, Duration)>) {
    for (i, server) in c.servers.iter().enumerate() {
        let ready = timed(&format!("readyz #{i}"), times, readyz(server)).await;
        assert_not_ready(&ready, "ephemeral");
        assert_eq!(ready.body["database"], "ok", "{}", ready.describe());
    }
    storeless_paths_work(c, times).await;
    for (i, server) in c.servers.iter().enumerate() {
        // Revocation state lives in Redis: no answer is better than a wrong one.
        for (name, token) in [("valid", &c.tokens), ("revoked", &c.revoked)] {
            let resp = timed(
                &format!("introspect {name} #{i}"),
                times,
                oauth::introspect(server, c.web.auth(), &token.access_token),
            )
            .await;
            assert_unavailable(&resp, "introspection");
            let resp = timed(
                &format!("userinfo {name} #{i}"),
                times,
                oauth::userinfo(server, &token.access_token),
            )
            .await;
            assert_unavailable(&resp, "userinfo");
        }
        let resp = timed(
            &format!("revoke #{i}"),
            times,
            oauth::post_form(
                &server.url("/revoke"),
                c.web.auth(),
                &[("token", &c.tokens.access_token)],
            ),
        )
        .await;
        assert_unavailable(&resp, "revocation");
        let page = timed(
            &format!("authorize page #{i}"),
            times,
            authorize_page(server, &c.web),
        )
        .await;
        assert_unavailable_page(&page, "/authorize");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_outage_on_two_processes() {
    let pg = ThrowawayPostgres::start();
    let redis_url = std::env::var(tessera_tests::env::REDIS_URL_VAR)
        .unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let env = TestEnv::production_on(&pg.url(), &redis_url);
    let mut c = cluster(&env).await;

    pg.stop();
    let mut times = Vec::new();
    for (i, server) in c.servers.iter().enumerate() {
        let ready = timed(&format!("readyz #{i}"), &mut times, readyz(server)).await;
        assert_not_ready(&ready, "database");
        assert_eq!(ready.body["ephemeral"], "ok", "{}", ready.describe());
    }
    storeless_paths_work(&c, &mut times).await;
    for (i, server) in c.servers.iter().enumerate() {
        // Users and refresh tokens live in PostgreSQL: fail closed.
        let resp = timed(
            &format!("introspect user token #{i}"),
            &mut times,
            oauth::introspect(server, c.web.auth(), &c.tokens.access_token),
        )
        .await;
        assert_unavailable(&resp, "introspection");
        let resp = timed(
            &format!("userinfo #{i}"),
            &mut times,
            oauth::userinfo(server, &c.tokens.access_token),
        )
        .await;
        assert_unavailable(&resp, "userinfo");
        let resp = timed(
            &format!("refresh #{i}"),
            &mut times,
            oauth::refresh(server, &c.web, c.tokens.refresh()),
        )
        .await;
        assert_unavailable(&resp, "refresh");
        // The revoked token stays refused (the deny-list in Redis is still there).
        let resp = timed(
            &format!("introspect revoked #{i}"),
            &mut times,
            oauth::introspect(server, c.web.auth(), &c.revoked.access_token),
        )
        .await;
        assert_eq!(resp.body["active"], false, "{}", resp.describe());
        // The login form is served (the pending request lives in Redis); signing in needs the
        // users table.
        let browser = Browser::new(server.base_url());
        let page = timed(
            &format!("sign-in page #{i}"),
            &mut times,
            browser.follow(&Authorize::new(server, &c.web).url()),
        )
        .await;
        assert_eq!(
            page.status,
            200,
            "login page during a database outage: {}",
            page.describe()
        );
        let resp = timed(
            &format!("sign-in post #{i}"),
            &mut times,
            browser.submit_login(&page, "alice", PASSWORD),
        )
        .await;
        assert_eq!(
            resp.status,
            503,
            "sign-in during a database outage: {}",
            resp.describe()
        );
        assert!(resp.header("retry-after").is_some(), "{}", resp.describe());
    }
    print_times("postgres stopped", &times);

    let since = Instant::now();
    pg.start_again();
    let recovered = wait_until_ready(&c.servers, since).await;
    eprintln!(
        "outage timing: postgres stopped: ready again {} ms after start",
        recovered.as_millis()
    );
    everything_works_again(&mut c).await;
}
