//! Token revocation (RFC 7009). A client may revoke only its own tokens;
//! for anything else, including unknown tokens, the answer is still 200
//! (section 2.2), so the endpoint reveals nothing.

use super::{access_token, refresh, OAuthError};
use crate::oauth::clients::Client;
use crate::App;

pub async fn revoke(
    app: &App,
    caller: &Client,
    token: &str,
    hint: Option<&str>,
    now: i64,
) -> Result<(), OAuthError> {
    if token.is_empty() {
        return Err(OAuthError::invalid_request("token is required"));
    }
    if token.len() > 8192 {
        return Ok(());
    }
    let looks_like_jwt = token.bytes().filter(|b| *b == b'.').count() == 2;
    if looks_like_jwt && hint != Some("refresh_token") {
        // Expired or forged tokens need no revocation; an unreachable store
        // is an error (the client must not believe the token revoked).
        match access_token::validate(app, token, now).await {
            Ok(valid) if valid.claims.client_id == caller.client_id => {
                let claims = valid.claims;
                access_token::deny(&app.ephemeral, &claims.jti, claims.exp, now).await?;
            }
            Err(e) if e.is_server_side() => return Err(e),
            _ => {}
        }
        return Ok(());
    }
    if let Some((family, _)) = refresh::lookup(&app.db, token, now).await? {
        if family.client_id == caller.client_id {
            refresh::revoke_family(&app.db, &family.id, now).await?;
        }
    }
    Ok(())
}
