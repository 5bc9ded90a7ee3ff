//! Resource servers (RFC 8707 resource indicators): the APIs access tokens
//! are issued for. A token's `aud` is the resource the client asked for
//! (`resource` at `/authorize` or `/token`), or the client itself; a
//! resource server verifies the JWT itself or introspects it, and
//! introspection tells it `active: true` only for tokens of its own audience
//! (RFC 7662 section 4: no token scanning by other clients).

use super::OAuthError;
use crate::audit::{self, Event, EventKind};
use crate::cache::TtlCache;
use crate::store::{clients as client_rows, resources as rows, Db, StoreError};
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;
use tessera_schema::rows::ResourceServerRow;

/// How long who-introspects-what is reused in process (like clients).
const CACHE_TTL: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Serialize)]
pub struct ResourceServer {
    pub identifier: String,
    pub name: String,
    /// The confidential client this resource server authenticates as at
    /// `/introspect`, if it introspects.
    pub introspection_client_id: Option<String>,
    pub created_at: i64,
}

impl From<ResourceServerRow> for ResourceServer {
    fn from(r: ResourceServerRow) -> Self {
        ResourceServer {
            identifier: r.identifier,
            name: r.name,
            introspection_client_id: r.introspection_client_id,
            created_at: r.created_at,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ResourceError {
    #[error("{0}")]
    Invalid(String),
    #[error("a resource server with this identifier already exists")]
    Exists,
    #[error("no such resource server")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// RFC 8707 section 2: an absolute URI without a fragment.
pub fn check_identifier(identifier: &str) -> Result<(), ResourceError> {
    let bad = |why: &str| ResourceError::Invalid(format!("resource `{identifier}`: {why}"));
    if identifier.len() > 512 {
        return Err(bad("longer than 512 characters"));
    }
    let parsed = url::Url::parse(identifier).map_err(|e| bad(&e.to_string()))?;
    if parsed.fragment().is_some() {
        return Err(bad("must not have a fragment"));
    }
    Ok(())
}

#[derive(Clone)]
pub struct Resources {
    db: Db,
    introspectors: Arc<TtlCache<String, Vec<String>>>,
    /// Identifiers known to be registered, so a token request naming one
    /// costs no database read (unknown ones are not cached: a flood of
    /// made-up values must not fill the cache).
    registered: Arc<TtlCache<String, ()>>,
}

impl Resources {
    pub fn new(db: Db) -> Resources {
        Resources {
            db,
            introspectors: Arc::new(TtlCache::new(10_000)),
            registered: Arc::new(TtlCache::new(10_000)),
        }
    }

    pub async fn add(
        &self,
        identifier: &str,
        name: &str,
        introspection_client_id: Option<&str>,
        now: i64,
    ) -> Result<ResourceServer, ResourceError> {
        check_identifier(identifier)?;
        if name.trim().is_empty() || name.len() > 200 {
            return Err(ResourceError::Invalid(
                "the name must be 1-200 characters".into(),
            ));
        }
        let row = ResourceServerRow {
            identifier: identifier.to_string(),
            name: name.trim().to_string(),
            introspection_client_id: introspection_client_id.map(str::to_string),
            created_at: now,
        };
        let stored = row.clone();
        let outcome = self
            .db
            .transaction(move |c| {
                if let Some(id) = &stored.introspection_client_id {
                    match client_rows::by_id(c, id)? {
                        Some(client) if client.secret_hash.is_some() => {}
                        Some(_) => {
                            return Ok(Err(ResourceError::Invalid(
                                "the introspection client must be confidential".into(),
                            )))
                        }
                        None => {
                            return Ok(Err(ResourceError::Invalid(format!(
                                "no client `{id}` to introspect as"
                            ))))
                        }
                    }
                }
                match rows::insert(c, &stored) {
                    Ok(()) => {}
                    Err(e) if e.is_unique_violation() => return Ok(Err(ResourceError::Exists)),
                    Err(e) => return Err(e),
                }
                let event = Event::new(EventKind::ResourceServerAdded)
                    .detail(serde_json::json!({ "resource": stored.identifier }));
                audit::record_in(c, event, now)?;
                Ok(Ok(()))
            })
            .await?;
        outcome?;
        Ok(row.into())
    }

    pub async fn get(&self, identifier: &str) -> Result<Option<ResourceServer>, StoreError> {
        let id = identifier.to_string();
        Ok(self
            .db
            .run(move |c| rows::by_identifier(c, &id))
            .await?
            .map(ResourceServer::from))
    }

    pub async fn list(&self) -> Result<Vec<ResourceServer>, StoreError> {
        Ok(self
            .db
            .run(rows::list)
            .await?
            .into_iter()
            .map(ResourceServer::from)
            .collect())
    }

    pub async fn remove(&self, identifier: &str, now: i64) -> Result<(), ResourceError> {
        let id = identifier.to_string();
        self.registered.remove(&id);
        let removed = self
            .db
            .transaction(move |c| {
                let removed = rows::delete(c, &id)?;
                if removed {
                    let event = Event::new(EventKind::ResourceServerRemoved)
                        .detail(serde_json::json!({ "resource": id }));
                    audit::record_in(c, event, now)?;
                }
                Ok(removed)
            })
            .await?;
        removed.then_some(()).ok_or(ResourceError::NotFound)
    }

    /// The resource identifiers that introspect as `client_id` (cached).
    pub async fn introspected_by(&self, client_id: &str) -> Result<Vec<String>, StoreError> {
        let key = client_id.to_string();
        if let Some(found) = self.introspectors.get(&key) {
            return Ok(found);
        }
        let id = key.clone();
        let found = self.db.run(move |c| rows::introspected_by(c, &id)).await?;
        self.introspectors.insert(key, found.clone(), CACHE_TTL);
        Ok(found)
    }

    /// The audience a token request asks for: `None` (the client itself),
    /// or a registered resource server; anything else is refused with
    /// `invalid_target` (RFC 8707 section 2). The outer error is the store's.
    pub async fn target(
        &self,
        requested: Option<&str>,
    ) -> Result<Result<Option<String>, OAuthError>, StoreError> {
        let Some(requested) = requested.filter(|r| !r.is_empty()) else {
            return Ok(Ok(None));
        };
        if check_identifier(requested).is_err() {
            return Ok(Err(OAuthError::InvalidTarget(
                "resource must be an absolute URI without a fragment".into(),
            )));
        }
        if self.registered.get(&requested.to_string()).is_some() {
            return Ok(Ok(Some(requested.to_string())));
        }
        Ok(match self.get(requested).await? {
            Some(found) => {
                self.registered
                    .insert(found.identifier.clone(), (), CACHE_TTL);
                Ok(Some(found.identifier))
            }
            None => Err(OAuthError::InvalidTarget(
                "the resource is not a registered resource server".into(),
            )),
        })
    }
}
