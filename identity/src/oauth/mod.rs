//! OAuth 2.0: clients, authorization requests and codes, PKCE, the token
//! endpoint's grants, refresh-token families, introspection and revocation.

pub mod access_token;
pub mod authorize;
pub mod clients;
pub mod code;
pub mod consent;
mod error;
pub mod first_party;
pub mod flow;
pub mod grants;
pub mod introspect;
pub mod passkey_login;
pub mod pkce;
pub mod refresh;
pub mod resources;
pub mod revoke;
pub mod scope;

pub use error::OAuthError;
