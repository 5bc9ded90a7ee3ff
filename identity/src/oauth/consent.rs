//! Remembered consent for third-party clients; the user can withdraw it.

use crate::audit::{self, Event, EventKind};
use crate::store::{consents as rows, Db, StoreError};
use tessera_schema::rows::ConsentRow;

/// The scopes `user_id` has granted `client_id`, if any.
pub async fn granted(
    db: &Db,
    user_id: &str,
    client_id: &str,
) -> Result<Option<Vec<String>>, StoreError> {
    let (u, c) = (user_id.to_string(), client_id.to_string());
    Ok(db
        .run(move |conn| rows::get(conn, &u, &c))
        .await?
        .map(|row| super::scope::parse(&row.scope)))
}

/// Remembers consent to `scopes`, added to what was granted before.
pub async fn grant(
    db: &Db,
    user_id: &str,
    client_id: &str,
    scopes: &[String],
    now: i64,
) -> Result<(), StoreError> {
    let mut all = granted(db, user_id, client_id).await?.unwrap_or_default();
    for s in scopes {
        if !all.contains(s) {
            all.push(s.clone());
        }
    }
    let row = ConsentRow {
        user_id: user_id.to_string(),
        client_id: client_id.to_string(),
        scope: super::scope::join(&all),
        granted_at: now,
    };
    db.transaction(move |conn| {
        let event = Event::new(EventKind::ConsentGranted)
            .user(&row.user_id)
            .client(&row.client_id)
            .detail(serde_json::json!({ "scope": row.scope }));
        rows::replace(conn, &row)?;
        audit::record_in(conn, event, now)
    })
    .await
}

/// Every consent of a user: (client_id, scopes, granted_at).
pub async fn list(db: &Db, user_id: &str) -> Result<Vec<(String, Vec<String>, i64)>, StoreError> {
    let u = user_id.to_string();
    Ok(db
        .run(move |conn| rows::for_user(conn, &u))
        .await?
        .into_iter()
        .map(|r| (r.client_id, super::scope::parse(&r.scope), r.granted_at))
        .collect())
}

/// Withdraws consent; the next authorization asks again.
pub async fn withdraw(
    db: &Db,
    user_id: &str,
    client_id: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let (u, c) = (user_id.to_string(), client_id.to_string());
    db.transaction(move |conn| {
        let withdrawn = rows::delete(conn, &u, &c)?;
        // What the consent allowed ends with it: the client's refresh
        // tokens for this user and, through their grants, its access tokens.
        crate::store::refresh::revoke_user_client_families(conn, &u, &c, now)?;
        if withdrawn {
            audit::record_in(
                conn,
                Event::new(EventKind::ConsentWithdrawn).user(&u).client(&c),
                now,
            )?;
        }
        Ok(withdrawn)
    })
    .await
}
