//! E-services: the public catalogue, applying through one (`POST /api/v1/public/applications`),
//! and the admin's management of the forms.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use axum::Extension;
use axum::Json;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode};
use chrono::NaiveDate;
use lots_cases::applications::{Answers, MAX_FILES, check_fields, check_parts, field_errors};
use lots_cases::attachments::CompanyDocument;
use lots_cases::e_services::{EServiceAdminView, EServiceInput, EServiceView};
use lots_cases::{FieldError, ServiceError};
use serde::Serialize;

use super::problems::{
    DocumentTooLarge, MalformedJson, NotAdmin, NotJson, NotLoggedIn, NotMultipartDocuments,
    UnreadableMultipart,
};
use super::{created, created_or_replaced};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, MultipartBody};
use crate::state::AppState;

/// The published e-services, in the catalogue's order.
#[utoipa::path(get, path = "/api/v1/public/e-services", tag = "company side", security(()),
    responses((status = 200, description = "The catalogue", body = [EServiceView])))]
pub async fn catalogue(State(state): State<AppState>) -> ApiResult<Json<Vec<EServiceView>>> {
    Ok(Json(state.e_services.e_services().await?))
}

/// One published e-service with its form.
#[utoipa::path(get, path = "/api/v1/public/e-services/{slug}", tag = "company side", security(()),
    params(("slug" = String, Path, description = "The e-service's slug, e.g. `bygglov`")),
    responses(
        (status = 200, description = "The e-service", body = EServiceView),
        (status = 404, description = "No such published e-service", body = Problem, content_type = "application/problem+json")))]
pub async fn e_service(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> ApiResult<Json<EServiceView>> {
    Ok(Json(state.e_services.e_service(&slug).await?))
}

/// Every e-service, published or not (admin).
#[utoipa::path(get, path = "/api/v1/e-services", tag = "company side",
    responses(
        (status = 200, description = "The e-services", body = [EServiceAdminView]),
        NotLoggedIn, NotAdmin))]
pub async fn list_admin(
    Caller { state, actor }: Caller,
) -> ApiResult<Json<Vec<EServiceAdminView>>> {
    Ok(Json(state.e_services.e_services_admin(&actor).await?))
}

/// Create or replace an e-service and its form (admin). Applications already sent keep the
/// answers they were sent with (as the document on their case).
#[utoipa::path(put, path = "/api/v1/e-services/{slug}", tag = "company side",
    params(("slug" = String, Path, description = "2–60 of a-z, 0-9 and single hyphens")),
    request_body = EServiceInput,
    responses(
        (status = 200, description = "Replaced", body = EServiceAdminView),
        (status = 201, description = "Created", body = EServiceAdminView),
        MalformedJson, NotLoggedIn, NotAdmin, NotJson,
        (status = 422, description = "A bad slug, area, case type, department or text; a form whose fields are misnamed, doubled, of the wrong type for a field the case takes (`org_number`, `company_name`, `contact_name`, `contact_email` are required), each problem named by its path", body = Problem, content_type = "application/problem+json")))]
pub async fn put(
    Caller { state, actor }: Caller,
    Path(slug): Path<String>,
    ApiJson(input): ApiJson<EServiceInput>,
) -> ApiResult<(StatusCode, Json<EServiceAdminView>)> {
    let (view, created) = state.e_services.put_e_service(&actor, &slug, input).await?;
    Ok(created_or_replaced(created, view))
}

/// What an application's intake answers.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ApplicationReceipt {
    /// The case's diarienummer.
    pub reference: String,
    /// The page where the company follows the case (also in the receipt mail); the link is
    /// the key, so keep it as you would a password.
    pub follow_url: String,
    pub received_at: chrono::DateTime<chrono::Utc>,
    /// The statutory deadline as it stands, where the area has one.
    pub due_date: Option<NaiveDate>,
    pub department: String,
}

