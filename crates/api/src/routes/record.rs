//! The full case record: parties, premises, the decision and its corrections, case types and
//! attachments (multipart upload, streamed to disk).

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use lots_cases::attachments::UploadError;
use lots_cases::{
    AttachmentView, CaseTypePatch, CaseTypeView, DecisionCorrection, DecisionRecord, NewAttachment,
    NewCaseType, NewParty, NewPremises, PartyPatch, PartyView, PremisesPatch, PremisesView,
};
use serde::{Deserialize, Serialize};

use super::problems::{
    InvalidFields, InvalidFieldsNamed, NoSuchCase, NotAdmin, NotLoggedIn, OtherDepartmentsCase,
    StaleIfMatch,
};
use super::{CaseId, created, created_or_replaced, etag, ids};
use crate::auth::{Authenticated, Caller};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, Id, IfMatch, MultipartBody};
use crate::state::AppState;

#[derive(Serialize, utoipa::ToSchema)]
pub struct PartyList {
    pub items: Vec<PartyView>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PremisesList {
    pub items: Vec<PremisesView>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AttachmentList {
    pub items: Vec<AttachmentView>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CaseTypeList {
    pub items: Vec<CaseTypeView>,
}

/// A case's parties (intressenter). Outside the owning department a person's number is masked
/// and their name and contact details hidden; a confidential case shows none.
#[utoipa::path(get, path = "/api/v1/cases/{id}/parties", tag = "record",
    params(CaseId),
    responses(
        (status = 200, description = "The parties", body = PartyList),
        NotLoggedIn, NoSuchCase))]
pub async fn list_parties(
    Caller { state, actor }: Caller,
    Id(id): Id,
) -> ApiResult<Json<PartyList>> {
    Ok(Json(PartyList {
        items: state.record.parties(&actor, id).await?,
    }))
}

/// Add a party: an organisation (org number) or a person (personnummer or samordningsnummer),
/// in one or more roles.
#[utoipa::path(post, path = "/api/v1/cases/{id}/parties", tag = "record",
    params(CaseId),
    request_body = NewParty,
    responses(
        (status = 201, description = "The party", body = PartyView),
        NotLoggedIn, OtherDepartmentsCase, NoSuchCase, InvalidFieldsNamed))]
pub async fn add_party(
    Caller { state, actor }: Caller,
    Id(id): Id,
    ApiJson(input): ApiJson<NewParty>,
) -> ApiResult<(StatusCode, HeaderMap, Json<PartyView>)> {
    let party = state.record.add_party(&actor, id, input).await?;
    Ok((StatusCode::CREATED, etag(party.version), Json(party)))
}

/// Change a party's name, roles or contact details.
#[utoipa::path(patch, path = "/api/v1/cases/{id}/parties/{party_id}", tag = "record",
    params(("id" = i64, Path, description = "The case id"), ("party_id" = i64, Path, description = "The party id"),
           ("If-Match" = Option<String>, Header, description = "The party's ETag; a stale one gets 412")),
    request_body = PartyPatch,
    responses(
        (status = 200, description = "The changed party", body = PartyView),
        NotLoggedIn, OtherDepartmentsCase, StaleIfMatch, InvalidFields,
        (status = 404, description = "No such case or party", body = Problem, content_type = "application/problem+json")))]
pub async fn update_party(
    Caller { state, actor }: Caller,
    Path((id, party_id)): Path<(String, String)>,
    IfMatch(version): IfMatch,
    ApiJson(patch): ApiJson<PartyPatch>,
) -> ApiResult<(HeaderMap, Json<PartyView>)> {
    let (id, party_id) = ids(&id, &party_id)?;
    let party = state
        .record
        .update_party(&actor, id, party_id, patch, version)
        .await?;
    Ok((etag(party.version), Json(party)))
}

/// Remove a party from the case (the event keeps what it was).
#[utoipa::path(delete, path = "/api/v1/cases/{id}/parties/{party_id}", tag = "record",
    params(("id" = i64, Path, description = "The case id"), ("party_id" = i64, Path, description = "The party id")),
    responses(
        (status = 204, description = "Removed"),
        NotLoggedIn, OtherDepartmentsCase,
        (status = 404, description = "No such case or party", body = Problem, content_type = "application/problem+json")))]
