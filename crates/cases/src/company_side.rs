//! The company side of a case: what a signed-in company representative, or whoever holds the
//! case's follow link, sees of it. Which cases and what of them is decided by
//! `lots_core::access::CompanyAccess`; this module gathers the facts (the representative's
//! parties, the link) and builds the view from nothing else.
//!
//! A representative follows the cases where their personnummer is on the case as applicant,
//! signatory, agent or contact, and every case of a company they sign for (signatory on one of
//! its cases). A follow link is a long random token (only its SHA-256 is stored), made by an
//! officer of the owning department, revocable.

use std::collections::{BTreeSet, HashSet};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, NaiveDate, Utc};
use lots_core::access::{CompanyAccess, CompanyTies};
use lots_core::record::{AttachmentCategory, NoteVisibility, PartyRole};
use lots_core::{Actor, Area, CaseStatus, Decision, Representative};
use lots_store::entity::{
    case_attachment, case_decision, case_follow_link, case_note, case_party, case_record, company,
    supplement_request,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::Serialize;

use crate::access::Granted;
use crate::access::facts;
use crate::cases::Cases;
use crate::decisions::LegalBasisView;
use crate::error::{ServiceError, ServiceResult};
use crate::stored::stored;

/// The roles that let a person follow a case.
const FOLLOWING: [PartyRole; 4] = [
    PartyRole::Applicant,
    PartyRole::Signatory,
    PartyRole::Agent,
    PartyRole::Contact,
];

/// A case in the company's list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(example = json!({"id": 321, "reference": "BN 2026/0052", "area": "building_permit", "title": "Bygglov för uteservering", "status": "in_progress", "status_text": "Under handläggning", "received_at": "2026-11-02T09:14:00Z", "statutory_deadline": "2027-01-25"}))]
pub struct CompanyCaseSummary {
    pub id: i64,
    pub reference: String,
    pub area: Area,
    /// `null` for a confidential case.
    pub title: Option<String>,
    pub status: CaseStatus,
    /// The status in plain Swedish.
    pub status_text: String,
    pub received_at: DateTime<Utc>,
    /// The date the decision is due by law (the statutory clock, with any extension).
    pub statutory_deadline: Option<NaiveDate>,
}

/// One case as the company sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CompanyCaseView {
    #[serde(flatten)]
    pub summary: CompanyCaseSummary,
    /// Whether the case is confidential: then only its status, dates and what is expected are
    /// shown.
    pub confidential: bool,
    pub description: Option<String>,
    /// The company the case is about: name and organisation number.
    pub company: Option<CompanyName>,
    /// What is expected of the company now, in plain Swedish.
    pub expected_of_you: String,
    /// The same, as a value other front ends can word themselves.
    pub expected: Expected,
    pub supplement_requests: Vec<CompanySupplement>,
    /// The public notes, oldest first.
    pub notes: Vec<CompanyNote>,
    pub decision: Option<CompanyDecision>,
    /// The documents the company sent.
    pub documents: Vec<CompanyDocument>,
    /// The messages between the department and the company, oldest first.
    pub messages: Vec<crate::messages::CompanyMessage>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CompanyName {
    pub name: String,
    pub org_number: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CompanySupplement {
    pub id: i64,
    /// What the municipality asked for; `null` for a confidential case.
    pub message: Option<String>,
    pub requested_at: DateTime<Utc>,
    pub received_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CompanyNote {
    pub text: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CompanyDecision {
    pub outcome: Decision,
    /// `null` for a confidential case.
    pub text: Option<String>,
    pub legal_basis: Vec<LegalBasisView>,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    pub decided_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CompanyDocument {
    pub name: String,
    pub category: AttachmentCategory,
    pub size: i64,
    pub created_at: DateTime<Utc>,
}

/// A follow link just made: the token is shown this once.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(example = json!({"id": 4, "token": "q3N…", "path": "/folj/q3N…", "created_at": "2026-12-01T10:00:00Z"}))]
pub struct NewFollowLink {
    pub id: i64,
    pub token: String,
    /// Where the company opens it: `/folj/{token}` on Lots' public address.
    pub path: String,
    pub created_at: DateTime<Utc>,
}

/// A follow link as the officers see it later: never its token.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FollowLinkView {
    pub id: i64,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<i64>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// The key a link is stored under: the SHA-256 (hex) of its token, as sessions are.
fn token_hash(token: &str) -> String {
    crate::sessions::session_id(token)
}

/// The status in the words a company would use.
pub fn status_text(status: CaseStatus) -> &'static str {
    match status {
        CaseStatus::Received => "Inkommet – väntar på handläggning",
        CaseStatus::InProgress => "Under handläggning",
        CaseStatus::AwaitingSupplement => "Väntar på komplettering från er",
        CaseStatus::Decided => "Beslut fattat",
        CaseStatus::Closed => "Avslutat",
        CaseStatus::Withdrawn => "Återkallat",
    }
}

/// What is expected of the company now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Expected {
    /// A supplement the municipality asked for.
    Supplement,
    /// Nothing: the case is being handled.
    Nothing,
    /// Reading the decision (and appealing it, if so minded).
    ReadDecision,
    /// Nothing: the case is closed.
    Closed,
}

impl Expected {
    fn of(status: CaseStatus, open_supplement: bool) -> Self {
        if open_supplement {
            return Expected::Supplement;
        }
        match status {
            CaseStatus::Received | CaseStatus::InProgress | CaseStatus::AwaitingSupplement => {
                Expected::Nothing
            }
            CaseStatus::Decided => Expected::ReadDecision,
            CaseStatus::Closed | CaseStatus::Withdrawn => Expected::Closed,
        }
    }

    /// In plain Swedish.
    pub fn sv(self) -> &'static str {
        match self {
            Expected::Supplement => {
                "Kommunen har begärt en komplettering av er. Skicka in det som efterfrågas så snart ni kan: handläggningen väntar på det."
            }
            Expected::Nothing => "Ingenting just nu. Kommunen hör av sig om något behövs.",
            Expected::ReadDecision => {
                "Läs beslutet. Om ni vill överklaga står det i beslutet hur och när."
            }
            Expected::Closed => "Ingenting: ärendet är avslutat.",
        }
    }

    /// In plain English.
    pub fn en(self) -> &'static str {
        match self {
            Expected::Supplement => {
                "The municipality has asked you for a supplement. Send what is asked for as soon as you can: the handling waits for it."
            }
            Expected::Nothing => {
                "Nothing for now. The municipality will be in touch if anything is needed."
            }
            Expected::ReadDecision => {
                "Read the decision. If you wish to appeal, the decision says how and by when."
            }
            Expected::Closed => "Nothing: the case is closed.",
        }
    }
}

/// The status in the words a company would use, in English.
pub fn status_text_en(status: CaseStatus) -> &'static str {
    match status {
        CaseStatus::Received => "Received – waiting to be handled",
        CaseStatus::InProgress => "Being handled",
        CaseStatus::AwaitingSupplement => "Waiting for a supplement from you",
        CaseStatus::Decided => "Decided",
        CaseStatus::Closed => "Closed",
        CaseStatus::Withdrawn => "Withdrawn",
    }
}

