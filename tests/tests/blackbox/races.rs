//! Parallel requests that must not leak, on both backend pairs:
//! - two refreshes of one token at once: one success, one `invalid_grant`, the family revoked
//!   (so the winner's new token dies too), never a 500 (on SQLite: `BEGIN IMMEDIATE`);
//! - one code redeemed twice at once: at most one success, and whatever it issued is revoked.

use tessera_tests::oauth::{self, exchange_code, login_and_exchange};
use tessera_tests::{
    both_backends, Authorize, Backend, ClientSpec, Provider, RegisteredClient, TokenSet, User,
    PASSWORD,
};

both_backends!(
    concurrent_refreshes_of_one_token,
    concurrent_redemptions_of_one_code
);

const ROUNDS: usize = 8;

/// A provider with alice and a first-party web client.
fn setup(backend: Backend) -> (Provider, User, RegisteredClient) {
    let p = Provider::start(backend);
    let admin = p.admin();
    let user = admin.add_user("alice", PASSWORD);
    let client = admin.add_client(&ClientSpec::confidential("Web").first_party());
    (p, user, client)
}

async fn concurrent_refreshes_of_one_token(backend: Backend) {
    let (p, user, client) = setup(backend);
    let browser = p.browser();
    for round in 0..ROUNDS {
        let tokens = login_and_exchange(&browser, &p.server, &client, &user).await;
        let (a, b) = tokio::join!(
            oauth::refresh(&p.server, &client, tokens.refresh()),
            oauth::refresh(&p.server, &client, tokens.refresh()),
        );
        let statuses = [a.status.as_u16(), b.status.as_u16()];
        assert!(
            statuses.contains(&200) && statuses.contains(&400),
            "round {round}: {} / {}",
            a.describe(),
            b.describe()
        );
        let (winner, loser) = if a.status.as_u16() == 200 {
            (a, b)
        } else {
            (b, a)
        };
        loser.assert_error(400, "invalid_grant");
        // The reuse revoked the family, the winner's new token with it.
        let won = TokenSet::from_response(&winner);
        oauth::refresh(&p.server, &client, won.refresh())
            .await
            .assert_error(400, "invalid_grant");
        assert!(!oauth::is_active(&p.server, client.auth(), &won.access_token).await);
    }
}

async fn concurrent_redemptions_of_one_code(backend: Backend) {
    let (p, user, client) = setup(backend);
    let browser = p.browser();
    for round in 0..ROUNDS {
        let req = Authorize::new(&p.server, &client);
        let code = req.run(&browser, &p.server, &user).await.code();
        let (a, b) = tokio::join!(
            exchange_code(&p.server, &client, &code, Some(req.verifier())),
            exchange_code(&p.server, &client, &code, Some(req.verifier())),
        );
        for r in [&a, &b] {
            assert!(
                matches!(r.status.as_u16(), 200 | 400),
                "round {round}: {}",
                r.describe()
            );
            if r.status.as_u16() == 400 {
                r.assert_error(400, "invalid_grant");
            }
        }
        assert!(
            a.status.as_u16() != 200 || b.status.as_u16() != 200,
            "round {round}: the code was redeemed twice"
        );
        // Whatever a redemption issued is revoked by the replay.
        for r in [&a, &b].into_iter().filter(|r| r.status.as_u16() == 200) {
            let t = TokenSet::from_response(r);
            assert!(
                !oauth::is_active(&p.server, client.auth(), &t.access_token).await,
                "round {round}: the replayed code's access token is active"
            );
            oauth::refresh(&p.server, &client, t.refresh())
                .await
                .assert_error(400, "invalid_grant");
        }
    }
}