pub async fn remove_party(
    Caller { state, actor }: Caller,
    Path((id, party_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let (id, party_id) = ids(&id, &party_id)?;
    state.record.remove_party(&actor, id, party_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The premises a case concerns, the main ones first.
#[utoipa::path(get, path = "/api/v1/cases/{id}/premises", tag = "record",
    params(CaseId),
    responses(
        (status = 200, description = "The premises", body = PremisesList),
        NotLoggedIn, NoSuchCase))]
pub async fn list_premises(
    Caller { state, actor }: Caller,
    Id(id): Id,
) -> ApiResult<Json<PremisesList>> {
    Ok(Json(PremisesList {
        items: state.record.premises(&actor, id).await?,
    }))
}

/// Add premises: the property designation (fastighetsbeteckning), address, the name on the
/// sign and the type. The first premises of a case are its main ones.
#[utoipa::path(post, path = "/api/v1/cases/{id}/premises", tag = "record",
    params(CaseId),
    request_body = NewPremises,
    responses(
        (status = 201, description = "The premises", body = PremisesView),
        NotLoggedIn, OtherDepartmentsCase, NoSuchCase, InvalidFieldsNamed))]
pub async fn add_premises(
    Caller { state, actor }: Caller,
    Id(id): Id,
    ApiJson(input): ApiJson<NewPremises>,
) -> ApiResult<(StatusCode, HeaderMap, Json<PremisesView>)> {
    let p = state.record.add_premises(&actor, id, input).await?;
    Ok((StatusCode::CREATED, etag(p.version), Json(p)))
}

/// Change premises; `main: true` makes them the main ones.
#[utoipa::path(patch, path = "/api/v1/cases/{id}/premises/{premises_id}", tag = "record",
    params(("id" = i64, Path, description = "The case id"), ("premises_id" = i64, Path, description = "The premises id"),
           ("If-Match" = Option<String>, Header, description = "The premises' ETag; a stale one gets 412")),
    request_body = PremisesPatch,
    responses(
        (status = 200, description = "The changed premises", body = PremisesView),
        NotLoggedIn, OtherDepartmentsCase, StaleIfMatch, InvalidFields,
        (status = 404, description = "No such case or premises", body = Problem, content_type = "application/problem+json")))]
pub async fn update_premises(
    Caller { state, actor }: Caller,
    Path((id, premises_id)): Path<(String, String)>,
    IfMatch(version): IfMatch,
    ApiJson(patch): ApiJson<PremisesPatch>,
) -> ApiResult<(HeaderMap, Json<PremisesView>)> {
    let (id, premises_id) = ids(&id, &premises_id)?;
    let p = state
        .record
        .update_premises(&actor, id, premises_id, patch, version)
        .await?;
    Ok((etag(p.version), Json(p)))
}

/// Remove premises; if they were the main ones, the oldest remaining become main.
#[utoipa::path(delete, path = "/api/v1/cases/{id}/premises/{premises_id}", tag = "record",
    params(("id" = i64, Path, description = "The case id"), ("premises_id" = i64, Path, description = "The premises id")),
    responses(
        (status = 204, description = "Removed"),
        NotLoggedIn, OtherDepartmentsCase,
        (status = 404, description = "No such case or premises", body = Problem, content_type = "application/problem+json")))]
pub async fn remove_premises(
    Caller { state, actor }: Caller,
    Path((id, premises_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let (id, premises_id) = ids(&id, &premises_id)?;
    state
        .record
        .remove_premises(&actor, id, premises_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The decision in force and its history (the original and every correction).
#[utoipa::path(get, path = "/api/v1/cases/{id}/decision", tag = "record",
    params(CaseId),
    responses(
        (status = 200, description = "The decision", body = DecisionRecord),
        NotLoggedIn,
        (status = 404, description = "No such case, or not decided", body = Problem, content_type = "application/problem+json")))]
pub async fn get_decision(
    Caller { state, actor }: Caller,
    Id(id): Id,
) -> ApiResult<Json<DecisionRecord>> {
    Ok(Json(state.cases.decision(&actor, id).await?))
}

/// Correct a registered decision. The decision is never edited: the correction is a new
/// decision naming the one it corrects, with the reason and the fields that change.
#[utoipa::path(post, path = "/api/v1/cases/{id}/decision/corrections", tag = "record",
    params(CaseId),
    request_body = DecisionCorrection,
    responses(
        (status = 201, description = "The decision with the correction in force", body = DecisionRecord),
        NotLoggedIn, OtherDepartmentsCase, NoSuchCase,
        (status = 409, description = "The case has not been decided", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason, invalid fields, or nothing changes", body = Problem, content_type = "application/problem+json")))]
pub async fn correct_decision(
    Caller { state, actor }: Caller,
    Id(id): Id,
    ApiJson(input): ApiJson<DecisionCorrection>,
) -> ApiResult<(StatusCode, Json<DecisionRecord>)> {
    Ok(created(
        state.cases.correct_decision(&actor, id, input).await?,
    ))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CaseTypeFilter {
    /// Only this area's types.
    pub area: Option<String>,
}

/// The case types of every area (or one), active and inactive.
#[utoipa::path(get, path = "/api/v1/case-types", tag = "record",
    params(CaseTypeFilter),
    responses(
        (status = 200, description = "The case types", body = CaseTypeList),
        NotLoggedIn,
        (status = 422, description = "Unknown area", body = Problem, content_type = "application/problem+json")))]
pub async fn list_case_types(
    State(state): State<AppState>,
    Authenticated(_actor): Authenticated,
    ApiQuery(filter): ApiQuery<CaseTypeFilter>,
) -> ApiResult<Json<CaseTypeList>> {
    Ok(Json(CaseTypeList {
        items: state.case_types.case_types(filter.area.as_deref()).await?,
    }))
}

/// Add a case type to an area (admin).
#[utoipa::path(post, path = "/api/v1/case-types", tag = "record",
    request_body = NewCaseType,
    responses(
        (status = 201, description = "The case type", body = CaseTypeView),
        NotLoggedIn, NotAdmin, InvalidFields,
        (status = 409, description = "The area has that code already", body = Problem, content_type = "application/problem+json")))]
pub async fn add_case_type(
    Caller { state, actor }: Caller,
    ApiJson(input): ApiJson<NewCaseType>,
) -> ApiResult<(StatusCode, Json<CaseTypeView>)> {
    Ok(created(
        state.case_types.add_case_type(&actor, input).await?,
    ))
}

/// Deactivate (or reactivate, or rename) a case type (admin). Cases that have it keep it.
#[utoipa::path(patch, path = "/api/v1/case-types/{id}", tag = "record",
    params(("id" = i64, Path, description = "The case type id")),
    request_body = CaseTypePatch,
    responses(
        (status = 200, description = "The case type", body = CaseTypeView),
        NotLoggedIn, NotAdmin, InvalidFields,
        (status = 404, description = "No such case type", body = Problem, content_type = "application/problem+json")))]
