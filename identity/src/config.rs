//! Typed, strict configuration: a TOML file (keys in lowercase) overridden
//! by `TESSERA_<KEY>` environment variables. `validate` turns mistakes into
//! messages a person can act on.

use serde::Deserialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("invalid value for {key}: {message}")]
    Invalid { key: String, message: String },
}

/// Which durable backend a database URL selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseKind {
    Postgres(String),
    Sqlite(PathBuf),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub issuer: Option<String>,
    pub bind: String,
    pub database_url: String,
    pub redis_url: Option<String>,
    pub redis_prefix: String,
    pub key_encryption_key: Option<String>,
    pub key_encryption_key_file: Option<PathBuf>,
    pub access_token_ttl_secs: i64,
    pub id_token_ttl_secs: i64,
    pub refresh_token_ttl_secs: i64,
    /// Absolute lifetime of a refresh-token family: rotation never extends it.
    pub refresh_token_max_lifetime_secs: i64,
    pub code_ttl_secs: i64,
    pub session_ttl_secs: i64,
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    pub argon2_parallelism: u32,
    pub login_max_failures: i64,
    pub login_ip_max_failures: i64,
    pub migrate_on_start: bool,
    pub key_reload_secs: u64,
    pub db_pool_size: u32,
    pub max_body_bytes: usize,
    pub log: String,
    pub log_format: String,
    /// WebAuthn relying-party id; default: the issuer's host.
    pub webauthn_rp_id: Option<String>,
    pub webauthn_rp_name: String,
    /// Extra allowed origins, comma-separated (app and H5 hosts,
    /// `android:apk-key-hash:...`); the issuer's origin is always allowed.
    pub webauthn_origins: String,
    /// Adding or removing a passkey needs a sign-in at most this old.
    pub passkey_recent_auth_secs: i64,
    /// `refuse` (default): a passkey whose counter went backwards is
    /// blocked as possibly cloned; `log`: recorded, sign-in allowed.
    pub passkey_counter_regression: String,
    /// Comma-separated CIDR blocks of reverse proxies whose
    /// `X-Forwarded-For` / `Forwarded` headers are believed; empty: none.
    pub trusted_proxies: String,
    /// The in-process store's capacity (embedded mode); past it, pending
    /// requests and ceremonies are evicted first.
    pub memory_store_max_entries: usize,
    /// With Redis: pending requests and ceremonies anonymous callers may
    /// create per minute, across all processes.
    pub anonymous_state_per_minute: i64,
    /// Bearer token `/metrics` requires. Unset: `/metrics` answers only
    /// direct (not proxied) requests from the loopback interface.
    pub metrics_token: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            issuer: None,
            bind: "127.0.0.1:8080".into(),
            database_url: "sqlite://tessera.db".into(),
            redis_url: None,
            redis_prefix: "tessera:".into(),
            key_encryption_key: None,
            key_encryption_key_file: None,
            access_token_ttl_secs: 600,
            id_token_ttl_secs: 3600,
            refresh_token_ttl_secs: 30 * 24 * 3600,
            refresh_token_max_lifetime_secs: 90 * 24 * 3600,
            code_ttl_secs: 60,
            session_ttl_secs: 8 * 3600,
            argon2_memory_kib: 19 * 1024,
            argon2_iterations: 2,
            argon2_parallelism: 1,
            login_max_failures: 5,
            login_ip_max_failures: 50,
            migrate_on_start: true,
            key_reload_secs: 10,
            db_pool_size: 8,
            max_body_bytes: 16 * 1024,
            log: "info".into(),
            log_format: "text".into(),
            webauthn_rp_id: None,
            webauthn_rp_name: "Tessera".into(),
            webauthn_origins: String::new(),
            passkey_recent_auth_secs: 300,
            passkey_counter_regression: "refuse".into(),
            trusted_proxies: String::new(),
            memory_store_max_entries: crate::store::memory_default_max_entries(),
            anonymous_state_per_minute: crate::store::ephemeral::DEFAULT_ANONYMOUS_PER_MINUTE,
            metrics_token: None,
        }
    }
}

