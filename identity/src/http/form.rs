//! Reading request bodies and forms ourselves, so an oversized or malformed
//! body is an RFC 6749 `invalid_request` (never a 413/500 from a default
//! extractor), and repeated parameters are refused (RFC 6749 3.1, 3.2).
//!
//! Every parameter name and value, in forms, query strings and JSON bodies,
//! is checked here before anything reaches a query: valid UTF-8 (no silent
//! replacement), no NUL or other control character but tab and line breaks,
//! at most [`MAX_VALUE_BYTES`]. PostgreSQL text cannot hold NUL, so without
//! this a hostile `client_id` would fail differently on the two backends.

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

/// The longest parameter value accepted (tokens included).
pub const MAX_VALUE_BYTES: usize = 16 * 1024;

/// Checks one parameter (or JSON string) value; the error names `name`.
pub fn check_text(name: &str, value: &str) -> Result<(), OAuthError> {
    if value.len() > MAX_VALUE_BYTES {
        return Err(OAuthError::invalid_request(format!(
            "parameter `{}` is longer than {MAX_VALUE_BYTES} bytes",
            printable(name)
        )));
    }
    if value
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
    {
        return Err(OAuthError::invalid_request(format!(
            "parameter `{}` contains a control character",
            printable(name)
        )));
    }
    Ok(())
}

/// A name safe to echo in an error description.
fn printable(name: &str) -> String {
    name.chars().filter(|c| !c.is_control()).take(64).collect()
}

/// `application/x-www-form-urlencoded` decoding of one name or value
/// (`+` is a space, `%XX` a byte) that refuses what is not UTF-8 instead of
/// replacing it.
pub fn decode_component(raw: &[u8]) -> Result<String, ()> {
    let mut bytes = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'+' => bytes.push(b' '),
            b'%' if i + 2 < raw.len()
                && raw[i + 1].is_ascii_hexdigit()
                && raw[i + 2].is_ascii_hexdigit() =>
            {
                let hex = std::str::from_utf8(&raw[i + 1..i + 3]).map_err(|_| ())?;
                bytes.push(u8::from_str_radix(hex, 16).map_err(|_| ())?);
                i += 2;
            }
            b'%' => return Err(()),
            b => bytes.push(b),
        }
        i += 1;
    }
    String::from_utf8(bytes).map_err(|_| ())
}

/// Parameters of a form or query, each at most once.
#[derive(Debug, Default)]
pub struct Params(HashMap<String, String>);

impl Params {
    pub fn parse(bytes: &[u8]) -> Result<Params, OAuthError> {
        let mut map = HashMap::new();
        for pair in bytes.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
            let (raw_key, raw_value) = match pair.iter().position(|b| *b == b'=') {
                Some(at) => (&pair[..at], &pair[at + 1..]),
                None => (pair, &b""[..]),
            };
            let malformed =
                || OAuthError::invalid_request("the parameters are not valid UTF-8 form encoding");
            let key = decode_component(raw_key).map_err(|_| malformed())?;
            let value = decode_component(raw_value).map_err(|_| malformed())?;
            check_text(&key, &key)?;
            check_text(&key, &value)?;
            if map.insert(key.clone(), value).is_some() {
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
    require_media_type(req, "application/x-www-form-urlencoded")?;
    let body = read_body(payload, limit).await?;
    Params::parse(&body)
}

/// `invalid_request` unless the body is declared as `mime` (parameters such
/// as `charset` ignored).
fn require_media_type(req: &HttpRequest, mime: &str) -> Result<(), OAuthError> {
    let declared = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .unwrap_or("")
        .trim();
    if declared.eq_ignore_ascii_case(mime) {
        Ok(())
    } else {
        Err(OAuthError::invalid_request(format!(
            "the body must be {mime}"
        )))
    }
}

/// A POSTed `application/json` body of at most `limit` bytes, every key
/// and string checked like a form's values, then typed.
pub async fn json_body<T: serde::de::DeserializeOwned>(
    req: &HttpRequest,
    payload: web::Payload,
    limit: usize,
) -> Result<T, OAuthError> {
    require_media_type(req, "application/json")?;
    let bytes = read_body(payload, limit).await?;
    let value: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| OAuthError::invalid_request(format!("malformed JSON: {e}")))?;
    check_json_strings("", &value)?;
    serde_json::from_value(value)
        .map_err(|e| OAuthError::invalid_request(format!("malformed JSON: {e}")))
}

/// Applies [`check_text`] to every key and string in a JSON body.
fn check_json_strings(path: &str, value: &serde_json::Value) -> Result<(), OAuthError> {
    use serde_json::Value;
    match value {
        Value::String(s) => check_text(path, s),
        Value::Array(items) => items.iter().try_for_each(|v| check_json_strings(path, v)),
        Value::Object(map) => map.iter().try_for_each(|(k, v)| {
            check_text(k, k)?;
            check_json_strings(k, v)
        }),
        _ => Ok(()),
    }
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
        let p = Params::parse(b"scope=openid+email&x=%26&e=&f&u=%C3%A9").unwrap();
        assert_eq!(p.get("scope"), Some("openid email"));
        assert_eq!(p.get("x"), Some("&"));
        assert_eq!(p.get("e"), Some(""));
        assert_eq!(p.get("f"), Some(""));
        assert_eq!(p.get("u"), Some("é"));
    }

    #[test]
    fn hostile_values_are_refused() {
        for bad in [
            &b"client_id=a%00b"[..],
            b"client_id=%1B[31m",
            b"client_id=%7F",
            b"client_id=%C3%28",
            b"client_id=%FF",
            b"client_id=%G1",
            b"client_id=%4",
            b"client_id=%+1",
            b"a%00=1",
        ] {
            let err = Params::parse(bad).unwrap_err();
            assert_eq!(
                err.code(),
                "invalid_request",
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        let long = format!("state={}", "a".repeat(MAX_VALUE_BYTES + 1));
        assert!(Params::parse(long.as_bytes()).is_err());
        // Line breaks and tabs are text (a multi-line reason, say).
        assert!(Params::parse(b"text=a%0D%0Ab%09c").is_ok());
    }
}
