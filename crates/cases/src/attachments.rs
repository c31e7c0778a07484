//! Attachments: documents on a case. The bytes are streamed to a temporary file while they are
//! hashed and counted, checked against what they claim to be, and kept once per content under
//! their SHA-256 in the configured directory; the database holds only the metadata. Deleting
//! an attachment keeps its row and its bytes (the audit record) and hides it from the case.
//! A temporary file lives exactly as long as its upload: an upload dropped half-way (a request
//! that timed out, a client gone, a form refused) takes its file with it.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use lots_core::case_event as ev;
use lots_core::record::{content_matches, normalise_content_type, sniff, type_of_extension};
use lots_core::{Actor, AttachmentCategory, CaseEvent};
use lots_store::entity::{case_attachment, case_record};
use lots_store::events::append;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::access::Granted;
use crate::cases::Cases;
use crate::error::{Problems, ServiceError, ServiceResult};
use crate::record::{ConfidentialInput, Confidentiality, parse_confidential};
use crate::stored::stored;

/// How many bytes are kept to recognise the content type.
const HEAD: usize = 512;

#[derive(Debug, Clone)]
pub struct AttachmentSettings {
    /// Where the files live, `{dir}/{sha[..2]}/{sha}`.
    pub dir: PathBuf,
    /// The largest file accepted.
    pub max_bytes: u64,
}

/// An attachment's metadata.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(example = json!({"id": 5, "name": "fasadritning.pdf", "category": "drawing", "size": 482113,
    "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "content_type": "application/pdf",
    "confidential": null, "created_by": "anna", "created_at": "2026-11-27T10:00:00Z"}))]
pub struct AttachmentView {
    pub id: i64,
    pub name: String,
    pub category: AttachmentCategory,
    /// Bytes.
    pub size: i64,
    /// The SHA-256 of the content, in hex.
    pub sha256: String,
    /// What the bytes are (checked against their magic number).
    pub content_type: String,
    pub confidential: Option<Confidentiality>,
    /// The user who added it; `null` for a document the company sent.
    pub created_by: Option<String>,
    /// Who sent it from the company's side (as they signed in, or "via följlänk").
    pub sent_by: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// The form fields that come with an upload.
#[derive(Debug, Clone, Default)]
pub struct NewAttachment {
    /// The file name the client gave.
    pub name: Option<String>,
    /// The content type the client declared for the file part.
    pub declared_type: Option<String>,
    pub category: Option<String>,
    /// An OSL provision that makes the attachment confidential.
    pub confidential: Option<String>,
}

/// Why an upload cannot be taken.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("the file exceeds the limit of {0} bytes")]
    TooLarge(u64),
    #[error("{0}")]
    UnsupportedType(String),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<std::io::Error> for UploadError {
    fn from(e: std::io::Error) -> Self {
        UploadError::Service(ServiceError::Internal(format!("attachment storage: {e}")))
    }
}

impl From<sea_orm::DbErr> for UploadError {
    fn from(e: sea_orm::DbErr) -> Self {
        UploadError::Service(e.into())
    }
}

/// Temporary files older than this are left over from a process that died mid-upload (no
/// request lives that long) and are removed when the store starts.
const STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(24 * 60 * 60);

/// A file being received: written to a temporary file, hashed and counted as it comes.
/// Dropping it, wherever that happens, removes the temporary file.
#[derive(Debug)]
pub struct Upload {
    // Declared before `part` so that the file is closed before it is removed.
    file: tokio::fs::File,
    part: PartFile,
    hasher: Sha256,
    size: u64,
    head: Vec<u8>,
    max: u64,
}

/// The path of a temporary file, removed on drop unless it was moved into place. The future
/// of a request is dropped, not finished, when the request times out or its client goes away:
/// only `Drop` sees every way an upload can end. The removal is synchronous (one unlink).
#[derive(Debug)]
struct PartFile {
    path: PathBuf,
    kept: bool,
}

impl Drop for PartFile {
    fn drop(&mut self) {
        if self.kept {
            return;
        }
        if let Err(e) = std::fs::remove_file(&self.path)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(path = %self.path.display(), error = %e, "a temporary upload file could not be removed");
        }
    }
}

impl Upload {
    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), UploadError> {
        self.size += chunk.len() as u64;
        if self.size > self.max {
            return Err(UploadError::TooLarge(self.max));
        }
        if self.head.len() < HEAD {
            let take = (HEAD - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
        }
        self.hasher.update(chunk);
        self.file.write_all(chunk).await?;
        Ok(())
    }
}