/// Documents a company sends (as opposed to the municipality's own).
fn sent_by_company(category: AttachmentCategory) -> bool {
    matches!(
        category,
        AttachmentCategory::Application
            | AttachmentCategory::Drawing
            | AttachmentCategory::Supplement
            | AttachmentCategory::Photo
    )
}

impl Cases {
    /// A follow link made by Lots itself (for a mail), in `tx`; returns its token.
    pub(crate) async fn system_follow_link(
        &self,
        tx: &sea_orm::DatabaseTransaction,
        case_id: i64,
        now: DateTime<Utc>,
    ) -> ServiceResult<String> {
        let token = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
        case_follow_link::ActiveModel {
            case_id: Set(case_id),
            token_hash: Set(token_hash(&token)),
            created_by: Set(None),
            created_at: Set(now),
            revoked_at: Set(None),
            ..Default::default()
        }
        .insert(tx)
        .await?;
        Ok(token)
    }
}

/// The company's side of its cases: what a representative's login or a follow link shows of
/// them (`lots_core::access::CompanyAccess` decides how much), the follow links officers hand
/// out and revoke, and the company's answers to supplement requests.
#[derive(Debug, Clone)]
pub struct CompanySide {
    cases: Cases,
}

impl CompanySide {
    pub fn new(cases: Cases) -> Self {
        Self { cases }
    }