pub async fn update_case_type(
    Caller { state, actor }: Caller,
    Id(id): Id,
    ApiJson(patch): ApiJson<CaseTypePatch>,
) -> ApiResult<Json<CaseTypeView>> {
    Ok(Json(
        state.case_types.update_case_type(&actor, id, patch).await?,
    ))
}

/// The multipart form of an upload, for the OpenAPI document.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct AttachmentUpload {
    /// The document. Its bytes must be what its declared type and its name say.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
    /// application, drawing, supplement, consultation, decision, correspondence, photo, other (default).
    pub category: Option<String>,
    /// An OSL provision (`OSL 26 kap. 1 §`) that makes the document confidential.
    pub confidential: Option<String>,
}

pub(crate) fn upload_error(e: UploadError) -> ApiError {
    match e {
        UploadError::TooLarge(limit) => ApiError::file_too_large(limit),
        UploadError::UnsupportedType(detail) => ApiError::unsupported_media_type(detail),
        UploadError::Service(e) => e.into(),
    }
}

/// Reads a small text field of the form, at most 1 KiB.
async fn small_text(mut field: axum::extract::multipart::Field<'_>) -> ApiResult<String> {
    let mut buf = Vec::new();
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|e| ApiError::bad_request(format!("the multipart body could not be read: {e}")))?
    {
        buf.extend_from_slice(&chunk);
        if buf.len() > 1024 {
            return Err(ApiError::invalid(
                "form",
                "a text field is longer than 1024 bytes",
            ));
        }
    }
    String::from_utf8(buf).map_err(|_| ApiError::invalid("form", "a text field is not UTF-8"))
}

