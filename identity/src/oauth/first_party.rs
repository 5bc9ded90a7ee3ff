//! Who may change a user's credentials through the API. A token that a
//! third-party client obtained (even with a fresh sign-in and only `openid`)
//! must not let that client plant a passkey it controls and later sign in
//! as the user; only first-party clients (the platform's own app and H5
//! pages, flagged by an operator with `tessera-admin client add
//! --first-party`) may add or remove credentials.

use super::access_token::AccessClaims;
use super::OAuthError;
use crate::audit::{self, Event, EventKind};
use crate::App;
use serde_json::json;

/// `Ok` when the token was issued to a first-party client; otherwise
/// `insufficient_scope` (RFC 6750 3.1) and an audit event naming the client.
pub async fn require_first_party(
    app: &App,
    claims: &AccessClaims,
    action: &str,
    now: i64,
) -> Result<(), OAuthError> {
    let client = app.clients.get(&claims.client_id).await?;
    if client.is_some_and(|c| c.first_party) {
        return Ok(());
    }
    let event = Event::new(EventKind::CredentialChangeRefused)
        .user(&claims.sub)
        .client(&claims.client_id)
        .detail(json!({ "action": action, "reason": "not a first-party client" }));
    audit::record(&app.db, event, now).await;
    Err(OAuthError::InsufficientScope)
}
