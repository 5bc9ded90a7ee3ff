//! Reading request bodies and forms ourselves, so an oversized or malformed
//! body is an RFC 6749 `invalid_request` (never a 413/500 from a default
//! extractor), and repeated parameters are refused (RFC 6749 3.1, 3.2).

use crate::oauth::OAuthError;
use actix_web::http::header;
use actix_web::{web, HttpRequest};
use futures_util::StreamExt;
use std::collections::HashMap;

/// Reads at most `limit` bytes.
pub async fn read_body(mut payload: web::Payload, limit: usize) -> Result<Vec<u8>, OAuthError> {
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|_| OAuthError::invalid_request("the request body could not be read"))?;
        if body.len() + chunk.len() > limit {
            return Err(OAuthError::invalid_request(format!(
                "the request body is larger than {limit} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Parameters of a form or query, each at most once.
#[derive(Debug, Default)]
pub struct Params(HashMap<String, String>);

impl Params {
    pub fn parse(bytes: &[u8]) -> Result<Params, OAuthError> {
        let mut map = HashMap::new();
        for (key, value) in url::form_urlencoded::parse(bytes) {
            if map.insert(key.to_string(), value.to_string()).is_some() {
                return Err(OAuthError::invalid_request(format!(
                    "parameter `{key}` appears more than once"
                )));
            }
        }
        Ok(Params(map))
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    pub fn take(&mut self, key: &str) -> Option<String> {
        self.0.remove(key)
    }

    /// Converts into a typed struct of optional strings.
    pub fn into_struct<T: serde::de::DeserializeOwned>(self) -> Result<T, OAuthError> {
        let value = serde_json::to_value(self.0)
            .map_err(|_| OAuthError::invalid_request("malformed parameters"))?;
        serde_json::from_value(value)
            .map_err(|_| OAuthError::invalid_request("malformed parameters"))
    }
}

/// A POSTed `application/x-www-form-urlencoded` body.
pub async fn post_form(
    req: &HttpRequest,
    payload: web::Payload,
    limit: usize,
) -> Result<Params, OAuthError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = content_type.split(';').next().unwrap_or("").trim();
    if !mime.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        return Err(OAuthError::invalid_request(
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    let body = read_body(payload, limit).await?;
    Params::parse(&body)
}

/// The query string's parameters.
pub fn query(req: &HttpRequest) -> Result<Params, OAuthError> {
    Params::parse(req.query_string().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_parameters_are_refused() {
        assert!(Params::parse(b"a=1&b=2").is_ok());
        let err = Params::parse(b"a=1&a=2").unwrap_err();
        assert_eq!(err.code(), "invalid_request");
    }

    #[test]
    fn values_are_form_decoded() {
        let p = Params::parse(b"scope=openid+email&x=%26").unwrap();
        assert_eq!(p.get("scope"), Some("openid email"));
        assert_eq!(p.get("x"), Some("&"));
    }
}
