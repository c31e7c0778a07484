//! Survey answers collected elsewhere, and the export of pending invitations (admins).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use lots_hooks::ImportReport;

use super::problems::{NotAdmin, NotLoggedIn, TooLarge};
use crate::auth::{Caller, require};
use crate::error::ApiResult;
use crate::extract::{body_rejection, content_type};
use crate::routes::metrics::{CSV, download};
use lots_core::access::Capability;

/// Import answers keyed by diarienummer: CSV (`text/csv`, a header row, `;` or `,`) or NDJSON
/// (`application/x-ndjson`). Columns: reference, q_overall, q_expectations, q_ideal, the six
/// factors (information, accessibility, treatment, competence, legal_certainty, efficiency),
/// comment, answered_at. Every row is checked first: one bad row and nothing is imported (422
/// with every bad row by its line number). Importing the same file again changes nothing.
#[utoipa::path(post, path = "/api/v1/survey-responses/import", tag = "surveys",
    request_body(content = String, content_type = "text/csv", description = "CSV or NDJSON"),
    responses(
        (status = 200, description = "Imported", body = ImportReport),
        NotLoggedIn, NotAdmin, TooLarge,
        (status = 422, description = "Bad rows; nothing imported", body = ImportReport)))]
pub async fn import_responses(
    Caller { state, actor }: Caller,
    request: Request,
) -> ApiResult<Response> {
    // Decided before the body is read.
    require(&actor, Capability::Administer)?;
    let content_type = content_type(request.headers()).unwrap_or("").to_string();
    let body = Bytes::from_request(request, &state)
        .await
        .map_err(|e| body_rejection(e, state.config.body_limit_bytes))?;
    let report = state
        .surveys
        .import(&actor, &content_type, &body, state.clock.now())
        .await?;
    let status = if report.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((status, Json(report)).into_response())
}

/// Pending survey invitations with their links, for a survey provider: `;`-separated CSV in
/// UTF-8 with a BOM.
#[utoipa::path(get, path = "/api/v1/survey-invitations/pending.csv", tag = "surveys",
    responses(
        (status = 200, description = "reference;org_number;company_name;area;department;decided_at;expires_at;survey_url", body = String, content_type = "text/csv"),
        NotLoggedIn, NotAdmin))]
pub async fn pending_invitations(Caller { state, actor }: Caller) -> ApiResult<Response> {
    let csv = state.surveys.pending_csv(&actor, state.clock.now()).await?;
    let mut r = download(csv, CSV, "attachment; filename=\"enkatinbjudningar.csv\"");
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}
