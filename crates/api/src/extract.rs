//! Extractors whose rejections are problem+json: a malformed body is 400, a wrong content type
//! 415, a body over the limit 413, and a body of the wrong shape 422 naming the field.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::state::AppState;

/// A multipart body, or why axum could not take it: the handler answers that itself (415, or the
/// page that says so).
pub type MultipartBody =
    Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>;

/// A JSON request body.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        if !is_json(content_type(req.headers())) {
            return Err(ApiError::unsupported_media_type(
                "send the body as application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| body_rejection(e, state.config.body_limit_bytes))?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// A JSON body that may also be left out entirely (then `T::default()`).
#[derive(Debug)]
pub struct OptionalJson<T>(pub T);

impl<T: DeserializeOwned + Default> FromRequest<AppState> for OptionalJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let content_type = content_type(req.headers()).map(str::to_string);
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| body_rejection(e, state.config.body_limit_bytes))?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJson(T::default()));
        }
        if !is_json(content_type.as_deref()) {
            return Err(ApiError::unsupported_media_type(
                "send the body as application/json",
            ));
        }
        parse_json(&bytes).map(OptionalJson)
    }
}

pub(crate) fn body_rejection(e: BytesRejection, limit: usize) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::payload_too_large(limit)
    } else {
        ApiError::bad_request("the request body could not be read")
    }
}

/// The request's `Content-Type`, if it has a readable one.
pub fn content_type(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
}

fn is_json(content_type: Option<&str>) -> bool {
    let Some(ct) = content_type else { return false };
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Parses JSON, telling a syntax error (400) from a value of the wrong shape (422, with the
/// path of the offending field).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "the request body is empty; send a JSON object",
        ));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = match serde_path_to_error::deserialize(&mut de) {
        Ok(v) => v,
        Err(err) => {
            let path = err.path().to_string();
            let inner = err.into_inner();
            let message = strip_position(&inner.to_string());
            return Err(match inner.classify() {
                serde_json::error::Category::Data => {
                    let field = match message
                        .strip_prefix("unknown field `")
                        .and_then(|m| m.split('`').next())
                    {
                        // The path names the offending field, except at the root, where an
                        // unknown field is named only in the message.
                        _ if path != "." && !path.starts_with('[') => path,
                        Some(name) => name.to_string(),
                        None => "body".to_string(),
                    };
                    ApiError::invalid(field, message)
                }
                _ => ApiError::bad_request(format!("malformed JSON: {}", inner)),
            });
        }
    };
    de.end()
        .map_err(|e| ApiError::bad_request(format!("malformed JSON: {e}")))?;
    Ok(value)
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// Query parameters; a malformed query string is 422.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        serde_urlencoded::from_str(query)
            .map(ApiQuery)
            .map_err(|e| ApiError::invalid("query", e.to_string()))
    }
}

/// A numeric id in the path; anything else names no resource (404).
#[derive(Debug, Clone, Copy)]
pub struct Id(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let axum::extract::Path(raw) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|_| ApiError::not_found("no such resource"))?;
        raw.parse::<i64>()
            .map(Id)
            .map_err(|_| ApiError::not_found("no such resource"))
    }
}

/// The version named by `If-Match` (`"3"`, `W/"3"`); absent or `*` means "any version".
#[derive(Debug, Clone, Copy)]
pub struct IfMatch(pub Option<i64>);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let Some(value) = parts.headers.get(header::IF_MATCH) else {
            return Ok(IfMatch(None));
        };
        let text = value
            .to_str()
            .map_err(|_| ApiError::bad_request("If-Match is not readable text"))?
            .trim();
        if text == "*" {
            return Ok(IfMatch(None));
        }
        let tag = text.strip_prefix("W/").unwrap_or(text).trim_matches('"');
        tag.parse::<i64>().map(|v| IfMatch(Some(v))).map_err(|_| {
            ApiError::bad_request("If-Match must be the ETag of the resource, e.g. \"3\"")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        title: Option<String>,
        inner: Option<Inner>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        n: Option<u8>,
    }

    #[test]
    fn content_types() {
        assert!(is_json(Some("application/json")));
        assert!(is_json(Some("Application/JSON; charset=utf-8")));
        assert!(is_json(Some("application/merge-patch+json")));
        assert!(!is_json(Some("text/plain")));
        assert!(!is_json(None));
    }

    #[test]
    fn syntax_errors_are_400_and_shape_errors_422_with_the_field() {
        assert_eq!(
            parse_json::<Body>(b"{\"title\": ").unwrap_err().status(),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            parse_json::<Body>(b"{} trailing").unwrap_err().status(),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            parse_json::<Body>(b"  ").unwrap_err().status(),
            StatusCode::BAD_REQUEST
        );
        let e = parse_json::<Body>(b"{\"title\": 5}").unwrap_err();
        assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(format!("{e:?}").contains("field: \"title\""), "{e:?}");
        let e = parse_json::<Body>(b"{\"inner\": {\"n\": 300}}").unwrap_err();
        assert!(format!("{e:?}").contains("field: \"inner.n\""), "{e:?}");
        let e = parse_json::<Body>(b"{\"status\": \"closed\"}").unwrap_err();
        assert!(format!("{e:?}").contains("field: \"status\""), "{e:?}");
        let e = parse_json::<Body>(b"[1]").unwrap_err();
        assert!(format!("{e:?}").contains("field: \"body\""), "{e:?}");
    }
}