/// The parts of an application: `e_service`, one part per field by its name, each file as a
/// part named by its attachment field.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ApplicationForm {
    /// The e-service's slug.
    e_service: String,
    /// Leave out or empty: a trap for robots.
    website: Option<String>,
}

/// What an application sent: its text parts by name and its documents, each already checked
/// (type by its bytes, size within the attachment limit) and waiting in a temporary file that
/// goes away if the application is not kept.
pub(crate) struct Sent {
    pub values: BTreeMap<String, String>,
    /// Each document with the field it was sent for.
    pub documents: Vec<(String, CompanyDocument)>,
}

impl Sent {
    /// Takes a text part that is the intake's own, not a field's.
    pub fn take(&mut self, name: &str) -> Option<String> {
        self.values.remove(name)
    }

    pub fn answers(&self) -> Answers {
        let mut files = BTreeMap::new();
        for (field, _) in &self.documents {
            *files.entry(field.clone()).or_insert(0) += 1;
        }
        Answers {
            values: self.values.clone(),
            files,
        }
    }
}

/// The most text parts one application may have, and the longest.
const MAX_PARTS: usize = 200;
const MAX_PART_BYTES: usize = 64 * 1024;

/// Reads an application's parts: a part with a file name is a document, any other a text.
pub(crate) async fn read_sent(state: &AppState, multipart: MultipartBody) -> ApiResult<Sent> {
    let mut multipart = multipart.map_err(|_| {
        ApiError::unsupported_media_type(
            "send the application as multipart/form-data: `e_service`, a part per field, each file as a part named by its field",
        )
    })?;
    let unreadable = |e: axum::extract::multipart::MultipartError| {
        ApiError::bad_request(format!("the multipart body could not be read: {e}"))
    };
    let mut sent = Sent {
        values: BTreeMap::new(),
        documents: Vec::new(),
    };
    let mut parts = 0;
    while let Some(mut field) = multipart.next_field().await.map_err(unreadable)? {
        parts += 1;
        let name: String = field.name().unwrap_or_default().chars().take(64).collect();
        if parts > MAX_PARTS {
            return Err(ApiError::invalid(name, "too many parts in one application"));
        }
        let file_name = field.file_name().map(str::to_string);
        match file_name {
            // A file input left empty sends a part with an empty file name and no bytes.
            Some(f) if f.is_empty() => while field.chunk().await.map_err(unreadable)?.is_some() {},
            Some(_) => {
                if sent.documents.len() >= MAX_FILES {
                    return Err(ApiError::invalid(
                        name,
                        format!("at most {MAX_FILES} files in one application"),
                    ));
                }
                // Named by the field the document was sent for.
                let document = super::public::read_document(state, &mut field)
                    .await
                    .map_err(|e| e.for_field(&name))?;
                sent.documents.push((name, document));
            }
            None => {
                let mut buf = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(unreadable)? {
                    buf.extend_from_slice(&chunk);
                    if buf.len() > MAX_PART_BYTES {
                        return Err(ApiError::invalid(name, "is longer than 64 KiB"));
                    }
                }
                let text =
                    String::from_utf8(buf).map_err(|_| ApiError::invalid(&name, "is not UTF-8"))?;
                if sent.values.insert(name.clone(), text).is_some() {
                    return Err(ApiError::invalid(name, "is sent more than once"));
                }
            }
        }
    }
    Ok(sent)
}

/// The most applications one address (or one signed-in person) sends in an hour.
pub const APPLICATIONS_PER_HOUR: u32 = 10;

/// The most steps and documents one address (or person) sends to drafts on the pages in an
/// hour: a form of three steps with a few mistakes and documents is a score of them.
pub const DRAFT_POSTS_PER_HOUR: u32 = 200;

/// The rate-limit key of whoever sends an application: the signed-in person, else the address.
pub(crate) fn sender_key(
    representative: Option<&lots_cases::representatives::LiveRepresentative>,
    peer: Option<SocketAddr>,
) -> String {
    match (representative, peer) {
        (Some(live), _) => super::public::person_key(live),
        (None, Some(addr)) => format!("address:{}", addr.ip()),
        (None, None) => "address:unknown".into(),
    }
}