impl Config {
    /// Loads the file (if any) and applies the process environment.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let env: HashMap<String, String> = std::env::vars().collect();
        Self::load_with_env(file, &env)
    }

    /// Loads the file (if any) and applies `env`; split out so tests can
    /// pass their own environment.
    pub fn load_with_env(
        file: Option<&Path>,
        env: &HashMap<String, String>,
    ) -> Result<Config, ConfigError> {
        let file = file
            .map(Path::to_path_buf)
            .or_else(|| env.get("TESSERA_CONFIG").map(PathBuf::from));
        let mut table = match &file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.clone(),
                    source,
                })?;
                text.parse::<toml::Table>()
                    .map_err(|e| ConfigError::Parse {
                        path: path.clone(),
                        message: e.to_string(),
                    })?
            }
            None => toml::Table::new(),
        };
        let known = Self::keys();
        // DATABASE_URL and REDIS_URL are the conventional names; the
        // TESSERA_ forms win when both are set.
        for (plain, key) in [("DATABASE_URL", "database_url"), ("REDIS_URL", "redis_url")] {
            if let Some(value) = env.get(plain) {
                table.insert(key.into(), toml::Value::String(value.clone()));
            }
        }
        for (name, value) in env {
            let Some(key) = name.strip_prefix("TESSERA_") else {
                continue;
            };
            let key = key.to_ascii_lowercase();
            // TESSERA_CONFIG names the file; TESSERA_TEST_* belong to the
            // test suite, whose environment the servers it starts inherit.
            if key == "config" || key.starts_with("test_") {
                continue;
            }
            let Some(kind) = known.get(key.as_str()) else {
                return Err(ConfigError::Invalid {
                    key: name.clone(),
                    message: "unknown setting".into(),
                });
            };
            table.insert(key.clone(), kind.parse(&key, value)?);
        }
        let config: Config =
            toml::Value::Table(table)
                .try_into()
                .map_err(|e: toml::de::Error| ConfigError::Parse {
                    path: file
                        .clone()
                        .unwrap_or_else(|| PathBuf::from("<environment>")),
                    message: e.to_string(),
                })?;
        config.validate()?;
        Ok(config)
    }

    /// Every key and the type its environment value is parsed as.
    fn keys() -> HashMap<&'static str, ValueKind> {
        use ValueKind::*;
        [
            ("issuer", Str),
            ("bind", Str),
            ("database_url", Str),
            ("redis_url", Str),
            ("redis_prefix", Str),
            ("key_encryption_key", Str),
            ("key_encryption_key_file", Str),
            ("access_token_ttl_secs", Int),
            ("id_token_ttl_secs", Int),
            ("refresh_token_ttl_secs", Int),
            ("refresh_token_max_lifetime_secs", Int),
            ("code_ttl_secs", Int),
            ("session_ttl_secs", Int),
            ("argon2_memory_kib", Int),
            ("argon2_iterations", Int),
            ("argon2_parallelism", Int),
            ("login_max_failures", Int),
            ("login_ip_max_failures", Int),
            ("migrate_on_start", Bool),
            ("key_reload_secs", Int),
            ("db_pool_size", Int),
            ("max_body_bytes", Int),
            ("log", Str),
            ("log_format", Str),
            ("webauthn_rp_id", Str),
            ("webauthn_rp_name", Str),
            ("webauthn_origins", Str),
            ("passkey_recent_auth_secs", Int),
            ("passkey_counter_regression", Str),
            ("trusted_proxies", Str),
            ("memory_store_max_entries", Int),
            ("anonymous_state_per_minute", Int),
            ("metrics_token", Str),
        ]
        .into_iter()
        .collect()
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key: &str, message: &str| ConfigError::Invalid {
            key: key.into(),
            message: message.into(),
        };
        self.database_kind()?;
        if let Some(issuer) = &self.issuer {
            let url = url::Url::parse(issuer).map_err(|e| invalid("issuer", &e.to_string()))?;
            if url.scheme() != "https" && url.scheme() != "http" {
                return Err(invalid("issuer", "must be an http or https URL"));
            }
            if url.query().is_some() || url.fragment().is_some() {
                return Err(invalid(
                    "issuer",
                    "must not have a query or fragment (OIDC Discovery 3)",
                ));
            }
        }
        if let Some(redis) = &self.redis_url {
            if !redis.starts_with("redis://") && !redis.starts_with("rediss://") {
                return Err(invalid(
                    "redis_url",
                    "must start with redis:// or rediss://",
                ));
            }
        }
        for (key, value) in [
            ("access_token_ttl_secs", self.access_token_ttl_secs),
            ("id_token_ttl_secs", self.id_token_ttl_secs),
            ("refresh_token_ttl_secs", self.refresh_token_ttl_secs),
            (
                "refresh_token_max_lifetime_secs",
                self.refresh_token_max_lifetime_secs,
            ),
            ("code_ttl_secs", self.code_ttl_secs),
            ("session_ttl_secs", self.session_ttl_secs),
            ("login_max_failures", self.login_max_failures),
            ("login_ip_max_failures", self.login_ip_max_failures),
            ("passkey_recent_auth_secs", self.passkey_recent_auth_secs),
            (
                "anonymous_state_per_minute",
                self.anonymous_state_per_minute,
            ),
        ] {
            if value <= 0 {
                return Err(invalid(key, "must be a positive number"));
            }
        }
        if self.code_ttl_secs > 600 {
            return Err(invalid(
                "code_ttl_secs",
                "authorization codes must be short-lived (at most 600 s, RFC 6749 4.1.2)",
            ));
        }
        if self.argon2_memory_kib < 8 * 1024 || self.argon2_iterations == 0 {
            return Err(invalid(
                "argon2_memory_kib",
                "argon2 needs at least 8192 KiB and one iteration",
            ));
        }
        if !["refuse", "log"].contains(&self.passkey_counter_regression.as_str()) {
            return Err(invalid(
                "passkey_counter_regression",
                "must be refuse or log",
            ));
        }
        if !["text", "json"].contains(&self.log_format.as_str()) {
            return Err(invalid("log_format", "must be text or json"));
        }
        crate::net::TrustedProxies::parse(&self.trusted_proxies)
            .map_err(|e| invalid("trusted_proxies", &e))?;
        if self
            .metrics_token
            .as_ref()
            .is_some_and(|t| t.len() < 16 || t.chars().any(|c| c.is_whitespace()))
        {
            return Err(invalid(
                "metrics_token",
                "use at least 16 characters without spaces",
            ));
        }
        if self.memory_store_max_entries < 1000 {
            return Err(invalid("memory_store_max_entries", "must be at least 1000"));
        }
        if self.db_pool_size == 0 {
            return Err(invalid("db_pool_size", "must be at least 1"));
        }
        Ok(())
    }

    pub fn database_kind(&self) -> Result<DatabaseKind, ConfigError> {
        let url = self.database_url.as_str();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(DatabaseKind::Postgres(url.to_string()))
        } else if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(ConfigError::Invalid {
                    key: "database_url".into(),
                    message: "sqlite:// needs a file path, e.g. sqlite://tessera.db".into(),
                });
            }
            Ok(DatabaseKind::Sqlite(PathBuf::from(path)))
        } else {
            Err(ConfigError::Invalid {
                key: "database_url".into(),
                message: format!(
                    "`{}` is neither postgres://... nor sqlite://path",
                    redact_url(url)
                ),
            })
        }
    }

    /// Production mode: PostgreSQL. It refuses to invent a key-encryption key.
    pub fn is_production(&self) -> bool {
        matches!(self.database_kind(), Ok(DatabaseKind::Postgres(_)))
    }

    /// The longest lifetime of any signed token: how long a retired key
    /// must stay published.
    pub fn max_signed_token_ttl(&self) -> i64 {
        self.access_token_ttl_secs.max(self.id_token_ttl_secs)
    }
}

