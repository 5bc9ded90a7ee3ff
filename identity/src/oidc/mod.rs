//! OpenID Connect on top of OAuth: discovery, ID tokens, userinfo, logout.

pub mod discovery;
pub mod id_token;
pub mod logout;
pub mod userinfo;
