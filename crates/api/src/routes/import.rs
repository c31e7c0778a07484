//! Bulk import of case histories (admins).

use axum::Json;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use lots_cases::{CaseImportReport, ImportOptions, ImportSource};
use lots_core::access::Capability;
use serde::Deserialize;

use super::problems::{NotAdmin, NotLoggedIn, TooLarge};
use crate::auth::{Caller, require};
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiQuery;

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// `true`: import the good lines and report the bad ones.
    pub skip_invalid: Option<bool>,
    /// `true`: create departments and actors that do not exist.
    pub create_missing: Option<bool>,
}

/// Import case histories: NDJSON, one case a line, with its events, handoffs and survey answer
/// (the format of API.md). Every line and the order of its events are checked before anything
/// is written; a file with a bad line imports nothing (422, every bad line with its number) unless
/// `skip_invalid=true`. A diarienummer that exists is refused, so re-importing never duplicates.
#[utoipa::path(post, path = "/api/v1/import/cases", tag = "metrics", params(ImportParams),
    request_body(content = String, content_type = "application/x-ndjson"),
    responses(
        (status = 200, description = "Imported", body = CaseImportReport),
        NotLoggedIn, NotAdmin, TooLarge,
        (status = 422, description = "Bad lines; nothing imported", body = CaseImportReport)))]
pub async fn import_cases(
    Caller { state, actor }: Caller,
    ApiQuery(params): ApiQuery<ImportParams>,
    request: Request,
) -> ApiResult<Response> {
    // Refuse before reading a byte of the body: a history file may be 256 MiB, and only an
    // admin may make the server hold one.
    require(&actor, Capability::Administer)?;
    let limit = state.config.import_limit_bytes;
    // A history file is larger than any other request: its own limit, not the global one.
    let bytes = axum::body::to_bytes(request.into_body(), limit)
        .await
        .map_err(|_| ApiError::payload_too_large(limit))?;
    let options = ImportOptions {
        skip_invalid: params.skip_invalid.unwrap_or(false),
        create_missing: params.create_missing.unwrap_or(false),
        instrument: state.config.nki.clone(),
    };
    let report = state
        .cases
        .import_cases(&actor, ImportSource::Body(bytes), &options, &|_, _| {})
        .await?;
    let status = if report.errors.is_empty() || (options.skip_invalid && report.imported > 0) {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((status, Json(report)).into_response())
}
