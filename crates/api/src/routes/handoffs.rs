//! Handoffs across departments: request one on a case, the inbox, and the steps of its life.

use axum::Json;
use axum::http::StatusCode;
use lots_handoff::{HandoffFilter, HandoffPage, HandoffReply, HandoffView, NewHandoff};
use serde::Serialize;

use super::problems::{
    InvalidFields, NoSuchCase, NoSuchHandoff, NotLoggedIn, NotReceivingDepartment,
};
use super::{CaseId, HandoffId, created};
use crate::auth::Caller;
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, Id, OptionalJson};

#[derive(Serialize, utoipa::ToSchema)]
pub struct HandoffList {
    pub items: Vec<HandoffView>,
}

/// Hand a case over, ask another department for an opinion, or inform it.
#[utoipa::path(post, path = "/api/v1/cases/{id}/handoffs", tag = "handoffs",
    params(CaseId),
    request_body = NewHandoff,
    responses(
        (status = 201, description = "Requested", body = HandoffView),
        NotLoggedIn, NoSuchCase, InvalidFields,
        (status = 403, description = "The caller may read the case but it is another department's", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The case is closed, or a transfer already waits", body = Problem, content_type = "application/problem+json")))]
pub async fn request_handoff(
    Caller { state, actor }: Caller,
    Id(id): Id,
    ApiJson(input): ApiJson<NewHandoff>,
) -> ApiResult<(StatusCode, Json<HandoffView>)> {
    Ok(created(state.handoffs.request(&actor, id, input).await?))
}

/// Every handoff of a case, oldest first.
#[utoipa::path(get, path = "/api/v1/cases/{id}/handoffs", tag = "handoffs",
    params(CaseId),
    responses(
        (status = 200, description = "The case's handoffs", body = HandoffList),
        NotLoggedIn, NoSuchCase))]
pub async fn case_handoffs(
    Caller { state, actor }: Caller,
    Id(id): Id,
) -> ApiResult<Json<HandoffList>> {
    Ok(Json(HandoffList {
        items: state.handoffs.of_case(&actor, id).await?,
    }))
}

/// The inbox: handoffs the caller's department sent or received (admins: all), oldest request
/// first, with the time they have waited.
#[utoipa::path(get, path = "/api/v1/handoffs", tag = "handoffs",
    params(HandoffFilter),
    responses(
        (status = 200, description = "A page of handoffs", body = HandoffPage),
        NotLoggedIn,
        (status = 422, description = "An invalid filter", body = Problem, content_type = "application/problem+json")))]
pub async fn list_handoffs(
    Caller { state, actor }: Caller,
    ApiQuery(filter): ApiQuery<HandoffFilter>,
) -> ApiResult<Json<HandoffPage>> {
    Ok(Json(state.handoffs.list(&actor, filter).await?))
}

/// One handoff.
#[utoipa::path(get, path = "/api/v1/handoffs/{id}", tag = "handoffs",
    params(HandoffId),
    responses(
        (status = 200, description = "The handoff", body = HandoffView),
        NotLoggedIn,
        (status = 404, description = "No such handoff, or not one of the caller's department", body = Problem, content_type = "application/problem+json")))]
pub async fn get_handoff(
    Caller { state, actor }: Caller,
    Id(id): Id,
) -> ApiResult<Json<HandoffView>> {
    Ok(Json(state.handoffs.get(&actor, id).await?))
}

/// Accept (the receiving department). Accepting a transfer moves the case to the receiving
/// department and completes the transfer.
#[utoipa::path(post, path = "/api/v1/handoffs/{id}/accept", tag = "handoffs",
    params(HandoffId),
    responses(
        (status = 200, description = "Accepted", body = HandoffView),
        NotLoggedIn, NotReceivingDepartment, NoSuchHandoff,
        (status = 409, description = "Not waiting for an answer", body = Problem, content_type = "application/problem+json")))]
pub async fn accept_handoff(
    Caller { state, actor }: Caller,
    Id(id): Id,
) -> ApiResult<Json<HandoffView>> {
    Ok(Json(state.handoffs.accept(&actor, id).await?))
}

/// Complete (the receiving department), with the answer (required for a consultation).
#[utoipa::path(post, path = "/api/v1/handoffs/{id}/complete", tag = "handoffs",
    params(HandoffId),
    request_body = HandoffReply,
    responses(
        (status = 200, description = "Completed", body = HandoffView),
        NotLoggedIn, NotReceivingDepartment, NoSuchHandoff,
        (status = 409, description = "Not accepted", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A consultation needs its answer", body = Problem, content_type = "application/problem+json")))]
pub async fn complete_handoff(
    Caller { state, actor }: Caller,
    Id(id): Id,
    OptionalJson(input): OptionalJson<HandoffReply>,
) -> ApiResult<Json<HandoffView>> {
    Ok(Json(state.handoffs.complete(&actor, id, input).await?))
}

/// Decline (the receiving department), saying why.
#[utoipa::path(post, path = "/api/v1/handoffs/{id}/decline", tag = "handoffs",
    params(HandoffId),
    request_body = HandoffReply,
    responses(
        (status = 200, description = "Declined", body = HandoffView),
        NotLoggedIn, NotReceivingDepartment, NoSuchHandoff,
        (status = 409, description = "Not waiting for an answer", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason", body = Problem, content_type = "application/problem+json")))]
pub async fn decline_handoff(
    Caller { state, actor }: Caller,
    Id(id): Id,
    OptionalJson(input): OptionalJson<HandoffReply>,
) -> ApiResult<Json<HandoffView>> {
    Ok(Json(state.handoffs.decline(&actor, id, input).await?))
}

/// Cancel (the requesting department).
#[utoipa::path(post, path = "/api/v1/handoffs/{id}/cancel", tag = "handoffs",
    params(HandoffId),
    request_body = HandoffReply,
    responses(
        (status = 200, description = "Cancelled", body = HandoffView),
        NotLoggedIn, NoSuchHandoff,
        (status = 403, description = "Not the requesting department", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already completed, declined or cancelled", body = Problem, content_type = "application/problem+json")))]
pub async fn cancel_handoff(
    Caller { state, actor }: Caller,
    Id(id): Id,
    OptionalJson(input): OptionalJson<HandoffReply>,
) -> ApiResult<Json<HandoffView>> {
    Ok(Json(state.handoffs.cancel(&actor, id, input).await?))
}
