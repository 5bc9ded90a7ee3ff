//! The userinfo endpoint's claims (OIDC Core 5.3 and 5.4), by scope.

use crate::accounts::User;
use crate::oauth::access_token::{self, AccessClaims};
use crate::oauth::{scope, OAuthError};
use crate::App;
use serde_json::{json, Map, Value};

/// Validates the bearer token and returns the claims it may see.
pub async fn userinfo(app: &App, token: &str, now: i64) -> Result<Value, OAuthError> {
    let valid = access_token::validate(app, token, now).await?;
    let Some(user) = valid.user else {
        return Err(OAuthError::InvalidToken(
            "the access token was not issued to a user".into(),
        ));
    };
    if !scope::contains(&valid.claims.scopes(), "openid") {
        return Err(OAuthError::InsufficientScope);
    }
    Ok(claims_for(&user, &valid.claims))
}

pub fn claims_for(user: &User, token: &AccessClaims) -> Value {
    let scopes = token.scopes();
    let mut out = Map::new();
    out.insert("sub".into(), json!(user.id));
    if scope::contains(&scopes, "profile") {
        out.insert("preferred_username".into(), json!(user.username));
        if let Some(name) = &user.name {
            out.insert("name".into(), json!(name));
        }
        out.insert("updated_at".into(), json!(user.updated_at));
    }
    if scope::contains(&scopes, "email") {
        if let Some(email) = &user.email {
            out.insert("email".into(), json!(email));
            out.insert("email_verified".into(), json!(user.email_verified));
        }
    }
    Value::Object(out)
}
