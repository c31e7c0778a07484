//! The statutory clock: supplement requests, the one extension, and a party's request for a
//! decision.

use axum::Json;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use lots_cases::{
    CaseView, NewDecisionRequest, NewExtension, NewSupplementRequest, SupplementView,
};
use serde::Serialize;

use super::problems::{NoSuchCase, NotLoggedIn, StaleIfMatch};
use super::{CaseId, created, etag};
use crate::auth::Caller;
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, Id, IfMatch};

#[derive(Serialize, utoipa::ToSchema)]
pub struct SupplementList {
    pub items: Vec<SupplementView>,
}

/// Ask the company for a supplement: the case waits (`awaiting_supplement`) until it comes. Made
/// within three weeks of receipt, it restarts a building case's clock from the day it arrives.
#[utoipa::path(post, path = "/api/v1/cases/{id}/supplement-requests", tag = "deadlines",
    params(CaseId,
           ("If-Match" = Option<String>, Header, description = "The case's ETag; a stale one gets 412")),
    request_body = NewSupplementRequest,
    responses(
        (status = 201, description = "The request; the case now waits for the supplement", body = SupplementView),
        NotLoggedIn, NoSuchCase, StaleIfMatch,
        (status = 409, description = "The case is not in progress, or already waits for a supplement", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No message", body = Problem, content_type = "application/problem+json")))]
pub async fn request_supplement(
    Caller { state, actor }: Caller,
    Id(id): Id,
    IfMatch(version): IfMatch,
    ApiJson(input): ApiJson<NewSupplementRequest>,
) -> ApiResult<(StatusCode, Json<SupplementView>)> {
    Ok(created(
        state
            .supplements
            .request_supplement(&actor, id, input, version)
            .await?,
    ))
}

/// A case's supplement requests, oldest first.
#[utoipa::path(get, path = "/api/v1/cases/{id}/supplement-requests", tag = "deadlines",
    params(CaseId),
    responses(
        (status = 200, description = "The requests", body = SupplementList),
        NotLoggedIn, NoSuchCase))]
pub async fn list_supplements(
    Caller { state, actor }: Caller,
    Id(id): Id,
) -> ApiResult<Json<SupplementList>> {
    Ok(Json(SupplementList {
        items: state.supplements.supplements(&actor, id).await?,
    }))
}

/// Register that the supplement came in: the case is in progress again.
#[utoipa::path(post, path = "/api/v1/cases/{id}/supplement-requests/{rid}/received", tag = "deadlines",
    params(("id" = i64, Path, description = "The case id"), ("rid" = i64, Path, description = "The request id")),
    responses(
        (status = 200, description = "The request, received", body = SupplementView),
        NotLoggedIn,
        (status = 404, description = "No such case or request", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already received, or the case no longer waits", body = Problem, content_type = "application/problem+json")))]
pub async fn receive_supplement(
    Caller { state, actor }: Caller,
    Path((id, rid)): Path<(String, String)>,
) -> ApiResult<Json<SupplementView>> {
    let (id, rid) = super::ids(&id, &rid)?;
    Ok(Json(
        state
            .supplements
            .receive_supplement(&actor, id, rid)
            .await?,
    ))
}

/// Extend a building case's deadline, once, by at most what the law allows (10 weeks for a
/// permit, 4 for a notification), before it has passed.
#[utoipa::path(post, path = "/api/v1/cases/{id}/deadline-extensions", tag = "deadlines",
    params(CaseId,
           ("If-Match" = Option<String>, Header, description = "The case's ETag; a stale one gets 412")),
    request_body = NewExtension,
    responses(
        (status = 201, description = "The case with its extended deadline", body = CaseView),
        NotLoggedIn, NoSuchCase, StaleIfMatch,
        (status = 409, description = "Already extended, the deadline has passed, the clock has not started, or the area has no extension", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason, or too many weeks", body = Problem, content_type = "application/problem+json")))]
pub async fn extend_deadline(
    Caller { state, actor }: Caller,
    Id(id): Id,
    IfMatch(version): IfMatch,
    ApiJson(input): ApiJson<NewExtension>,
) -> ApiResult<(StatusCode, HeaderMap, Json<CaseView>)> {
    let case = state
        .supplements
        .extend_deadline(&actor, id, input, version)
        .await?;
    Ok((StatusCode::CREATED, etag(case.version), Json(case)))
}

/// Register a party's request for a decision (förvaltningslagen 12 §): possible once the case is
/// six months old; it starts a four-week deadline of its own.
#[utoipa::path(post, path = "/api/v1/cases/{id}/decision-requests", tag = "deadlines",
    params(CaseId),
    request_body = NewDecisionRequest,
    responses(
        (status = 201, description = "The case with `deadline.decision_request`", body = CaseView),
        NotLoggedIn, NoSuchCase,
        (status = 409, description = "The case is decided, younger than six months, or already has a request", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid note", body = Problem, content_type = "application/problem+json")))]
pub async fn request_decision(
    Caller { state, actor }: Caller,
    Id(id): Id,
    ApiJson(input): ApiJson<NewDecisionRequest>,
) -> ApiResult<(StatusCode, HeaderMap, Json<CaseView>)> {
    let case = state
        .supplements
        .request_decision(&actor, id, input)
        .await?;
    Ok((StatusCode::CREATED, etag(case.version), Json(case)))
}
