//! OAuth clients. Confidential clients get a 256-bit random secret that is
//! shown once and stored as its SHA-256: as safe as a password hash for a
//! value nobody chose, and microseconds instead of milliseconds per token
//! request. Operators cannot pick weak secrets because they cannot pick any.

use crate::audit::{self, Event, EventKind};
use crate::crypto::{constant_time_eq, random_token, secret_hash};
use crate::keys::Alg;
use crate::store::{clients as rows, Db, StoreError};
use serde::Serialize;
use tessera_schema::rows::ClientRow;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantType {
    AuthorizationCode,
    RefreshToken,
    ClientCredentials,
}

impl GrantType {
    pub fn name(self) -> &'static str {
        match self {
            GrantType::AuthorizationCode => "authorization_code",
            GrantType::RefreshToken => "refresh_token",
            GrantType::ClientCredentials => "client_credentials",
        }
    }

    pub fn parse(name: &str) -> Option<GrantType> {
        [
            GrantType::AuthorizationCode,
            GrantType::RefreshToken,
            GrantType::ClientCredentials,
        ]
        .into_iter()
        .find(|g| g.name() == name)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Client {
    pub client_id: String,
    pub name: String,
    #[serde(skip)]
    secret_hash: Option<String>,
    pub public: bool,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub grant_types: Vec<GrantType>,
    pub scopes: Vec<String>,
    pub first_party: bool,
    pub id_token_signed_response_alg: Alg,
    pub created_at: i64,
}

impl Client {
    pub fn is_public(&self) -> bool {
        self.secret_hash.is_none()
    }

    pub fn allows_grant(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }

    /// Exact string comparison (RFC 9700 section 2.1): no prefix, no
    /// wildcard, no normalisation.
    pub fn has_redirect_uri(&self, uri: &str) -> bool {
        self.redirect_uris.iter().any(|r| r == uri)
    }

    pub fn has_post_logout_redirect_uri(&self, uri: &str) -> bool {
        self.post_logout_redirect_uris.iter().any(|r| r == uri)
    }

    /// Constant-time check of a presented secret.
    pub fn secret_matches(&self, presented: &str) -> bool {
        match &self.secret_hash {
            Some(stored) => constant_time_eq(secret_hash(presented).as_bytes(), stored.as_bytes()),
            None => false,
        }
    }

    fn from_row(row: ClientRow) -> Result<Client, StoreError> {
        let list = |text: &str, what: &str| -> Result<Vec<String>, StoreError> {
            serde_json::from_str(text)
                .map_err(|e| StoreError::Corrupt(format!("client {} {what}: {e}", row.id)))
        };
        let grant_types = list(&row.grant_types, "grant_types")?
            .iter()
            .filter_map(|g| GrantType::parse(g))
            .collect();
        Ok(Client {
            redirect_uris: list(&row.redirect_uris, "redirect_uris")?,
            post_logout_redirect_uris: list(&row.post_logout_redirect_uris, "post_logout")?,
            scopes: list(&row.scopes, "scopes")?,
            grant_types,
            public: row.secret_hash.is_none(),
            id_token_signed_response_alg: row
                .id_token_signed_response_alg
                .as_deref()
                .and_then(Alg::parse)
                // OIDC Registration section 2: the default is RS256.
                .unwrap_or(Alg::Rs256),
            client_id: row.id,
            name: row.name,
            secret_hash: row.secret_hash,
            first_party: row.first_party,
            created_at: row.created_at,
        })
    }
}

#[derive(Debug, Clone)]
pub struct NewClient {
    pub client_id: Option<String>,
    pub name: String,
    pub public: bool,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub scopes: Vec<String>,
    pub first_party: bool,
    pub id_token_signed_response_alg: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{0}")]
    Invalid(String),
    #[error("a client with this id already exists")]
    Exists,
    #[error("no such client")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Checks a redirect URI for registration: absolute, no fragment (RFC 6749
/// 3.1.2); https, or http only to a loopback host, or a private-use scheme
/// for native apps (RFC 8252 sections 7.1 and 7.3).
pub fn check_redirect_uri(uri: &str) -> Result<(), ClientError> {
    let bad = |why: &str| ClientError::Invalid(format!("redirect URI `{uri}`: {why}"));
    let parsed = url::Url::parse(uri).map_err(|e| bad(&e.to_string()))?;
    if parsed.fragment().is_some() {
        return Err(bad("must not contain a fragment"));
    }
    match parsed.scheme() {
        "https" => Ok(()),
        "http" => match parsed.host_str() {
            Some("127.0.0.1") | Some("[::1]") | Some("localhost") => Ok(()),
            _ => Err(bad("http is only allowed for loopback hosts; use https")),
        },
        "javascript" | "data" | "file" | "vbscript" => Err(bad("scheme not allowed")),
        scheme if scheme.contains('.') => Ok(()),
        _ => Err(bad(
            "use https, http to a loopback host, or a reverse-domain private-use scheme",
        )),
    }
}

fn check_client_id(id: &str) -> Result<(), ClientError> {
    let ok = (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    ok.then_some(()).ok_or_else(|| {
        ClientError::Invalid("client id must be 1-128 characters of A-Z a-z 0-9 - . _ ~".into())
    })
}

/// How long a client read from the database is reused. A change made by
/// `tessera-admin` (another process) reaches every server within this time.
pub const CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(5);
/// How long after its last read a client is still served while the
/// database is unreachable.
pub const STALE_IF_UNAVAILABLE: std::time::Duration = std::time::Duration::from_secs(3600);

#[derive(Clone)]
pub struct Clients {
    db: Db,
    /// Token requests must not wait on the database for every call.
    cache: std::sync::Arc<crate::cache::TtlCache<String, Client>>,
}

impl Clients {
    pub fn new(db: Db) -> Clients {
        Clients {
            db,
            cache: std::sync::Arc::new(crate::cache::TtlCache::new(10_000)),
        }
    }

    /// Registers a client; returns it and, for a confidential client, the
    /// secret (the only time it is ever available).
    pub async fn create(
        &self,
        new: NewClient,
        now: i64,
    ) -> Result<(Client, Option<String>), ClientError> {
        // 128 random bits as hex: never starts with '-', so it is safe as
        // a command-line argument.
        let client_id = new
            .client_id
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
        check_client_id(&client_id)?;
        if new.name.trim().is_empty() {
            return Err(ClientError::Invalid("client name must not be empty".into()));
        }
        let grant_types = if new.grant_types.is_empty() {
            vec![
                "authorization_code".to_string(),
                "refresh_token".to_string(),
            ]
        } else {
            new.grant_types.clone()
        };
        for g in &grant_types {
            let grant = GrantType::parse(g)
                .ok_or_else(|| ClientError::Invalid(format!("unknown grant type `{g}`")))?;
            if grant == GrantType::ClientCredentials && new.public {
                return Err(ClientError::Invalid(
                    "a public client cannot use client_credentials".into(),
                ));
            }
        }
        let uses_code = grant_types.iter().any(|g| g == "authorization_code");
        if uses_code && new.redirect_uris.is_empty() {
            return Err(ClientError::Invalid(
                "authorization_code needs at least one --redirect-uri".into(),
            ));
        }
        for uri in new
            .redirect_uris
            .iter()
            .chain(&new.post_logout_redirect_uris)
        {
            check_redirect_uri(uri)?;
        }
        let scopes = if new.scopes.is_empty() {
            ["openid", "profile", "email", "offline_access"]
                .map(String::from)
                .to_vec()
        } else {
            new.scopes.clone()
        };
        if let Some(bad) = scopes.iter().find(|s| !super::scope::is_valid_token(s)) {
            return Err(ClientError::Invalid(format!(
                "`{bad}` is not a valid scope"
            )));
        }
        if let Some(alg) = &new.id_token_signed_response_alg {
            Alg::parse(alg).ok_or_else(|| {
                ClientError::Invalid(format!(
                    "id token algorithm `{alg}`: use RS256, ES256 or EdDSA"
                ))
            })?;
        }
        let secret = (!new.public).then(random_token);
        let json = |v: &Vec<String>| serde_json::to_string(v).unwrap_or_else(|_| "[]".into());
        let row = ClientRow {
            id: client_id,
            name: new.name.trim().to_string(),
            secret_hash: secret.as_deref().map(secret_hash),
            redirect_uris: json(&new.redirect_uris),
            post_logout_redirect_uris: json(&new.post_logout_redirect_uris),
            grant_types: json(&grant_types),
            scopes: json(&scopes),
            first_party: new.first_party,
            id_token_signed_response_alg: new.id_token_signed_response_alg,
            created_at: now,
        };
        let stored = row.clone();
        match self.db.run(move |c| rows::insert(c, &stored)).await {
            Ok(()) => {
                let event = Event::new(EventKind::ClientCreated).client(&row.id);
                audit::record(&self.db, event, now).await;
                Ok((Client::from_row(row)?, secret))
            }
            Err(e) if e.is_unique_violation() => Err(ClientError::Exists),
            Err(e) => Err(e.into()),
        }
    }

    /// The client, from the cache when it was read less than
    /// [`CACHE_TTL`] ago. While the database is unreachable a client read
    /// less than [`STALE_IF_UNAVAILABLE`] ago is served from the cache:
    /// nobody can change a client during that outage anyway, and
    /// client_credentials keeps working.
    pub async fn get(&self, client_id: &str) -> Result<Option<Client>, StoreError> {
        if client_id.contains('\0') {
            // No client id holds NUL, and PostgreSQL text could not take it.
            return Ok(None);
        }
        let key = client_id.to_string();
        if let Some(client) = self.cache.get(&key) {
            return Ok(Some(client));
        }
        let id = client_id.to_string();
        let row = match self.db.run(move |c| rows::by_id(c, &id)).await {
            Err(e) if e.is_unavailable() => {
                return match self.cache.get_stale(&key, STALE_IF_UNAVAILABLE) {
                    Some(client) => Ok(Some(client)),
                    None => Err(e),
                }
            }
            other => other?,
        };
        let client = row.map(Client::from_row).transpose()?;
        if let Some(c) = &client {
            self.cache.insert(c.client_id.clone(), c.clone(), CACHE_TTL);
        }
        Ok(client)
    }

    pub async fn list(&self) -> Result<Vec<Client>, StoreError> {
        self.db
            .run(rows::list)
            .await?
            .into_iter()
            .map(Client::from_row)
            .collect()
    }

    pub async fn remove(&self, client_id: &str, now: i64) -> Result<(), ClientError> {
        let id = client_id.to_string();
        self.cache.remove(&id);
        let removed = self
            .db
            .transaction(move |c| {
                let removed = rows::delete(c, &id)?;
                // Its users' grants end with it (refresh and access tokens).
                crate::store::refresh::revoke_client_families(c, &id, now)?;
                if removed {
                    audit::record_in(c, Event::new(EventKind::ClientRemoved).client(&id), now)?;
                }
                Ok(removed)
            })
            .await?;
        removed.then_some(()).ok_or(ClientError::NotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_are_checked_at_registration() {
        assert!(check_redirect_uri("https://app.example/cb").is_ok());
        assert!(check_redirect_uri("http://127.0.0.1:4000/cb").is_ok());
        assert!(check_redirect_uri("com.example.app:/oauth2redirect").is_ok());
        assert!(check_redirect_uri("http://app.example/cb").is_err());
        assert!(check_redirect_uri("https://app.example/cb#frag").is_err());
        assert!(check_redirect_uri("javascript:alert(1)").is_err());
        assert!(check_redirect_uri("/relative").is_err());
    }
}
