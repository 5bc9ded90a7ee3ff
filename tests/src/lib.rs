//! Black-box test harness for Tessera.
//!
//! Every test builds its own [`TestEnv`] (a fresh SQLite file, or a fresh PostgreSQL database
//! plus a unique Redis key prefix), starts the real `target/debug/tessera serve` binary on a
//! free port with [`Server::start`], drives the admin CLI through [`Admin`], and talks HTTP to
//! the server like a browser ([`Browser`]) or a relying party ([`oauth`], [`rp`]).
//!
//! The binaries are not built by `cargo test`/`cargo nextest` for this package: run
//! `cargo build --workspace --bins` first.

pub mod admin;
pub mod authenticator;
pub mod browser;
pub mod env;
pub mod html;
pub mod jwt;
pub mod oauth;
pub mod passkeys;
pub mod rp;
pub mod server;
pub mod services;
pub mod steps;

pub use admin::{Admin, ClientSpec, RegisteredClient, User};
pub use authenticator::{Authenticator, Flags, Forge};
pub use browser::{Browser, Consent, FlowOutcome, Page};
pub use env::{Backend, TestEnv};
pub use oauth::{Authorize, ClientAuth, JsonResponse, Pkce, TokenSet};
pub use server::Server;

/// Redirect URI registered for the test relying parties (never contacted: redirects are not
/// followed).
pub const RP_REDIRECT_URI: &str = "https://rp.example.test/callback";
/// Post-logout redirect URI registered for the test relying parties.
pub const RP_POST_LOGOUT_URI: &str = "https://rp.example.test/logged-out";

/// A test environment with one running server. Fields drop in order: the server stops before
/// the storage is removed.
pub struct Provider {
    pub server: Server,
    pub env: TestEnv,
}

impl Provider {
    /// Fresh storage for `backend` and a server on it.
    pub fn start(backend: Backend) -> Provider {
        Provider::start_with(backend, &[])
    }

    /// Same with extra `TESSERA_*` variables for the server.
    pub fn start_with(backend: Backend, extra: &[(&str, &str)]) -> Provider {
        let env = TestEnv::new(backend);
        let server = Server::start(&env, extra);
        Provider { server, env }
    }

    pub fn admin(&self) -> Admin {
        self.env.admin()
    }

    /// A fresh browser (empty cookie jar) for this server.
    pub fn browser(&self) -> Browser {
        Browser::new(self.server.base_url())
    }
}

/// Password used for test accounts.
pub const PASSWORD: &str = "correct horse battery staple";

/// Random URL-safe token (`bytes` random bytes, base64url without padding).
pub fn random_token(bytes: usize) -> String {
    use base64::Engine as _;
    let mut buf = vec![0u8; bytes];
    aws_lc_rs::rand::fill(&mut buf).expect("system random generator failed");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// Seconds since the Unix epoch. The black-box harness is its own edge (it cannot use the
/// server's clock), so it reads the system clock here and only here.
#[allow(clippy::disallowed_methods)]
pub fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock before 1970")
        .as_secs() as i64
}

/// Runs each named scenario `async fn NAME(backend: Backend)` on both backend pairs.
///
/// `both_backends!(code_replay);` generates a module `code_replay` with two tests,
/// `code_replay::embedded` (SQLite + in-process store) and `code_replay::production`
/// (PostgreSQL + Redis). Filter with e.g. `cargo nextest run -E 'test(/::production$/)'`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn embedded() {
                    super::$name($crate::Backend::Embedded).await
                }

                #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn production() {
                    super::$name($crate::Backend::Production).await
                }
            }
        )+
    };
}

/// Like [`both_backends!`] but only for the production pair (PostgreSQL + Redis): generates
/// `NAME::production`.
#[macro_export]
macro_rules! production_only {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn production() {
                    super::$name($crate::Backend::Production).await
                }
            }
        )+
    };
}
