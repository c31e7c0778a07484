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

use axum::http::{HeaderMap, HeaderValue, header};

/// The `ETag` of a resource at `version`.
pub fn etag(version: i64) -> HeaderMap {
    let mut h = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&format!("\"{version}\"")) {
        h.insert(header::ETAG, v);
    }
    h
}
