//! OAuth errors as the RFCs name them. `http::error` maps each to its
//! status code, body and headers; nothing else decides that.

/// One error of RFC 6749 sections 4.1.2.1 and 5.2, OIDC Core 3.1.2.6,
/// RFC 6750 section 3.1 and RFC 7009 section 2.2.1. The string is the
/// `error_description`, safe to show to the client.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum OAuthError {
    #[error("{0}")]
    InvalidRequest(String),
    #[error("{0}")]
    InvalidClient(String),
    #[error("{0}")]
    InvalidGrant(String),
    #[error("{0}")]
    UnauthorizedClient(String),
    #[error("{0}")]
    UnsupportedGrantType(String),
    #[error("{0}")]
    InvalidScope(String),
    #[error("{0}")]
    AccessDenied(String),
    #[error("{0}")]
    UnsupportedResponseType(String),
    /// RFC 8707 section 2: the `resource` is unknown or not allowed.
    #[error("{0}")]
    InvalidTarget(String),
    #[error("the user must sign in")]
    LoginRequired,
    #[error("the user must consent")]
    ConsentRequired,
    #[error("{0}")]
    InvalidToken(String),
    #[error("the token does not grant the scope this needs")]
    InsufficientScope,
    #[error("this token type cannot be revoked")]
    UnsupportedTokenType,
    /// A store the request needs is unreachable (RFC 6749 4.1.2.1 names the
    /// code); the client may retry. The string names the store.
    #[error("the {0} store is unavailable; retry later")]
    TemporarilyUnavailable(crate::store::outage::StoreName),
    /// An internal failure: the cause is logged, the client sees a generic text.
    #[error("internal error")]
    Server(String),
}

impl OAuthError {
    pub fn code(&self) -> &'static str {
        match self {
            OAuthError::InvalidRequest(_) => "invalid_request",
            OAuthError::InvalidClient(_) => "invalid_client",
            OAuthError::InvalidGrant(_) => "invalid_grant",
            OAuthError::UnauthorizedClient(_) => "unauthorized_client",
            OAuthError::UnsupportedGrantType(_) => "unsupported_grant_type",
            OAuthError::InvalidScope(_) => "invalid_scope",
            OAuthError::AccessDenied(_) => "access_denied",
            OAuthError::UnsupportedResponseType(_) => "unsupported_response_type",
            OAuthError::InvalidTarget(_) => "invalid_target",
            OAuthError::LoginRequired => "login_required",
            OAuthError::ConsentRequired => "consent_required",
            OAuthError::InvalidToken(_) => "invalid_token",
            OAuthError::InsufficientScope => "insufficient_scope",
            OAuthError::UnsupportedTokenType => "unsupported_token_type",
            OAuthError::TemporarilyUnavailable(_) => "temporarily_unavailable",
            OAuthError::Server(_) => "server_error",
        }
    }

    /// The `error_description` sent to the client.
    pub fn description(&self) -> String {
        match self {
            OAuthError::Server(_) => "the server could not complete the request".into(),
            other => other.to_string(),
        }
    }

    /// True when the server, not the request, is at fault (an internal
    /// error or an unreachable store): such errors are passed on, never
    /// read as "the token is not valid".
    pub fn is_server_side(&self) -> bool {
        matches!(
            self,
            OAuthError::Server(_) | OAuthError::TemporarilyUnavailable(_)
        )
    }

    pub fn invalid_request(text: impl Into<String>) -> Self {
        OAuthError::InvalidRequest(text.into())
    }

    pub fn invalid_grant(text: impl Into<String>) -> Self {
        OAuthError::InvalidGrant(text.into())
    }
}

impl From<crate::store::StoreError> for OAuthError {
    fn from(e: crate::store::StoreError) -> Self {
        match e.unavailable_store() {
            Some(store) => OAuthError::TemporarilyUnavailable(store),
            None => OAuthError::Server(e.to_string()),
        }
    }
}

impl From<crate::keys::KeyError> for OAuthError {
    fn from(e: crate::keys::KeyError) -> Self {
        OAuthError::Server(e.to_string())
    }
}

impl From<crate::accounts::UserError> for OAuthError {
    fn from(e: crate::accounts::UserError) -> Self {
        match e {
            crate::accounts::UserError::Store(e) => e.into(),
            e => OAuthError::Server(e.to_string()),
        }
    }
}