/// Attach a document (multipart/form-data: `file`, `category`, `confidential`). The file is
/// streamed to disk while it is hashed; its bytes must match its declared type and its name
/// (magic numbers); it is kept once per content (SHA-256). The same content on the same case
/// again answers 200 with the attachment already there.
#[utoipa::path(post, path = "/api/v1/cases/{id}/attachments", tag = "record",
    params(CaseId),
    request_body(content = AttachmentUpload, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Attached", body = AttachmentView),
        (status = 200, description = "The same content is already attached to the case: that attachment", body = AttachmentView),
        (status = 400, description = "Not a readable multipart body", body = Problem, content_type = "application/problem+json"),
        NotLoggedIn, OtherDepartmentsCase, NoSuchCase,
        (status = 413, description = "The file exceeds the configured limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not multipart, or the content is no accepted type", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No file, an empty file, or content that is not what its type or name says", body = Problem, content_type = "application/problem+json")))]
pub async fn upload_attachment(
    Caller { state, actor }: Caller,
    Id(id): Id,
    multipart: MultipartBody,
) -> ApiResult<(StatusCode, Json<AttachmentView>)> {
    let mut multipart = multipart.map_err(|_| {
        ApiError::unsupported_media_type(
            "send the document as multipart/form-data with a `file` part",
        )
    })?;
    state.attachments.check_may_upload(&actor, id).await?;
    let mut input = NewAttachment::default();
    // Every way out of here (an error, a timeout or a client gone dropping this future) drops
    // `upload`, and with it its temporary file.
    let mut upload = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                return Err(ApiError::bad_request(format!(
                    "the multipart body could not be read: {e}"
                )));
            }
        };
        match field.name().unwrap_or_default() {
            "file" if upload.is_none() => {
                input.name = field.file_name().map(str::to_string);
                input.declared_type = field.content_type().map(str::to_string);
                let mut u = state.attachments.begin().await.map_err(upload_error)?;
                let mut field = field;
                loop {
                    match field.chunk().await {
                        Ok(Some(chunk)) => {
                            u.write(&chunk).await.map_err(upload_error)?;
                        }
                        Ok(None) => break,
                        Err(e) => {
                            return Err(ApiError::bad_request(format!(
                                "the multipart body could not be read: {e}"
                            )));
                        }
                    }
                }
                upload = Some(u);
            }
            "file" => return Err(ApiError::invalid("file", "send one file per upload")),
            "category" => input.category = Some(small_text(field).await?),
            "confidential" => {
                input.confidential = Some(small_text(field).await?).filter(|s| !s.trim().is_empty())
            }
            other => {
                return Err(ApiError::invalid(
                    other.to_string(),
                    "unknown form field; expected file, category, confidential",
                ));
            }
        }
    }
    let (view, created) = state
        .attachments
        .finish(&actor, id, input, upload)
        .await
        .map_err(upload_error)?;
    Ok(created_or_replaced(created, view))
}

/// The case's documents the caller may see (confidential ones only for the owning
/// department's officers and managers); deleted ones are left out.
#[utoipa::path(get, path = "/api/v1/cases/{id}/attachments", tag = "record",
    params(CaseId),
    responses(
        (status = 200, description = "The attachments", body = AttachmentList),
        NotLoggedIn, NoSuchCase))]
pub async fn list_attachments(
    Caller { state, actor }: Caller,
    Id(id): Id,
) -> ApiResult<Json<AttachmentList>> {
    Ok(Json(AttachmentList {
        items: state.attachments.list(&actor, id).await?,
    }))
}

/// Download a document, with its content type and name; access as for the case itself.
#[utoipa::path(get, path = "/api/v1/cases/{id}/attachments/{attachment_id}/content", tag = "record",
    params(("id" = i64, Path, description = "The case id"), ("attachment_id" = i64, Path, description = "The attachment id")),
    responses(
        (status = 200, description = "The bytes, as the declared content type", content_type = "*/*",
         headers(("Content-Disposition" = String, description = "attachment; filename=…"), ("ETag" = String, description = "The SHA-256"))),
        NotLoggedIn,
        (status = 404, description = "No such case or attachment, or one the caller may not see", body = Problem, content_type = "application/problem+json")))]
pub async fn download_attachment(
    Caller { state, actor }: Caller,
    Path((id, attachment_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let (id, attachment_id) = ids(&id, &attachment_id)?;
    let (view, file) = state.attachments.open(&actor, id, attachment_id).await?;
    // Streamed from disk, never read whole into memory.
    let mut response = Body::from_stream(tokio_util::io::ReaderStream::new(file)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(view.size));
    if let Ok(v) = HeaderValue::from_str(&view.content_type) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    let ascii: String = view
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_ ".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = view
        .name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b".-_".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"
    )) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("\"{}\"", view.sha256)) {
        headers.insert(header::ETAG, v);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(response)
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteReason {
    /// Why the document is removed from the case (kept in the audit record).
    pub reason: Option<String>,
}

/// Remove a document from the case. The metadata and the bytes stay as the audit record (who
/// deleted it, when, why); the case's history records it.
#[utoipa::path(delete, path = "/api/v1/cases/{id}/attachments/{attachment_id}", tag = "record",
    params(("id" = i64, Path, description = "The case id"), ("attachment_id" = i64, Path, description = "The attachment id"), DeleteReason),
    responses(
        (status = 204, description = "Removed"),
        NotLoggedIn, OtherDepartmentsCase,
        (status = 404, description = "No such case or attachment", body = Problem, content_type = "application/problem+json")))]
pub async fn delete_attachment(
    Caller { state, actor }: Caller,
    Path((id, attachment_id)): Path<(String, String)>,
    ApiQuery(q): ApiQuery<DeleteReason>,
) -> ApiResult<StatusCode> {
    let (id, attachment_id) = ids(&id, &attachment_id)?;
    state
        .attachments
        .delete(&actor, id, attachment_id, q.reason)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