    /// The cases `who` follows, newest first.
    pub async fn representative_cases(
        &self,
        who: &Representative,
    ) -> ServiceResult<Vec<CompanyCaseSummary>> {
        let (direct, companies) = self.representative_ties(who).await?;
        let mut cases = case_record::Entity::find()
            .filter(
                sea_orm::Condition::any()
                    .add(case_record::Column::Id.is_in(direct.iter().copied()))
                    .add(case_record::Column::CompanyId.is_in(companies.iter().copied())),
            )
            .order_by_desc(case_record::Column::ReceivedAt)
            .order_by_desc(case_record::Column::Id)
            .limit(500)
            .all(self.cases.db.reader())
            .await?;
        cases
            .retain(|c| CompanyAccess::representative(facts(c), ties(c, &direct, &companies)).read);
        cases
            .iter()
            .map(|c| {
                summary(
                    c,
                    CompanyAccess::representative(facts(c), ties(c, &direct, &companies)),
                )
            })
            .collect()
    }

    /// Case `id` as `who` sees it; `NotFound` unless they follow it.
    pub async fn representative_case(
        &self,
        who: &Representative,
        id: i64,
    ) -> ServiceResult<CompanyCaseView> {
        let (case, access) = self.represented(who, id).await?;
        self.company_view(case, access).await
    }

    /// Case `id` and what `who` may see of it; `NotFound` unless they follow it.
    pub async fn represented(
        &self,
        who: &Representative,
        id: i64,
    ) -> ServiceResult<(case_record::Model, CompanyAccess)> {
        let (direct, companies) = self.representative_ties(who).await?;
        let case = case_record::Entity::find_by_id(id)
            .one(self.cases.db.reader())
            .await?
            .ok_or(ServiceError::NotFound("case"))?;
        let access = CompanyAccess::representative(facts(&case), ties(&case, &direct, &companies));
        if !access.read {
            return Err(ServiceError::NotFound("case"));
        }
        Ok((case, access))
    }

    /// The case a follow link opens; `NotFound` for an unknown or revoked link.
    pub async fn followed_case(&self, token: &str) -> ServiceResult<CompanyCaseView> {
        let case = self.followed(token).await?;
        let access = CompanyAccess::holder(facts(&case), true);
        self.company_view(case, access).await
    }

    /// The case a live follow link opens.
    pub async fn followed(&self, token: &str) -> ServiceResult<case_record::Model> {
        if token.len() < 32 || token.len() > 64 {
            return Err(ServiceError::NotFound("case"));
        }
        let link = case_follow_link::Entity::find()
            .filter(case_follow_link::Column::TokenHash.eq(token_hash(token)))
            .one(self.cases.db.reader())
            .await?
            .filter(|l| l.revoked_at.is_none())
            .ok_or(ServiceError::NotFound("case"))?;
        case_record::Entity::find_by_id(link.case_id)
            .one(self.cases.db.reader())
            .await?
            .ok_or(ServiceError::NotFound("case"))
    }

    /// Makes a follow link for case `id` (its department's officers and managers, or an
    /// admin); the token is in the answer only.
    pub async fn create_follow_link(&self, actor: &Actor, id: i64) -> ServiceResult<NewFollowLink> {
        let case = self.cases.owned(self.cases.db.reader(), actor, id).await?;
        let token = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
        let now = self.cases.clock.now();
        let row = case_follow_link::ActiveModel {
            case_id: Set(case.id),
            token_hash: Set(token_hash(&token)),
            created_by: Set(Some(actor.user_id)),
            created_at: Set(now),
            revoked_at: Set(None),
            ..Default::default()
        }
        .insert(self.cases.db.writer())
        .await?;
        Ok(NewFollowLink {
            id: row.id,
            path: format!("/folj/{token}"),
            token,
            created_at: now,
        })
    }

    /// The follow links of case `id`, newest first, without their tokens.
    pub async fn follow_links(&self, actor: &Actor, id: i64) -> ServiceResult<Vec<FollowLinkView>> {
        let case = self.cases.owned(self.cases.db.reader(), actor, id).await?;
        self.follow_links_of(&case).await
    }

    /// `follow_links` of a case the request has already read: only for those who may change it.
    pub async fn follow_links_of(&self, case: &Granted) -> ServiceResult<Vec<FollowLinkView>> {
        case.changeable()?;
        Ok(case
            .rows::<case_follow_link::Entity>(&self.cases.db, case_follow_link::Column::CaseId)
            .await?
            .into_iter()
            // The newest first.
            .rev()
            .map(|l| FollowLinkView {
                id: l.id,
                created_at: l.created_at,
                created_by: l.created_by,
                revoked_at: l.revoked_at,
            })
            .collect())
    }

