//! The `/api/v1` handlers. Each extracts, calls one service function and maps the result.

pub mod auth;
pub mod cases;
pub mod companies;
pub mod deadlines;
pub mod directory;
pub mod e_services;
pub mod handoffs;
pub mod import;
pub mod metrics;
pub mod problems;
pub mod public;
pub mod record;
pub mod survey_page;
pub mod surveys;
pub mod webhooks;

use axum::Json;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};

use crate::error::{ApiError, ApiResult};

/// `{id}` in the path of a case's operations, for their `params(...)`.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct CaseId {
    /// The case id
    pub id: i64,
}

/// `{id}` in the path of a handoff's operations, for their `params(...)`.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct HandoffId {
    /// The handoff id
    pub id: i64,
}

/// The two numeric ids of a path such as `/cases/{id}/parties/{party_id}`; anything else names
/// no resource (404).
pub(crate) fn ids(a: &str, b: &str) -> ApiResult<(i64, i64)> {
    match (a.parse(), b.parse()) {
        (Ok(a), Ok(b)) => Ok((a, b)),
        _ => Err(ApiError::not_found("no such resource")),
    }
}

/// The `ETag` of a resource at `version`.
pub fn etag(version: i64) -> HeaderMap {
    let mut h = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&format!("\"{version}\"")) {
        h.insert(header::ETAG, v);
    }
    h
}

/// 201 with what a request created.
pub fn created<T>(body: T) -> (StatusCode, Json<T>) {
    (StatusCode::CREATED, Json(body))
}

/// 201 with what a request created, or 200 with what was there already and is answered or
/// replaced (the same upload again, an e-service defined again).
pub fn created_or_replaced<T>(created: bool, body: T) -> (StatusCode, Json<T>) {
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    (status, Json(body))
}
