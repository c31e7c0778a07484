//! Application drafts: what a company has answered so far on the steps of an e-service's form,
//! and the documents it has sent with them (already in the content-addressed store). A draft is
//! found by the token in the applicant's cookie (only its hash is stored); a signed-in
//! representative's draft also carries their personnummer, so they find it again from another
//! browser. Drafts untouched for 30 days are forgotten.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Duration;
use lots_core::PersonalNumber;
use lots_store::entity::application_draft;
use sea_orm::sea_query::ExprTrait;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::attachments::KeptFile;
use crate::cases::Cases;
use crate::error::{ServiceError, ServiceResult};
use crate::sessions::session_id;

/// How long an untouched draft is kept.
pub const DRAFT_DAYS: i64 = 30;

/// An application between the steps of its form.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Draft {
    /// The SHA-256 of the draft's token.
    #[serde(skip)]
    pub id: String,
    pub answers: BTreeMap<String, String>,
    pub files: Vec<KeptFile>,
}

impl Draft {
    /// The answers as `check_fields` takes them.
    pub fn answers(&self) -> crate::applications::Answers {
        let mut files = BTreeMap::new();
        for f in &self.files {
            *files.entry(f.field.clone()).or_insert(0) += 1;
        }
        crate::applications::Answers {
            values: self.answers.clone(),
            files,
        }
    }
}

fn draft_of(m: application_draft::Model) -> Draft {
    Draft {
        answers: serde_json::from_value(m.answers).unwrap_or_default(),
        files: serde_json::from_value(m.files).unwrap_or_default(),
        id: m.id,
    }
}

/// The drafts of applications: what an applicant has answered of an e-service's form, kept
/// between visits under a token only the applicant holds, until it is sent or forgotten.
#[derive(Debug, Clone)]
pub struct Drafts {
    cases: Cases,
}

impl Drafts {
    pub fn new(cases: Cases) -> Self {
        Self { cases }
    }

    /// The draft of e-service `service_id` that `token` (the applicant's cookie) or the
    /// signed-in `person` has; a new one when neither has one, with its new token.
    pub async fn open_draft(
        &self,
        service_id: i64,
        token: Option<&str>,
        person: Option<&PersonalNumber>,
    ) -> ServiceResult<(Draft, Option<String>)> {
        if let Some(d) = self.find_draft(service_id, token, person).await? {
            return Ok((d, None));
        }
        let now = self.cases.clock.now();
        let token = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
        let m = application_draft::ActiveModel {
            id: Set(session_id(&token)),
            e_service_id: Set(service_id),
            personal_number: Set(person.map(|p| p.as_str().to_string())),
            answers: Set(json!({})),
            files: Set(json!([])),
            step: Set(0),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(self.cases.db.writer())
        .await?;
        Ok((draft_of(m), Some(token)))
    }

    /// The draft `token` or the signed-in `person` has, if any (reading a page makes none).
    pub async fn find_draft(
        &self,
        service_id: i64,
        token: Option<&str>,
        person: Option<&PersonalNumber>,
    ) -> ServiceResult<Option<Draft>> {
        let now = self.cases.clock.now();
        let fresh = now - Duration::days(DRAFT_DAYS);
        let base = || {
            application_draft::Entity::find()
                .filter(application_draft::Column::EServiceId.eq(service_id))
                .filter(application_draft::Column::UpdatedAt.gt(fresh))
        };
        if let Some(t) = token {
            let mut q = base().filter(application_draft::Column::Id.eq(session_id(t)));
            // A signed-in person's cookie opens only their own draft or an anonymous one.
            q = match person {
                Some(p) => q.filter(
                    application_draft::Column::PersonalNumber
                        .eq(p.as_str())
                        .or(application_draft::Column::PersonalNumber.is_null()),
                ),
                None => q.filter(application_draft::Column::PersonalNumber.is_null()),
            };
            if let Some(m) = q.one(self.cases.db.writer()).await? {
                return Ok(Some(draft_of(m)));
            }
        }
        let Some(p) = person else {
            return Ok(None);
        };
        Ok(base()
            .filter(application_draft::Column::PersonalNumber.eq(p.as_str()))
            .order_by_desc(application_draft::Column::UpdatedAt)
            .one(self.cases.db.writer())
            .await?
            .map(draft_of))
    }

    /// Saves `draft` as it now stands.
    pub async fn save_draft(
        &self,
        draft: &Draft,
        person: Option<&PersonalNumber>,
    ) -> ServiceResult<()> {
        let Some(m) = application_draft::Entity::find_by_id(draft.id.clone())
            .one(self.cases.db.writer())
            .await?
        else {
            return Err(ServiceError::NotFound("draft"));
        };
        let mut m = m.into_active_model();
        m.answers = Set(json!(draft.answers));
        m.files = Set(json!(draft.files));
        if let Some(p) = person {
            m.personal_number = Set(Some(p.as_str().to_string()));
        }
        m.updated_at = Set(self.cases.clock.now());
        m.update(self.cases.db.writer()).await?;
        Ok(())
    }

    /// Forgets a draft (after it was sent).
    pub async fn delete_draft(&self, id: &str) -> ServiceResult<()> {
        application_draft::Entity::delete_by_id(id.to_string())
            .exec(self.cases.db.writer())
            .await?;
        Ok(())
    }

    /// Forgets the drafts untouched for `DRAFT_DAYS` days; returns the SHA-256 of each document
    /// they held (for `Attachments::forget_old_drafts` to drop the bytes no one else holds).
    pub(crate) async fn forget_old_drafts(&self) -> ServiceResult<Vec<String>> {
        let before = self.cases.clock.now() - Duration::days(DRAFT_DAYS);
        let old = application_draft::Entity::find()
            .filter(application_draft::Column::UpdatedAt.lt(before))
            .all(self.cases.db.writer())
            .await?;
        let shas = old
            .iter()
            .flat_map(|m| draft_of(m.clone()).files)
            .map(|f| f.sha256)
            .collect();
        application_draft::Entity::delete_many()
            .filter(application_draft::Column::UpdatedAt.lt(before))
            .exec(self.cases.db.writer())
            .await?;
        Ok(shas)
    }

    /// The SHA-256 of every document some draft holds.
    pub(crate) async fn drafted_documents(&self) -> ServiceResult<Vec<String>> {
        Ok(application_draft::Entity::find()
            .all(self.cases.db.writer())
            .await?
            .into_iter()
            .flat_map(|m| draft_of(m).files)
            .map(|f| f.sha256)
            .collect())
    }
}