    /// Revokes follow link `link` of case `id`: it opens nothing from now on.
    pub async fn revoke_follow_link(&self, actor: &Actor, id: i64, link: i64) -> ServiceResult<()> {
        let case = self.cases.owned(self.cases.db.reader(), actor, id).await?;
        let row = case_follow_link::Entity::find_by_id(link)
            .one(self.cases.db.reader())
            .await?
            .filter(|l| l.case_id == case.id)
            .ok_or(ServiceError::NotFound("follow link"))?;
        if row.revoked_at.is_none() {
            case_follow_link::ActiveModel {
                id: Set(row.id),
                revoked_at: Set(Some(self.cases.clock.now())),
                ..Default::default()
            }
            .update(self.cases.db.writer())
            .await?;
        }
        Ok(())
    }

    /// The cases `who` is on in a following role, and the companies they sign for.
    async fn representative_ties(
        &self,
        who: &Representative,
    ) -> ServiceResult<(HashSet<i64>, HashSet<i64>)> {
        let parties = case_party::Entity::find()
            .filter(case_party::Column::PersonalNumber.eq(who.personal_number.as_str()))
            .all(self.cases.db.reader())
            .await?;
        let mut direct = HashSet::new();
        let mut signs = BTreeSet::new();
        for p in parties {
            let roles: Vec<PartyRole> = p
                .roles
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|r| r.as_str())
                        .map(|r| stored("case_party", p.id, r))
                        .collect::<ServiceResult<Vec<PartyRole>>>()
                })
                .transpose()?
                .unwrap_or_default();
            if roles.iter().any(|r| FOLLOWING.contains(r)) {
                direct.insert(p.case_id);
            }
            if roles.contains(&PartyRole::Signatory) {
                signs.insert(p.case_id);
            }
        }
        let companies = if signs.is_empty() {
            HashSet::new()
        } else {
            case_record::Entity::find()
                .filter(case_record::Column::Id.is_in(signs))
                .all(self.cases.db.reader())
                .await?
                .into_iter()
                .map(|c| c.company_id)
                .collect()
        };
        Ok((direct, companies))
    }

    async fn company_view(
        &self,
        case: case_record::Model,
        access: CompanyAccess,
    ) -> ServiceResult<CompanyCaseView> {
        let db = self.cases.db.reader();
        let supplements = supplement_request::Entity::find()
            .filter(supplement_request::Column::CaseId.eq(case.id))
            .order_by_asc(supplement_request::Column::Id)
            .all(db)
            .await?;
        let notes = case_note::Entity::find()
            .filter(case_note::Column::CaseId.eq(case.id))
            .order_by_asc(case_note::Column::Id)
            .all(db)
            .await?;
        let decision = case_decision::Entity::find()
            .filter(case_decision::Column::CaseId.eq(case.id))
            .order_by_desc(case_decision::Column::Id)
            .one(db)
            .await?;
        let documents = case_attachment::Entity::find()
            .filter(case_attachment::Column::CaseId.eq(case.id))
            .filter(case_attachment::Column::DeletedAt.is_null())
            .order_by_asc(case_attachment::Column::Id)
            .all(db)
            .await?;
        let company = company::Entity::find_by_id(case.company_id).one(db).await?;
        let status: CaseStatus = stored("case_record", case.id, &case.status)?;
        let open_supplement = supplements.iter().any(|s| s.received_at.is_none());
        let mut shown_notes = Vec::new();
        for n in notes {
            let visibility: NoteVisibility = stored("case_note", n.id, &n.visibility)?;
            if access.sees_note(
                visibility == NoteVisibility::Public,
                n.confidential_statute.is_some(),
            ) {
                shown_notes.push(CompanyNote {
                    text: n.text,
                    created_at: n.created_at,
                });
            }
        }
        let mut shown_documents = Vec::new();
        for d in documents {
            let category: AttachmentCategory = stored("case_attachment", d.id, &d.category)?;
            if access.sees_attachment(d.confidential_statute.is_some(), sent_by_company(category)) {
                shown_documents.push(CompanyDocument {
                    name: d.name,
                    category,
                    size: d.size,
                    created_at: d.created_at,
                });
            }
        }
        let decision = match decision {
            Some(d) => Some(CompanyDecision {
                outcome: stored("case_decision", d.id, &d.outcome)?,
                text: access.content.then_some(d.text),
                legal_basis: if access.content {
                    serde_json::from_value(d.legal_basis).unwrap_or_default()
                } else {
                    Vec::new()
                },
                valid_from: d.valid_from,
                valid_to: d.valid_to,
                decided_at: Some(d.decided_at),
            }),
            None => match case.decision.as_deref() {
                Some(outcome) => Some(CompanyDecision {
                    outcome: stored("case_record", case.id, outcome)?,
                    text: None,
                    legal_basis: Vec::new(),
                    valid_from: None,
                    valid_to: None,
                    decided_at: case.decided_at,
                }),
                None => None,
            },
        };
        Ok(CompanyCaseView {
            confidential: case.confidential_statute.is_some(),
            description: access.content.then(|| case.description.clone()),
            company: company.map(|c| CompanyName {
                name: c.name,
                org_number: c.org_number,
            }),
            expected_of_you: Expected::of(status, open_supplement).sv().to_string(),
            expected: Expected::of(status, open_supplement),
            supplement_requests: supplements
                .into_iter()
                .map(|s| CompanySupplement {
                    id: s.id,
                    message: access.content.then_some(s.message),
                    requested_at: s.requested_at,
                    received_at: s.received_at,
                })
                .collect(),
            notes: shown_notes,
            decision,
            documents: shown_documents,
            messages: crate::messages::Messages::new(self.cases.clone())
                .company_messages(case.id)
                .await?,
            summary: summary(&case, access)?,
        })
    }
}