/// Apply through an e-service: the case is created in the e-service's department in one
/// transaction, with the applicant organisation and the contact person as parties, the
/// premises, the documents, the answers as a document, the channel `e-service`, a follow link
/// and a receipt mail to the contact. Sent with the company cookie of a signed-in
/// representative, the contact person is them and the case is among theirs.
#[utoipa::path(post, path = "/api/v1/public/applications", tag = "company side", security(()),
    request_body(content = ApplicationForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Received: the diarienummer and the follow link", body = ApplicationReceipt),
        UnreadableMultipart, DocumentTooLarge, NotMultipartDocuments,
        (status = 422, description = "`errors` names each bad field: missing or unknown `e_service`, a required answer missing, an answer of the wrong form, a part that is no field of the form, a document empty, unnamed or not what its name says, too many files, or the `website` trap filled in; nothing is created", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Over ten applications in an hour from this address or person; wait (Retry-After)", body = Problem, content_type = "application/problem+json")))]
pub async fn apply(
    State(state): State<AppState>,
    headers: HeaderMap,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    multipart: MultipartBody,
) -> ApiResult<(StatusCode, Json<ApplicationReceipt>)> {
    let live = crate::oidc::pages::representative(&headers, &state).await;
    let key = sender_key(live.as_ref(), peer.map(|Extension(ConnectInfo(a))| a));
    state.applications.hit(&key).map_err(|wait| {
        ApiError::slow_down(
            wait,
            "too many applications from this address or login; try again in",
        )
    })?;
    let mut sent = read_sent(&state, multipart).await?;
    let receipt = submit(&state, live.as_ref(), &mut sent).await?;
    Ok(created(receipt))
}

/// Checks and sends an application as read; `Err` names every problem and creates nothing.
pub(crate) async fn submit(
    state: &AppState,
    live: Option<&lots_cases::representatives::LiveRepresentative>,
    sent: &mut Sent,
) -> ApiResult<ApplicationReceipt> {
    if sent.take("website").is_some_and(|w| !w.trim().is_empty()) {
        return Err(ApiError::invalid("website", "must be left empty"));
    }
    let slug = sent
        .take("e_service")
        .ok_or_else(|| ApiError::invalid("e_service", "is required: the e-service's slug"))?;
    let service = match state.e_services.published_e_service(&slug).await {
        Err(ServiceError::NotFound(_)) => {
            return Err(ApiError::invalid(
                "e_service",
                "no such published e-service",
            ));
        }
        other => other?,
    };
    let answers = sent.answers();
    let mut errors: Vec<FieldError> = match check_parts(&service.form, &answers) {
        Err(ServiceError::Validation(e)) => e,
        other => {
            other?;
            Vec::new()
        }
    };
    let today = state
        .clock
        .now()
        .with_timezone(&lots_core::TIME_ZONE)
        .date_naive();
    let kept = match check_fields(service.form.fields(), &answers, today) {
        Ok(kept) => kept,
        Err(refused) => {
            if let ServiceError::Validation(e) = field_errors(&refused) {
                errors.extend(e);
            }
            BTreeMap::new()
        }
    };
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let mut files = Vec::new();
    for (field, document) in std::mem::take(&mut sent.documents) {
        files.push(
            state
                .attachments
                .keep_file(&field, document)
                .await
                .map_err(super::record::upload_error)?,
        );
    }
    let receipt = state
        .attachments
        .submit_application(&service, live.map(|l| &l.representative), &kept, &files)
        .await
        .map_err(super::record::upload_error)?;
    Ok(ApplicationReceipt {
        reference: receipt.reference,
        follow_url: format!(
            "{}/folj/{}",
            state.config.base_url().trim_end_matches('/'),
            receipt.follow_token
        ),
        received_at: receipt.received_at,
        due_date: receipt.due_date,
        department: receipt.department_name,
    })
}
