//! Cases: register, list, read, edit, move through the lifecycle, notes and history.

use axum::Json;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use lots_cases::{
    CaseFilter, CasePatch, CaseView, EventView, ListOrder, NewCase, NewNote, NoteView, Page,
    TransitionInput,
};
use serde::Serialize;

use super::problems::{
    InvalidFields, InvalidFieldsNamed, MalformedJson, NoSuchCase, NotJson, NotLoggedIn,
    StaleIfMatch,
};
use super::{CaseId, created, etag};
use crate::auth::Caller;
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, Id, IfMatch};

/// A page of cases.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CasePage {
    pub items: Vec<CaseView>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
    /// How the items are ordered: a search of words comes best match first (`relevance`)
    /// unless more than 1 000 cases match; then it comes newest first, like a list.
    pub order: ListOrder,
}

impl From<Page<CaseView>> for CasePage {
    fn from(p: Page<CaseView>) -> Self {
        Self {
            items: p.items,
            next_cursor: p.next_cursor,
            order: p.order,
        }
    }
}

/// A case's history.
#[derive(Serialize, utoipa::ToSchema)]
pub struct EventList {
    /// Oldest first.
    pub items: Vec<EventView>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct NoteList {
    pub items: Vec<NoteView>,
}

/// Register a case. The diarienummer is assigned from the department's series for the year.
#[utoipa::path(post, path = "/api/v1/cases", tag = "cases",
    request_body = NewCase,
    responses(
        (status = 201, description = "Registered; `Location` points at it", body = CaseView,
         headers(("Location" = String, description = "The case's URL"), ("ETag" = String, description = "The version"))),
        MalformedJson, NotLoggedIn, NotJson, InvalidFieldsNamed,
        (status = 403, description = "Another department, or an assignment only a manager may make", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json")))]
pub async fn create_case(
    Caller { state, actor }: Caller,
    ApiJson(input): ApiJson<NewCase>,
) -> ApiResult<(StatusCode, HeaderMap, Json<CaseView>)> {
    let case = state.cases.create(&actor, input).await?;
    let mut headers = etag(case.version);
    if let Ok(v) = HeaderValue::from_str(&format!("/api/v1/cases/{}", case.id)) {
        headers.insert(header::LOCATION, v);
    }
    Ok((StatusCode::CREATED, headers, Json(case)))
}

/// List the cases the caller may see, newest first, filtered, a page at a time.
#[utoipa::path(get, path = "/api/v1/cases", tag = "cases",
    params(CaseFilter),
    responses(
        (status = 200, description = "A page of cases", body = CasePage),
        NotLoggedIn,
        (status = 422, description = "An invalid filter, named", body = Problem, content_type = "application/problem+json")))]
pub async fn list_cases(
    Caller { state, actor }: Caller,
    ApiQuery(filter): ApiQuery<CaseFilter>,
) -> ApiResult<Json<CasePage>> {
    Ok(Json(state.cases.list(&actor, filter).await?.into()))
}

/// Read a case.
#[utoipa::path(get, path = "/api/v1/cases/{id}", tag = "cases",
    params(CaseId),
    responses(
        (status = 200, description = "The case", body = CaseView, headers(("ETag" = String, description = "The version"))),
        NotLoggedIn,
        (status = 404, description = "No such case, or not one the caller may see", body = Problem, content_type = "application/problem+json")))]
pub async fn get_case(
    Caller { state, actor }: Caller,
    Id(id): Id,
) -> ApiResult<(HeaderMap, Json<CaseView>)> {
    let case = state.cases.get(&actor, id).await?;
    Ok((etag(case.version), Json(case)))
}

/// Change a case's title, description or assignee. Send `If-Match` with the ETag you read.
#[utoipa::path(patch, path = "/api/v1/cases/{id}", tag = "cases",
    params(CaseId,
           ("If-Match" = Option<String>, Header, description = "The ETag last read; a stale one gets 412")),
    request_body = CasePatch,
    responses(
        (status = 200, description = "The changed case", body = CaseView, headers(("ETag" = String, description = "The new version"))),
        NotLoggedIn, NoSuchCase, StaleIfMatch, InvalidFields,
        (status = 403, description = "Reassigning is for managers", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The case is closed, or changed at the same moment", body = Problem, content_type = "application/problem+json")))]
pub async fn update_case(
    Caller { state, actor }: Caller,
    Id(id): Id,
    IfMatch(version): IfMatch,
    ApiJson(patch): ApiJson<CasePatch>,
) -> ApiResult<(HeaderMap, Json<CaseView>)> {
    let case = state.cases.update(&actor, id, patch, version).await?;
    Ok((etag(case.version), Json(case)))
}

/// Move a case to another status. `decided` needs a `decision`.
#[utoipa::path(post, path = "/api/v1/cases/{id}/transitions", tag = "cases",
    params(CaseId,
           ("If-Match" = Option<String>, Header, description = "The ETag last read; a stale one gets 412")),
    request_body = TransitionInput,
    responses(
        (status = 200, description = "The case in its new status", body = CaseView, headers(("ETag" = String, description = "The new version"))),
        NotLoggedIn, NoSuchCase, StaleIfMatch, InvalidFields,
        (status = 409, description = "The lifecycle does not allow this change", body = Problem, content_type = "application/problem+json")))]
pub async fn transition_case(
    Caller { state, actor }: Caller,
    Id(id): Id,
    IfMatch(version): IfMatch,
    ApiJson(input): ApiJson<TransitionInput>,
) -> ApiResult<(HeaderMap, Json<CaseView>)> {
    let case = state.cases.transition(&actor, id, input, version).await?;
    Ok((etag(case.version), Json(case)))
}

/// Add a note to a case.
#[utoipa::path(post, path = "/api/v1/cases/{id}/notes", tag = "cases",
    params(CaseId),
    request_body = NewNote,
    responses(
        (status = 201, description = "The note", body = NoteView),
        NotLoggedIn, NoSuchCase, InvalidFields,
        (status = 403, description = "A confidential note is for the owning department's officers and managers", body = Problem, content_type = "application/problem+json")))]
pub async fn add_note(
    Caller { state, actor }: Caller,
    Id(id): Id,
    ApiJson(input): ApiJson<NewNote>,
) -> ApiResult<(StatusCode, Json<NoteView>)> {
    Ok(created(state.cases.add_note(&actor, id, input).await?))
}

/// A case's notes, oldest first.
#[utoipa::path(get, path = "/api/v1/cases/{id}/notes", tag = "cases",
    params(CaseId),
    responses(
        (status = 200, description = "The notes", body = NoteList),
        NotLoggedIn, NoSuchCase))]
pub async fn list_notes(Caller { state, actor }: Caller, Id(id): Id) -> ApiResult<Json<NoteList>> {
    Ok(Json(NoteList {
        items: state.cases.notes(&actor, id).await?,
    }))
}

/// A case's history: every change, oldest first, with who made it and for which department.
#[utoipa::path(get, path = "/api/v1/cases/{id}/events", tag = "cases",
    params(CaseId),
    responses(
        (status = 200, description = "The history", body = EventList),
        NotLoggedIn, NoSuchCase))]
pub async fn list_events(
    Caller { state, actor }: Caller,
    Id(id): Id,
) -> ApiResult<Json<EventList>> {
    Ok(Json(EventList {
        items: state.cases.events(&actor, id).await?,
    }))
}