fn ties(case: &case_record::Model, direct: &HashSet<i64>, companies: &HashSet<i64>) -> CompanyTies {
    CompanyTies {
        party: direct.contains(&case.id),
        signatory_for_company: companies.contains(&case.company_id),
    }
}

fn summary(case: &case_record::Model, access: CompanyAccess) -> ServiceResult<CompanyCaseSummary> {
    let status: CaseStatus = stored("case_record", case.id, &case.status)?;
    Ok(CompanyCaseSummary {
        id: case.id,
        reference: case.reference.clone(),
        area: stored("case_record", case.id, &case.area)?,
        title: access.content.then(|| case.title.clone()),
        status,
        status_text: status_text(status).to_string(),
        received_at: case.received_at,
        statutory_deadline: case.due_date,
    })
}

impl CompanySide {
    /// The company's answer to supplement request `request_id` of case `case_id` (which the
    /// caller has found them allowed to follow): its text is kept as a message from the company,
    /// the request is marked received and the case goes back to in progress, the clock as the
    /// deadline rules say, exactly as when an officer registers the supplement by hand.
    pub async fn answer_supplement(
        &self,
        case_id: i64,
        request_id: i64,
        sender: &str,
        text: Option<&str>,
    ) -> ServiceResult<CompanySupplement> {
        let now = self.cases.clock.now();
        let tx = self.cases.db.begin().await?;
        let (answer, _) = self
            .answer_supplement_in(&tx, case_id, request_id, sender, text, now)
            .await?;
        tx.commit().await?;
        Ok(answer)
    }

    /// `answer_supplement` in the caller's transaction; also returns the case as it was.
    pub(crate) async fn answer_supplement_in(
        &self,
        tx: &sea_orm::DatabaseTransaction,
        case_id: i64,
        request_id: i64,
        sender: &str,
        text: Option<&str>,
        now: DateTime<Utc>,
    ) -> ServiceResult<(CompanySupplement, case_record::Model)> {
        let mut p = crate::error::Problems::default();
        let text = p.text("text", text, 1, 10_000);
        p.finish()?;
        let text = text.unwrap_or_default();
        let case = case_record::Entity::find_by_id(case_id)
            .one(tx)
            .await?
            .ok_or(ServiceError::NotFound("case"))?;
        let request = supplement_request::Entity::find_by_id(request_id)
            .one(tx)
            .await?
            .filter(|r| r.case_id == case.id)
            .ok_or(ServiceError::NotFound("supplement request"))?;
        if request.received_at.is_some() {
            return Err(ServiceError::Conflict(
                "this supplement has already been received".into(),
            ));
        }
        if stored::<CaseStatus>("case_record", case.id, &case.status)?
            != CaseStatus::AwaitingSupplement
        {
            return Err(ServiceError::Conflict(
                "the case no longer waits for a supplement".into(),
            ));
        }
        crate::messages::record_company_message(
            tx,
            &case,
            sender,
            &format!("Komplettering: {text}"),
            now,
        )
        .await?;
        self.cases
            .change_status_by(
                tx,
                crate::cases::Who::Company,
                case.clone(),
                CaseStatus::InProgress,
                Some("Kompletteringen har kommit in från företaget".into()),
                None,
            )
            .await?;
        Ok((
            CompanySupplement {
                id: request.id,
                message: Some(request.message),
                requested_at: request.requested_at,
                received_at: Some(now),
            },
            case,
        ))
    }
}