/// Removes the password from a URL before it is shown or logged.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}

enum ValueKind {
    Str,
    Int,
    Bool,
}

impl ValueKind {
    fn parse(&self, key: &str, value: &str) -> Result<toml::Value, ConfigError> {
        let invalid = |message: &str| ConfigError::Invalid {
            key: format!("TESSERA_{}", key.to_ascii_uppercase()),
            message: message.into(),
        };
        match self {
            ValueKind::Str => Ok(toml::Value::String(value.to_string())),
            ValueKind::Int => value
                .trim()
                .parse::<i64>()
                .map(toml::Value::Integer)
                .map_err(|_| invalid("must be a whole number")),
            ValueKind::Bool => match value.trim() {
                "true" | "1" | "yes" => Ok(toml::Value::Boolean(true)),
                "false" | "0" | "no" => Ok(toml::Value::Boolean(false)),
                _ => Err(invalid("must be true or false")),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_are_the_embedded_backend() {
        let config = Config::load_with_env(None, &env(&[])).unwrap();
        assert_eq!(
            config.database_kind().unwrap(),
            DatabaseKind::Sqlite("tessera.db".into())
        );
        assert!(config.redis_url.is_none());
        assert_eq!(config.access_token_ttl_secs, 600);
    }

    #[test]
    fn environment_overrides_and_is_typed() {
        let config = Config::load_with_env(
            None,
            &env(&[
                ("TESSERA_ACCESS_TOKEN_TTL_SECS", "60"),
                ("DATABASE_URL", "postgres://x@127.0.0.1/db"),
                ("TESSERA_MIGRATE_ON_START", "false"),
            ]),
        )
        .unwrap();
        assert_eq!(config.access_token_ttl_secs, 60);
        assert!(config.is_production());
        assert!(!config.migrate_on_start);
    }

    #[test]
    fn unknown_and_malformed_settings_are_refused() {
        let err = Config::load_with_env(None, &env(&[("TESSERA_ACCES_TOKEN_TTL", "1")]));
        assert!(matches!(err, Err(ConfigError::Invalid { .. })));
        let err = Config::load_with_env(None, &env(&[("TESSERA_CODE_TTL_SECS", "soon")]));
        assert!(err.unwrap_err().to_string().contains("whole number"));
        let err = Config::load_with_env(None, &env(&[("TESSERA_DATABASE_URL", "mysql://x")]));
        assert!(err.unwrap_err().to_string().contains("neither"));
        let err = Config::load_with_env(None, &env(&[("TESSERA_ISSUER", "https://a/?x=1")]));
        assert!(err.is_err());
    }

    #[test]
    fn unknown_file_keys_are_refused() {
        let dir = std::env::temp_dir().join(format!("tessera-config-{}", crate::crypto::new_id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("tessera.toml");
        std::fs::write(&path, "isuer = \"https://id.example\"\n").unwrap();
        let err = Config::load_with_env(Some(&path), &env(&[])).unwrap_err();
        assert!(err.to_string().contains("isuer"), "{err}");
        std::fs::write(&path, "issuer = \"https://id.example\"\n").unwrap();
        let config = Config::load_with_env(Some(&path), &env(&[])).unwrap();
        assert_eq!(config.issuer.as_deref(), Some("https://id.example"));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
