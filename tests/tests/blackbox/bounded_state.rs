//! The in-process store (embedded mode) stays bounded under an unauthenticated flood: pending
//! authorization requests are evicted past `memory_store_max_entries`, while sessions and
//! revocations are kept; the metrics show the size and the evictions.

use tessera_tests::oauth::{self, http, login_and_exchange};
use tessera_tests::{Authorize, Backend, ClientSpec, Provider, PASSWORD};

fn gauge(metrics: &str, name: &str) -> u64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in /metrics:\n{metrics}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_authorization_requests_is_bounded() {
    let p = Provider::start_with(
        Backend::Embedded,
        &[("TESSERA_MEMORY_STORE_MAX_ENTRIES", "1000")],
    );
    let admin = p.admin();
    let user = admin.add_user("alice", PASSWORD);
    let client = admin.add_client(&ClientSpec::confidential("Web").first_party());
    let browser = p.browser();
    let tokens = login_and_exchange(&browser, &p.server, &client, &user).await;
    let revoked = login_and_exchange(&browser, &p.server, &client, &user).await;
    oauth::revoke(&p.server, client.auth(), &revoked.access_token, None).await;

    // 3000 anonymous authorization requests, each leaving a pending request behind.
    let flood = Authorize::new(&p.server, &client).url();
    let http = http();
    for i in 0..3000 {
        let resp = http.get(&flood).send().await.expect("GET /authorize");
        assert_eq!(resp.status().as_u16(), 303, "flood request {i}");
    }

    let metrics = http
        .get(p.server.url("/metrics"))
        .send()
        .await
        .expect("GET /metrics")
        .text()
        .await
        .expect("metrics body");
    let entries = gauge(&metrics, "tessera_memory_store_entries");
    let evicted = gauge(&metrics, "tessera_memory_store_evictions_total");
    eprintln!(
        "bounded state: 3000 pending requests into 1000 entries: {entries} held, {evicted} evicted"
    );
    assert!(entries <= 1000, "{entries} entries held");
    assert!(evicted >= 2000, "{evicted} evicted");

    // The browser session, the tokens and the revocation all survived the flood.
    assert!(
        tessera_tests::steps::session_alive(
            &browser,
            &p.server,
            &Authorize::new(&p.server, &client)
        )
        .await,
        "the session was evicted"
    );
    assert!(oauth::is_active(&p.server, client.auth(), &tokens.access_token).await);
    assert!(
        !oauth::is_active(&p.server, client.auth(), &revoked.access_token).await,
        "a revocation was evicted"
    );
    // A fresh sign-in still works.
    login_and_exchange(&p.browser(), &p.server, &client, &user).await;
}

/// With Redis (production): anonymous callers may create at most `anonymous_state_per_minute`
/// pending requests and ceremonies a minute across all processes; past it `/authorize` answers
/// 503 with `Retry-After` and Redis holds no more, while grants already made keep working.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_authorization_requests_is_bounded_in_redis() {
    let p = Provider::start_with(
        Backend::Production,
        &[("TESSERA_ANONYMOUS_STATE_PER_MINUTE", "100")],
    );
    let admin = p.admin();
    let user = admin.add_user("alice", PASSWORD);
    let client = admin.add_client(&ClientSpec::confidential("Web").first_party());
    let tokens = login_and_exchange(&p.browser(), &p.server, &client, &user).await;
    // A customer already on the login page when the flood comes.
    let midway = p.browser();
    let login_page = midway
        .follow(&Authorize::new(&p.server, &client).url())
        .await;
    assert_eq!(login_page.status.as_u16(), 200, "{}", login_page.describe());
    let before = tessera_tests::env::redis_key_count(&p.env);

    let flood = Authorize::new(&p.server, &client).url();
    let http = http();
    let (mut stored, mut refused) = (0, 0);
    for _ in 0..150 {
        let resp = http.get(&flood).send().await.expect("GET /authorize");
        match resp.status().as_u16() {
            303 => stored += 1,
            503 => {
                assert!(resp.headers().contains_key("retry-after"));
                refused += 1;
            }
            other => panic!("flood request answered {other}"),
        }
    }
    let after = tessera_tests::env::redis_key_count(&p.env);
    eprintln!(
        "bounded state (Redis): 150 pending requests with a budget of 100 (2 used before): \
         {stored} stored, {refused} refused; keys {before} -> {after}"
    );
    assert!(stored <= 100, "{stored} pending requests stored");
    assert!(refused >= 50, "{refused} refused");
    assert!(
        after <= before + 100,
        "Redis grew from {before} to {after} keys"
    );
    // Only new anonymous state is refused: the customer already on the login page signs in
    // (their pending request is updated, not created).
    let done = midway.submit_login(&login_page, "alice", PASSWORD).await;
    assert_eq!(
        done.status.as_u16(),
        303,
        "sign-in during the flood: {}",
        done.describe()
    );
    // What signed-in users hold is untouched.
    assert!(oauth::is_active(&p.server, client.auth(), &tokens.access_token).await);
    oauth::refresh(&p.server, &client, tokens.refresh())
        .await
        .assert_ok();
}
