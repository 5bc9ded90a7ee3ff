//! Client authentication at the token, introspection and revocation
//! endpoints: `client_secret_basic`, `client_secret_post`, or `none` for
//! public clients (which must then prove possession with PKCE).

use crate::oauth::clients::{Client, Clients};
use crate::oauth::OAuthError;

/// Credentials as presented; the HTTP layer fills this in.
#[derive(Debug, Default, Clone)]
pub struct ClientCredentials {
    /// From `Authorization: Basic` (already form-decoded, RFC 6749 2.3.1).
    pub basic: Option<(String, String)>,
    /// `client_id` form field.
    pub form_id: Option<String>,
    /// `client_secret` form field.
    pub form_secret: Option<String>,
}

fn invalid_client() -> OAuthError {
    OAuthError::InvalidClient("client authentication failed".into())
}

/// Authenticates the client. One method only (RFC 6749 2.3: "MUST NOT use
/// more than one authentication method in each request"). Unknown client
/// and wrong secret give the same answer.
pub async fn authenticate_client(
    clients: &Clients,
    credentials: &ClientCredentials,
) -> Result<Client, OAuthError> {
    let form_secret = credentials.form_secret.as_deref().filter(|s| !s.is_empty());
    let (client_id, secret) = match (&credentials.basic, form_secret) {
        (Some(_), Some(_)) => {
            return Err(OAuthError::invalid_request(
                "use one client authentication method, not two",
            ))
        }
        (Some((id, secret)), None) => {
            if credentials.form_id.as_deref().is_some_and(|f| f != id) {
                return Err(OAuthError::invalid_request(
                    "client_id in the body differs from the Authorization header",
                ));
            }
            (id.as_str(), Some(secret.as_str()))
        }
        (None, secret) => match credentials.form_id.as_deref().filter(|s| !s.is_empty()) {
            Some(id) => (id, secret),
            None => return Err(invalid_client()),
        },
    };
    if client_id.len() > 128 || secret.is_some_and(|s| s.len() > 256) {
        return Err(invalid_client());
    }
    let client = clients.get(client_id).await.map_err(OAuthError::from)?;
    let Some(client) = client else {
        return Err(invalid_client());
    };
    match (client.is_public(), secret) {
        (true, None) => Ok(client),
        (false, Some(secret)) if client.secret_matches(secret) => Ok(client),
        _ => Err(invalid_client()),
    }
}
