//! The application value: every service the handlers call, built once from
//! the configuration and passed down (no global statics). Tests and the
//! admin CLI build their own.

use crate::accounts::{
    LoginThrottle, PasswordHasher, PasswordPolicy, SessionStore, ThrottleLimits, Users,
};
use crate::config::{redact_url, Config, ConfigError};
use crate::keys::{KekSource, KeyEncryptionKey, KeyError, KeyService};
use crate::metrics::Metrics;
use crate::oauth::clients::Clients;
use crate::oidc::discovery::Discovery;
use crate::store::{Db, Ephemeral, StoreError};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("durable store: {0}")]
    Store(#[from] StoreError),
    #[error("signing keys: {0}")]
    Keys(#[from] KeyError),
    #[error("{0}")]
    Hasher(String),
    #[error("ephemeral store (Redis at {url}): {source}")]
    Redis { url: String, source: StoreError },
}

pub struct App {
    pub config: Config,
    pub issuer: String,
    pub db: Db,
    pub ephemeral: Ephemeral,
    pub keys: KeyService,
    pub users: Users,
    pub clients: Clients,
    pub resources: crate::oauth::resources::Resources,
    pub sessions: SessionStore,
    pub throttle: LoginThrottle,
    pub metrics: Metrics,
    pub verified_tokens: crate::oauth::access_token::VerifiedTokens,
    pub passkeys: crate::passkeys::PasskeyService,
    pub discovery: Discovery,
    /// Cookies get `Secure` when the issuer is https.
    pub secure_cookies: bool,
    pub kek_source: KekSource,
    /// Whose forwarding headers are believed (`trusted_proxies`).
    pub trusted_proxies: crate::net::TrustedProxies,
}

/// Opens the durable store and, unless switched off, migrates it.
pub fn open_db(config: &Config) -> Result<Db, StartError> {
    let db = Db::open(config.database_kind()?, config.db_pool_size)?;
    if config.migrate_on_start {
        let applied = db.migrate()?;
        if applied > 0 {
            tracing::info!(applied, "migrations applied");
        }
    }
    Ok(db)
}

/// The argon2 hasher of this configuration, bounded to the core count.
pub fn password_hasher(config: &Config) -> Result<PasswordHasher, StartError> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    PasswordHasher::new(
        PasswordPolicy {
            memory_kib: config.argon2_memory_kib,
            iterations: config.argon2_iterations,
            parallelism: config.argon2_parallelism,
        },
        cores,
    )
    .map_err(StartError::Hasher)
}

impl App {
    /// Opens both stores, loads (or creates) the signing keys.
    pub async fn start(config: Config, issuer: String, now: i64) -> Result<App, StartError> {
        let db = {
            let config = config.clone();
            tokio::task::spawn_blocking(move || open_db(&config))
                .await
                .map_err(|e| StartError::Store(StoreError::Task(e.to_string())))??
        };
        let ephemeral = match &config.redis_url {
            Some(url) => Ephemeral::redis_with_budget(
                url,
                &config.redis_prefix,
                config.anonymous_state_per_minute,
            )
            .await
            .map_err(|source| StartError::Redis {
                url: redact_url(url),
                source,
            })?,
            None => Ephemeral::in_process_with_capacity(config.memory_store_max_entries),
        };
        let (kek, kek_source) = KeyEncryptionKey::load(&config)?;
        let keys = KeyService::start(
            db.clone(),
            Arc::new(kek),
            config.max_signed_token_ttl(),
            now,
        )
        .await?;
        let hasher = password_hasher(&config)?;
        let secure_cookies = issuer.starts_with("https://");
        let webauthn =
            crate::passkeys::relying_party(&config, &issuer).map_err(StartError::Hasher)?;
        let users = Users::new(db.clone(), hasher);
        let counter_policy = if config.passkey_counter_regression == "log" {
            crate::passkeys::CounterPolicy::Log
        } else {
            crate::passkeys::CounterPolicy::Refuse
        };
        let passkeys = crate::passkeys::PasskeyService::new(
            webauthn,
            counter_policy,
            users.clone(),
            crate::passkeys::Passkeys::new(db.clone()),
            ephemeral.clone(),
        );
        let trusted_proxies =
            crate::net::TrustedProxies::parse(&config.trusted_proxies).map_err(|message| {
                ConfigError::Invalid {
                    key: "trusted_proxies".into(),
                    message,
                }
            })?;
        Ok(App {
            trusted_proxies,
            users,
            passkeys,
            clients: Clients::new(db.clone()),
            resources: crate::oauth::resources::Resources::new(db.clone()),
            sessions: SessionStore::new(ephemeral.clone(), config.session_ttl_secs),
            throttle: LoginThrottle::new(
                ephemeral.clone(),
                ThrottleLimits {
                    account_max_failures: config.login_max_failures,
                    ip_max_failures: config.login_ip_max_failures,
                },
            ),
            metrics: Metrics::default(),
            verified_tokens: crate::cache::TtlCache::new(10_000),
            discovery: Discovery::new(&issuer),
            secure_cookies,
            kek_source,
            issuer,
            db,
            ephemeral,
            keys,
            config,
        })
    }
}