#[derive(Debug, Clone)]
pub struct Attachments {
    pub(crate) cases: Cases,
    settings: AttachmentSettings,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn blob_path(dir: &Path, sha: &str) -> PathBuf {
    dir.join(&sha[..2]).join(sha)
}

impl Attachments {
    pub fn new(cases: Cases, settings: AttachmentSettings) -> Self {
        Self { cases, settings }
    }

    /// Removes the temporary files of uploads that ended with their process (killed, or out
    /// of power) more than a day ago; returns how many. Recent ones may belong to an upload
    /// in progress in another process sharing the directory, and are left alone.
    pub async fn remove_stale_uploads(&self) -> std::io::Result<usize> {
        let tmp = self.settings.dir.join("tmp");
        let mut entries = match tokio::fs::read_dir(&tmp).await {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(e),
        };
        let now = std::time::SystemTime::now();
        let mut removed = 0;
        while let Some(entry) = entries.next_entry().await? {
            let path = entry.path();
            if path.extension().is_none_or(|x| x != "part") {
                continue;
            }
            let Ok(modified) = entry.metadata().await.and_then(|m| m.modified()) else {
                continue;
            };
            if now.duration_since(modified).unwrap_or_default() > STALE_AFTER {
                match tokio::fs::remove_file(&path).await {
                    Ok(()) => removed += 1,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(removed)
    }

    pub fn max_bytes(&self) -> u64 {
        self.settings.max_bytes
    }

    /// Checks that the caller may add documents to the case before a byte is received.
    pub async fn check_may_upload(&self, actor: &Actor, case_id: i64) -> ServiceResult<()> {
        self.cases
            .owned(self.cases.db.reader(), actor, case_id)
            .await
            .map(|_| ())
    }

    /// Starts receiving a file.
    pub async fn begin(&self) -> Result<Upload, UploadError> {
        let tmp = self.settings.dir.join("tmp");
        tokio::fs::create_dir_all(&tmp).await?;
        let path = tmp.join(format!("{}.part", hex(&rand::random::<[u8; 16]>())));
        let part = PartFile { path, kept: false };
        let file = tokio::fs::File::create(&part.path).await?;
        Ok(Upload {
            file,
            part,
            hasher: Sha256::new(),
            size: 0,
            head: Vec::new(),
            max: self.settings.max_bytes,
        })
    }

    /// Checks a received file and keeps it. `Ok((view, true))` for a new attachment; the same
    /// content already on the case gives the existing attachment and `false`.
    pub async fn finish(
        &self,
        actor: &Actor,
        case_id: i64,
        input: NewAttachment,
        upload: Option<Upload>,
    ) -> Result<(AttachmentView, bool), UploadError> {
        let Some(mut upload) = upload else {
            return Err(ServiceError::invalid(
                "file",
                "is required: send the document as the multipart part `file`",
            )
            .into());
        };
        // Whatever the outcome, dropping `upload` removes the temporary file unless `keep`
        // moved it into place.
        self.keep(actor, case_id, input, &mut upload).await
    }

    async fn keep(
        &self,
        actor: &Actor,
        case_id: i64,
        input: NewAttachment,
        upload: &mut Upload,
    ) -> Result<(AttachmentView, bool), UploadError> {
        upload.file.flush().await?;
        upload.file.sync_all().await?;
        let mut p = Problems::default();
        let name = sanitise_name(input.name.as_deref().unwrap_or_default());
        if name.is_empty() {
            p.add("file", "the file part needs a file name");
        }
        let category = match input.category.as_deref() {
            None => Some(AttachmentCategory::Other),
            Some(c) => p.check("category", c.trim().parse::<AttachmentCategory>()),
        };
        let confidential = input.confidential.as_ref().and_then(|s| {
            parse_confidential(
                &mut p,
                "confidential",
                &ConfidentialInput {
                    statute: Some(s.clone()),
                },
            )
        });
        if upload.size == 0 {
            p.add("file", "is empty");
        }
        p.finish()?;
        let content_type = checked_type(&name, &upload.head, input.declared_type.as_deref())?;
        let sha = hex(&upload.hasher.clone().finalize());
        let (Some(category), size) = (category, upload.size as i64) else {
            return Err(ServiceError::Internal("validated fields missing".into()).into());
        };

        let now = self.cases.clock.now();
        let tx = self.cases.db.begin().await?;
        let case = self.cases.owned(&tx, actor, case_id).await?;
        if confidential.is_some() && !case.access.mark_confidential {
            return Err(ServiceError::Forbidden(
                "only the owning department's officers and managers add confidential documents"
                    .into(),
            )
            .into());
        }
        let existing = case_attachment::Entity::find()
            .filter(case_attachment::Column::CaseId.eq(case.id))
            .filter(case_attachment::Column::Sha256.eq(sha.clone()))
            .filter(case_attachment::Column::DeletedAt.is_null())
            .one(&tx)
            .await?;
        if let Some(e) = existing {
            tx.commit().await?;
            return Ok((self.view(e).await?, false));
        }
        // Keep the bytes once: move the file into place unless the content is already there.
        let target = blob_path(&self.settings.dir, &sha);
        if tokio::fs::metadata(&target).await.is_err() {
            if let Some(parent) = target.parent() {
                tokio::fs::create_dir_all(parent).await?;
            }
            tokio::fs::rename(&upload.part.path, &target).await?;
            upload.part.kept = true;
        }
        let row = case_attachment::ActiveModel {
            case_id: Set(case.id),
            name: Set(name.clone()),
            category: Set(category.as_str().to_string()),
            content_type: Set(content_type.clone()),
            size: Set(size),
            sha256: Set(sha.clone()),
            confidential_statute: Set(confidential.clone()),
            created_by: Set(Some(actor.user_id)),
            created_at: Set(now),
            deleted_by: Set(None),
            deleted_at: Set(None),
            delete_reason: Set(None),
            sent_by: Set(None),
            ..Default::default()
        }
        .insert(&tx)
        .await?;
        let added = attachment_added(&row)?;
        append(&tx, self.cases.event(actor, &case, now, added)).await?;
        tx.commit().await?;
        Ok((self.view(row).await?, true))
    }

    async fn view(&self, m: case_attachment::Model) -> ServiceResult<AttachmentView> {
        let lookups = crate::view::Lookups::load(&self.cases.db, [], m.created_by).await?;
        Ok(AttachmentView {
            id: m.id,
            name: m.name,
            category: stored("case_attachment", m.id, &m.category)?,
            size: m.size,
            sha256: m.sha256,
            content_type: m.content_type,
            confidential: m
                .confidential_statute
                .map(|statute| Confidentiality { statute }),
            created_by: lookups.username(m.created_by),
            sent_by: m.sent_by,
            created_at: m.created_at,
        })
    }

    /// The attachments the caller may see, oldest first.
    pub async fn list(&self, actor: &Actor, case_id: i64) -> ServiceResult<Vec<AttachmentView>> {
        let case = self.cases.granted(actor, case_id).await?;
        self.list_of(&case).await
    }

    /// `list` of a case the request has already read, with the caller's access to it.
    pub async fn list_of(&self, case: &Granted) -> ServiceResult<Vec<AttachmentView>> {
        let sight = case.access.sight;
        if case.confidential_statute.is_some() && !sight.confidential {
            return Ok(Vec::new());
        }
        let rows = case
            .rows::<case_attachment::Entity>(&self.cases.db, case_attachment::Column::CaseId)
            .await?;
        let mut out = Vec::new();
        for r in rows.into_iter().filter(|r| {
            r.deleted_at.is_none() && (sight.confidential || r.confidential_statute.is_none())
        }) {
            out.push(self.view(r).await?);
        }
        Ok(out)
    }

    /// One attachment the caller may see, and its file opened for reading.
    pub async fn open(
        &self,
        actor: &Actor,
        case_id: i64,
        attachment_id: i64,
    ) -> ServiceResult<(AttachmentView, tokio::fs::File)> {
        let (_, row) = self.visible(actor, case_id, attachment_id).await?;
        let file = tokio::fs::File::open(blob_path(&self.settings.dir, &row.sha256))
            .await
            .map_err(|e| {
                ServiceError::Internal(format!("attachment {} unreadable: {e}", row.id))
            })?;
        Ok((self.view(row).await?, file))
    }

    async fn visible(
        &self,
        actor: &Actor,
        case_id: i64,
        attachment_id: i64,
    ) -> ServiceResult<(case_record::Model, case_attachment::Model)> {
        let case = self.cases.granted(actor, case_id).await?;
        let sight = case.access.sight;
        let row = case_attachment::Entity::find_by_id(attachment_id)
            .one(self.cases.db.reader())
            .await?
            .filter(|r| r.case_id == case.id && r.deleted_at.is_none())
            .filter(|r| {
                sight.confidential
                    || (r.confidential_statute.is_none() && case.confidential_statute.is_none())
            })
            .ok_or(ServiceError::NotFound("attachment"))?;
        Ok((case.case, row))
    }

    /// Deletes an attachment from the case: the row stays as the audit record, with who, when
    /// and why; the event records it too.
    pub async fn delete(
        &self,
        actor: &Actor,
        case_id: i64,
        attachment_id: i64,
        reason: Option<String>,
    ) -> ServiceResult<()> {
        let mut p = Problems::default();
        let reason = reason
            .as_deref()
            .and_then(|r| p.text("reason", Some(r), 0, 2000))
            .filter(|r| !r.is_empty());
        p.finish()?;
        let now = self.cases.clock.now();
        let tx = self.cases.db.begin().await?;
        let case = self.cases.owned(&tx, actor, case_id).await?;
        let sight = case.access.sight;
        let row = case_attachment::Entity::find_by_id(attachment_id)
            .one(&tx)
            .await?
            .filter(|r| r.case_id == case.id && r.deleted_at.is_none())
            .filter(|r| sight.confidential || r.confidential_statute.is_none())
            .ok_or(ServiceError::NotFound("attachment"))?;
        let mut m: case_attachment::ActiveModel = row.clone().into();
        m.deleted_at = Set(Some(now));
        m.deleted_by = Set(Some(actor.user_id));
        m.delete_reason = Set(reason.clone());
        m.update(&tx).await?;
        let deleted = CaseEvent::AttachmentDeleted(ev::AttachmentDeleted {
            attachment_id: row.id,
            name: row.name,
            sha256: row.sha256,
            reason,
            confidential: row.confidential_statute,
        });
        append(&tx, self.cases.event(actor, &case, now, deleted)).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// The content type of an upload named `name` whose first bytes are `head`: what its bytes are,
/// which must agree with the declared type and the file name's extension.
fn checked_type(name: &str, head: &[u8], declared: Option<&str>) -> Result<String, UploadError> {
    let sniffed = sniff(head).ok_or_else(|| {
            UploadError::UnsupportedType(format!(
                "the content of `{name}` is none of the accepted types (PDF, PNG, JPEG, GIF, TIFF, ZIP, DOCX, XLSX, ODT, DWG, plain text)"
            ))
        })?;
    let declared = declared
        .map(normalise_content_type)
        .filter(|t| t != "application/octet-stream" && !t.is_empty());
    if let Some(d) = &declared
        && !content_matches(d, sniffed)
    {
        return Err(ServiceError::invalid(
            "file",
            format!("is declared as {d} but its content is {sniffed}"),
        )
        .into());
    }
    if let Some(by_name) = type_of_extension(name)
        && !content_matches(by_name, sniffed)
    {
        return Err(ServiceError::invalid(
            "file",
            format!("is named `{name}` ({by_name}) but its content is {sniffed}"),
        )
        .into());
    }
    Ok(declared.unwrap_or_else(|| sniffed.to_string()))
}

/// A file name without a path, control characters or quotes, at most 255 characters.
fn sanitise_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    base.chars()
        .filter(|c| !c.is_control() && *c != '"')
        .take(255)
        .collect::<String>()
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_their_path_and_quotes() {
        assert_eq!(
            sanitise_name("C:\\Users\\a\\ritning \"1\".pdf"),
            "ritning 1.pdf"
        );
        assert_eq!(sanitise_name("../../etc/passwd"), "passwd");
        assert_eq!(sanitise_name(""), "");
    }

    #[test]
    fn blobs_are_spread_by_their_first_two_hex_digits() {
        let p = blob_path(Path::new("/x"), "abcdef");
        assert_eq!(p, Path::new("/x/ab/abcdef"));
    }
}

/// A document the company sends with its answer to a supplement request: checked and ready to
/// be kept.
#[derive(Debug)]
pub struct CompanyDocument {
    name: String,
    content_type: String,
    sha: String,
    size: i64,
    upload: Upload,
}

impl CompanyDocument {
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn size(&self) -> i64 {
        self.size
    }
}

impl Attachments {
    /// The most documents one answer may carry.
    pub const MAX_COMPANY_DOCUMENTS: usize = 10;

    /// Checks a received file (name, type by its bytes, not empty) before anything is written.
    pub async fn check_company_document(
        &self,
        input: NewAttachment,
        mut upload: Upload,
    ) -> Result<CompanyDocument, UploadError> {
        upload.file.flush().await?;
        upload.file.sync_all().await?;
        let name = sanitise_name(input.name.as_deref().unwrap_or_default());
        if name.is_empty() {
            return Err(ServiceError::invalid("file", "the file part needs a file name").into());
        }
        if upload.size == 0 {
            return Err(ServiceError::invalid("file", format!("`{name}` is empty")).into());
        }
        let content_type = checked_type(&name, &upload.head, input.declared_type.as_deref())?;
        Ok(CompanyDocument {
            sha: hex(&upload.hasher.clone().finalize()),
            size: upload.size as i64,
            name,
            content_type,
            upload,
        })
    }

    /// The company's answer to supplement request `request_id` of case `case_id` with its
    /// documents, in one transaction: the answer as `Cases::answer_supplement_in` records it,
    /// and each document kept (content-addressed, category `supplement`, `sent_by`), each an
    /// `attachment_added` event without an actor.
    pub async fn answer_supplement(
        &self,
        case_id: i64,
        request_id: i64,
        sender: &str,
        text: Option<&str>,
        documents: Vec<CompanyDocument>,
    ) -> Result<crate::company_side::CompanySupplement, UploadError> {
        let now = self.cases.clock.now();
        let tx = self.cases.db.begin().await?;
        let (answer, case) = crate::company_side::CompanySide::new(self.cases.clone())
            .answer_supplement_in(&tx, case_id, request_id, sender, text, now)
            .await?;
        for d in documents {
            self.keep_company_document(&tx, &case, d, AttachmentCategory::Supplement, sender, now)
                .await?;
        }
        tx.commit().await?;
        Ok(answer)
    }
}

impl Attachments {
    /// Keeps document `d` that the company sent on `case`, in `tx`: its bytes moved into the
    /// content-addressed store (once per content), its row (no user of Lots added it; `sent_by`
    /// says who sent it) and an `attachment_added` event without an actor.
    pub(crate) async fn keep_company_document(
        &self,
        tx: &sea_orm::DatabaseTransaction,
        case: &case_record::Model,
        d: CompanyDocument,
        category: AttachmentCategory,
        sender: &str,
        now: DateTime<Utc>,
    ) -> Result<(), UploadError> {
        let kept = self.keep_file("", d).await?;
        self.record_kept_file(tx, case, &kept, category, sender, now)
            .await
    }

    /// Keeps `bytes`, an application's answers as Lots writes them for the company (category
    /// application), as `keep_company_document` keeps a sent document.
    pub(crate) async fn keep_written_answers(
        &self,
        tx: &sea_orm::DatabaseTransaction,
        case: &case_record::Model,
        name: &str,
        bytes: &[u8],
        sender: &str,
        now: DateTime<Utc>,
    ) -> Result<(), UploadError> {
        let sha = hex(&Sha256::digest(bytes));
        let target = blob_path(&self.settings.dir, &sha);
        if tokio::fs::metadata(&target).await.is_err() {
            let mut upload = self.begin().await?;
            upload.write(bytes).await?;
            upload.file.flush().await?;
            upload.file.sync_all().await?;
            if let Some(parent) = target.parent() {
                tokio::fs::create_dir_all(parent).await?;
            }
            tokio::fs::rename(&upload.part.path, &target).await?;
            upload.part.kept = true;
        }
        let size = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
        let row = StoredDocument {
            name,
            content_type: "text/plain",
            size,
            sha: &sha,
            category: AttachmentCategory::Application,
        };
        self.insert_company_row(tx, case, row, sender, now).await
    }

    async fn insert_company_row(
        &self,
        tx: &sea_orm::DatabaseTransaction,
        case: &case_record::Model,
        d: StoredDocument<'_>,
        sender: &str,
        now: DateTime<Utc>,
    ) -> Result<(), UploadError> {
        let StoredDocument {
            name,
            content_type,
            size,
            sha,
            category,
        } = d;
        let row = case_attachment::ActiveModel {
            case_id: Set(case.id),
            name: Set(name.to_string()),
            category: Set(category.as_str().to_string()),
            content_type: Set(content_type.to_string()),
            size: Set(size),
            sha256: Set(sha.to_string()),
            confidential_statute: Set(None),
            created_by: Set(None),
            created_at: Set(now),
            deleted_by: Set(None),
            deleted_at: Set(None),
            delete_reason: Set(None),
            sent_by: Set(Some(sender.chars().take(200).collect())),
            ..Default::default()
        }
        .insert(tx)
        .await?;
        let added = attachment_added(&row)?;
        append(
            tx,
            self.cases
                .event_by(crate::cases::Who::Company, case, now, added),
        )
        .await?;
        Ok(())
    }
}

/// The event of a document added to a case, as its row was written.
fn attachment_added(row: &case_attachment::Model) -> ServiceResult<CaseEvent> {
    Ok(CaseEvent::AttachmentAdded(ev::AttachmentAdded {
        attachment_id: row.id,
        name: row.name.clone(),
        category: stored("case_attachment", row.id, &row.category)?,
        size: row.size,
        sha256: row.sha256.clone(),
        content_type: row.content_type.clone(),
        confidential: row.confidential_statute.clone(),
    }))
}

/// A document's row as the company side writes it.
struct StoredDocument<'a> {
    name: &'a str,
    content_type: &'a str,
    size: i64,
    sha: &'a str,
    category: AttachmentCategory,
}

/// A document the company sent, already in the content-addressed store, for the form field it
/// answers (kept with a draft between the steps of an application).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct KeptFile {
    pub field: String,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
}

impl Attachments {
    /// Moves checked document `d` into the store (once per content) for field `field`.
    pub async fn keep_file(
        &self,
        field: &str,
        mut d: CompanyDocument,
    ) -> Result<KeptFile, UploadError> {
        let target = blob_path(&self.settings.dir, &d.sha);
        if tokio::fs::metadata(&target).await.is_err() {
            if let Some(parent) = target.parent() {
                tokio::fs::create_dir_all(parent).await?;
            }
            tokio::fs::rename(&d.upload.part.path, &target).await?;
            d.upload.part.kept = true;
        }
        Ok(KeptFile {
            field: field.to_string(),
            name: d.name.clone(),
            content_type: d.content_type.clone(),
            size: d.size,
            sha256: d.sha.clone(),
        })
    }

    /// Records kept file `f` on `case`, in `tx`, as `keep_company_document` records a sent one.
    pub(crate) async fn record_kept_file(
        &self,
        tx: &sea_orm::DatabaseTransaction,
        case: &case_record::Model,
        f: &KeptFile,
        category: AttachmentCategory,
        sender: &str,
        now: DateTime<Utc>,
    ) -> Result<(), UploadError> {
        if tokio::fs::metadata(blob_path(&self.settings.dir, &f.sha256))
            .await
            .is_err()
        {
            return Err(ServiceError::Internal(format!(
                "the stored document {} is missing",
                f.sha256
            ))
            .into());
        }
        let row = StoredDocument {
            name: &f.name,
            content_type: &f.content_type,
            size: f.size,
            sha: &f.sha256,
            category,
        };
        self.insert_company_row(tx, case, row, sender, now).await
    }
}

impl Attachments {
    /// Forgets the drafts untouched for 30 days, and the bytes of the documents that only they
    /// held; returns how many documents' bytes went.
    pub async fn forget_old_drafts(&self) -> ServiceResult<usize> {
        let shas = crate::drafts::Drafts::new(self.cases.clone())
            .forget_old_drafts()
            .await?;
        self.drop_unheld(shas).await
    }

    /// Removes the stored bytes of each of `shas` that no document on a case and no draft
    /// holds any more (a document taken off a draft, a forgotten draft's); returns how many.
    pub async fn drop_unheld(&self, mut shas: Vec<String>) -> ServiceResult<usize> {
        shas.sort_unstable();
        shas.dedup();
        if shas.is_empty() {
            return Ok(0);
        }
        let drafted = crate::drafts::Drafts::new(self.cases.clone())
            .drafted_documents()
            .await?;
        let mut dropped = 0;
        for sha in shas {
            let on_a_case = case_attachment::Entity::find()
                .filter(case_attachment::Column::Sha256.eq(sha.clone()))
                .one(self.cases.db.writer())
                .await?
                .is_some();
            if on_a_case || drafted.contains(&sha) || !is_sha256(&sha) {
                continue;
            }
            match tokio::fs::remove_file(blob_path(&self.settings.dir, &sha)).await {
                Ok(()) => dropped += 1,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    tracing::warn!(error = %e, sha, "a draft's document could not be removed")
                }
            }
        }
        Ok(dropped)
    }
}

/// Whether `s` is a SHA-256 in lower-case hex (a blob's name, never a path).
fn is_sha256(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}
