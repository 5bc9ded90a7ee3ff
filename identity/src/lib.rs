//! Tessera: a standalone OpenID Connect / OAuth 2.0 identity provider.
//!
//! Data flows one way: `http` (actix handlers) -> domain modules
//! (`accounts`, `oauth`, `oidc`, `keys`) -> `store` -> `tessera_schema`.
//! Only `http` knows actix; domain functions take the time as a parameter
//! and can be tested with no HTTP and no network.

pub mod accounts;
pub mod app;
pub mod audit;
pub mod cache;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod http;
pub mod keys;
pub mod metrics;
pub mod net;
pub mod oauth;
pub mod oidc;
pub mod passkeys;
pub mod signin;
pub mod store;
pub mod telemetry;

pub use app::App;
pub use config::Config;
