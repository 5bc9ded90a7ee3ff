//! Refresh tokens: opaque 256-bit random values stored only as hashes, in
//! families. Every use rotates the token; presenting a rotated token again
//! means it was stolen or replayed, and revokes the whole family (RFC 9700
//! section 4.14.2). The revocation is committed even though the answer is
//! an error.

use super::OAuthError;
use crate::audit::{self, Event, EventKind};
use crate::crypto::{random_token, secret_hash};
use crate::store::{refresh as rows, Db, StoreError};
use tessera_schema::rows::{RefreshFamilyRow, RefreshTokenRow};

/// The family a token belongs to, as the grant needs it.
#[derive(Debug, Clone)]
pub struct Family {
    pub id: String,
    pub client_id: String,
    pub user_id: String,
    pub scopes: Vec<String>,
    pub auth_time: i64,
    pub amr: Vec<String>,
    pub acr: String,
    pub sid: String,
    /// When the grant was made: rotation never extends a family past
    /// `refresh_token_max_lifetime_secs` from here.
    pub created_at: i64,
    /// The resource server its access tokens are for (`aud`); `None`: the
    /// client itself.
    pub resource: Option<String>,
}

impl Family {
    fn from_row(row: RefreshFamilyRow) -> Family {
        Family {
            scopes: super::scope::parse(&row.scope),
            amr: row
                .amr
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect(),
            id: row.id,
            client_id: row.client_id,
            user_id: row.user_id,
            auth_time: row.auth_time,
            acr: row.acr,
            sid: row.sid,
            created_at: row.created_at,
            resource: row.resource,
        }
    }
}

/// Records a grant (a family) and, with `ttl_secs`, its first refresh
/// token, which it returns. Every code redemption records its grant, with
/// or without a refresh token: the access tokens name it (`grant_id`), so
/// revoking the grant revokes them too (RFC 7009 2.1).
pub async fn start_family(
    db: &Db,
    family: &Family,
    ttl_secs: Option<i64>,
    now: i64,
) -> Result<Option<String>, StoreError> {
    let token = ttl_secs.map(|ttl| (random_token(), ttl));
    let family_row = RefreshFamilyRow {
        id: family.id.clone(),
        client_id: family.client_id.clone(),
        user_id: family.user_id.clone(),
        scope: super::scope::join(&family.scopes),
        auth_time: family.auth_time,
        amr: family.amr.join(" "),
        acr: family.acr.clone(),
        sid: family.sid.clone(),
        created_at: now,
        revoked_at: None,
        resource: family.resource.clone(),
    };
    let token_row = token.as_ref().map(|(token, ttl)| RefreshTokenRow {
        token_hash: secret_hash(token),
        family_id: family.id.clone(),
        created_at: now,
        expires_at: now + ttl,
        rotated_at: None,
    });
    db.transaction(move |c| {
        rows::insert_family(c, &family_row)?;
        match &token_row {
            Some(row) => rows::insert_token(c, row),
            None => Ok(()),
        }
    })
    .await?;
    Ok(token.map(|(token, _)| token))
}

enum Outcome {
    Rotated(Family),
    Reused,
    ScopeWidened,
    Refused(&'static str),
}

/// How long refresh tokens live.
#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    /// Each token (`refresh_token_ttl_secs`).
    pub token_secs: i64,
    /// The family, however often it rotates (`refresh_token_max_lifetime_secs`).
    pub family_secs: i64,
}

/// Rotates `presented` for `client_id`: the new token and its family.
/// `narrowed`: scopes the client asks for, which must be within the
/// family's grant (checked before the token is spent).
pub async fn rotate(
    db: &Db,
    presented: &str,
    client_id: &str,
    narrowed: Option<Vec<String>>,
    lifetimes: Lifetimes,
    now: i64,
) -> Result<(String, Family), OAuthError> {
    let hash = secret_hash(presented);
    let client_id = client_id.to_string();
    let next = random_token();
    let next_hash = secret_hash(&next);
    let outcome = db
        .transaction(move |c| {
            let Some((token, family)) = rows::token_with_family(c, &hash)? else {
                return Ok(Outcome::Refused("unknown refresh token"));
            };
            if family.client_id != client_id {
                // Not this client's token: refuse without touching it.
                return Ok(Outcome::Refused("unknown refresh token"));
            }
            if family.revoked_at.is_some() {
                return Ok(Outcome::Refused("the refresh token was revoked"));
            }
            let family_ends = family.created_at.saturating_add(lifetimes.family_secs);
            if token.expires_at <= now || family_ends <= now {
                return Ok(Outcome::Refused("the refresh token has expired"));
            }
            let granted = super::scope::parse(&family.scope);
            if narrowed
                .as_ref()
                .is_some_and(|n| !super::scope::covers(&granted, n))
            {
                return Ok(Outcome::ScopeWidened);
            }
            if !rows::mark_rotated(c, &hash, now)? {
                rows::revoke_family(c, &family.id, now)?;
                let event = Event::new(EventKind::RefreshTokenReused)
                    .user(&family.user_id)
                    .client(&family.client_id)
                    .detail(serde_json::json!({ "family": family.id }));
                audit::record_in(c, event, now)?;
                return Ok(Outcome::Reused);
            }
            rows::insert_token(
                c,
                &RefreshTokenRow {
                    token_hash: next_hash,
                    family_id: family.id.clone(),
                    created_at: now,
                    expires_at: (now + lifetimes.token_secs).min(family_ends),
                    rotated_at: None,
                },
            )?;
            Ok::<_, StoreError>(Outcome::Rotated(Family::from_row(family)))
        })
        .await?;
    match outcome {
        Outcome::Rotated(family) => Ok((next, family)),
        Outcome::Reused => {
            tracing::warn!("refresh token reused: family revoked");
            Err(OAuthError::invalid_grant(
                "the refresh token was already used; its family is revoked",
            ))
        }
        Outcome::ScopeWidened => Err(OAuthError::InvalidScope(
            "a refresh cannot add scopes to the original grant".into(),
        )),
        Outcome::Refused(why) => Err(OAuthError::invalid_grant(why)),
    }
}

/// The live family of a presented token, if the token is current.
pub async fn lookup(
    db: &Db,
    presented: &str,
    now: i64,
) -> Result<Option<(Family, i64)>, StoreError> {
    let hash = secret_hash(presented);
    let found = db.run(move |c| rows::token_with_family(c, &hash)).await?;
    Ok(found.and_then(|(token, family)| {
        let live =
            token.rotated_at.is_none() && token.expires_at > now && family.revoked_at.is_none();
        live.then(|| (Family::from_row(family), token.expires_at))
    }))
}

pub async fn revoke_family(db: &Db, family_id: &str, now: i64) -> Result<(), StoreError> {
    let id = family_id.to_string();
    db.run(move |c| rows::revoke_family(c, &id, now)).await?;
    Ok(())
}

pub async fn revoke_session(db: &Db, sid: &str, now: i64) -> Result<usize, StoreError> {
    let sid = sid.to_string();
    db.run(move |c| rows::revoke_session_families(c, &sid, now))
        .await
}
