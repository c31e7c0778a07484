//! What the API shows of a case, its events and notes, and how those views are assembled from
//! rows with batched lookups (never one query per row).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use lots_core::deadline::DeadlineView;
use lots_core::{Area, CaseStatus, Decision, EventKind, NoteVisibility, Priority};
use lots_store::Db;
use lots_store::entity::{app_user, case_event, case_note, case_record, company, department};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Serialize;

use crate::error::ServiceResult;
use crate::record::Confidentiality;
use crate::redact::{Sight, redact_event_data};
use crate::stored::{case_area, case_status, stored, stored_event, stored_opt};

/// A case (ärende).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(example = json!({
    "id": 42, "reference": "BN 2026/0042", "org_number": "556012-5790", "company_name": "Exempel AB",
    "area": "building_permit", "case_type": "permit", "title": "Nybyggnad av restaurang",
    "description": "", "department": "SBF", "assignee": "anna", "status": "in_progress",
    "decision": null, "received_at": "2026-11-02T09:00:00Z", "complete_at": null,
    "decided_at": null, "closed_at": null, "deadline": null, "priority": "normal",
    "labels": ["uteservering"], "confidential": null, "version": 3,
    "created_at": "2026-11-02T09:05:00Z", "updated_at": "2026-11-03T10:00:00Z"}))]
pub struct CaseView {
    pub id: i64,
    /// The diarienummer, `{prefix} {year}/{serial:04}`.
    pub reference: String,
    pub org_number: String,
    pub company_name: String,
    pub area: Area,
    /// Refines the area where the law does (building: `permit` or `notification`).
    pub case_type: Option<String>,
    pub title: String,
    pub description: String,
    /// The owning department's code.
    pub department: String,
    /// The assigned officer's username.
    pub assignee: Option<String>,
    pub status: CaseStatus,
    pub decision: Option<Decision>,
    pub received_at: DateTime<Utc>,
    pub complete_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// The statutory deadline or service target; null where the area has none.
    pub deadline: Option<DeadlineView>,
    pub priority: Priority,
    pub labels: Vec<String>,
    /// Set when the case is confidential (sekretess): `{statute}`. Then only the owning
    /// department's officers and managers see its title, description, parties, premises,
    /// notes, attachments and decision text.
    pub confidential: Option<Confidentiality>,
    /// How the case came in: `officer` (registered by an officer), `e-service` (sent by the
    /// company) or `import`.
    pub channel: String,
    /// Incremented by every change; send it back in `If-Match`.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One entry of a case's history.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(example = json!({"id": 7, "at": "2026-11-03T10:00:00Z", "kind": "status_changed",
    "actor": "anna", "department": "SBF", "data": {"from": "received", "to": "in_progress", "reason": null}}))]
pub struct EventView {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub kind: EventKind,
    /// The username of who did it; null for the system.
    pub actor: Option<String>,
    /// The code of the department the actor acted for.
    pub department: Option<String>,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NoteView {
    pub id: i64,
    pub text: String,
    /// internal (the department) or public (the company may see it).
    pub visibility: NoteVisibility,
    pub confidential: Option<Confidentiality>,
    /// The author's username.
    pub author: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A page of a list, with the cursor to the next page (null on the last page).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
    /// How the items are ordered.
    pub order: ListOrder,
}

/// The order of a list of cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ListOrder {
    /// Newest first (the default; also a search with more matches than are ranked).
    Newest,
    /// Soonest due first, cases without a due date last (`sort=due_date`).
    DueDate,
    /// Best match first, then newest (a search of words).
    Relevance,
}

/// Everything beyond the case rows that their views need, loaded in one query per table.
#[derive(Debug, Default)]
pub struct Lookups {
    pub departments: std::sync::Arc<HashMap<i64, department::Model>>,
    pub companies: HashMap<i64, company::Model>,
    pub users: HashMap<i64, app_user::Model>,
}

impl Lookups {
    /// Departments come from the process's memory (`lots_store::identity`), users from it when
    /// they are there; companies are read.
    pub async fn load(
        db: &Db,
        company_ids: impl IntoIterator<Item = i64>,
        user_ids: impl IntoIterator<Item = i64>,
    ) -> ServiceResult<Self> {
        let company_ids: Vec<i64> = company_ids
            .into_iter()
            .collect::<HashSet<i64>>()
            .into_iter()
            .collect();
        // By key, a page's worth at most: read on the calling thread on SQLite.
        let companies = match company_ids.is_empty() {
            true => Vec::new(),
            false => {
                db.read_all(company::Entity::find().filter(company::Column::Id.is_in(company_ids)))
                    .await?
            }
        };
        Self::load_with_companies(db, companies, user_ids).await
    }

    /// The same, with the companies already read.
    pub async fn load_with_companies(
        db: &Db,
        companies: impl IntoIterator<Item = company::Model>,
        user_ids: impl IntoIterator<Item = i64>,
    ) -> ServiceResult<Self> {
        let user_ids: HashSet<i64> = user_ids.into_iter().collect();
        let users = db
            .user_rows(user_ids)
            .await?
            .into_iter()
            .map(|(id, row)| (id, row.user.clone()))
            .collect();
        Ok(Self {
            departments: db.departments().await?,
            companies: companies.into_iter().map(|c| (c.id, c)).collect(),
            users,
        })
    }

    pub async fn for_cases(db: &Db, cases: &[case_record::Model]) -> ServiceResult<Self> {
        Self::load(
            db,
            cases.iter().map(|c| c.company_id),
            cases.iter().filter_map(|c| c.assignee_id),
        )
        .await
    }

    pub fn username(&self, id: Option<i64>) -> Option<String> {
        id.and_then(|id| self.users.get(&id))
            .map(|u| u.username.clone())
    }

    fn department_code(&self, id: Option<i64>) -> Option<String> {
        id.and_then(|id| self.departments.get(&id))
            .map(|d| d.code.clone())
    }

    /// The view of a case row; a row holding a value its type does not know is an error.
    pub fn case(
        &self,
        c: case_record::Model,
        deadline: Option<DeadlineView>,
    ) -> ServiceResult<CaseView> {
        let company = self.companies.get(&c.company_id);
        let (area, status) = (case_area(&c)?, case_status(&c)?);
        let priority = stored("case_record", c.id, &c.priority)?;
        let decision = stored_opt("case_record", c.id, c.decision.as_deref())?;
        Ok(CaseView {
            id: c.id,
            reference: c.reference,
            org_number: company.map(|co| co.org_number.clone()).unwrap_or_default(),
            company_name: company.map(|co| co.name.clone()).unwrap_or_default(),
            area,
            case_type: c.case_type,
            title: c.title,
            description: c.description,
            department: self
                .department_code(Some(c.department_id))
                .unwrap_or_default(),
            assignee: self.username(c.assignee_id),
            status,
            decision,
            received_at: c.received_at,
            complete_at: c.complete_at,
            decided_at: c.decided_at,
            closed_at: c.closed_at,
            deadline,
            priority,
            labels: serde_json::from_value(c.labels).unwrap_or_default(),
            confidential: c
                .confidential_statute
                .map(|statute| Confidentiality { statute }),
            channel: c.channel,
            version: c.version,
            created_at: c.created_at,
            updated_at: c.updated_at,
        })
    }

    /// An event as `sight` lets the caller see it: its data read as its kind's payload (a row
    /// whose data does not fit is corrupt) and passed through the one redaction step.
    pub fn event(
        &self,
        e: &case_event::Model,
        case_confidential: bool,
        sight: Sight,
    ) -> ServiceResult<EventView> {
        // Read as its kind's payload (a row whose data does not fit is corrupt); what is shown
        // is the data as stored, which is what that payload wrote.
        let event = stored_event(e)?;
        Ok(EventView {
            id: e.id,
            at: e.at,
            kind: event.kind(),
            actor: self.username(e.actor_id),
            department: self.department_code(e.department_id),
            data: redact_event_data(e.data.clone(), case_confidential, sight),
        })
    }

    pub fn note(&self, n: case_note::Model) -> ServiceResult<NoteView> {
        Ok(NoteView {
            id: n.id,
            visibility: stored("case_note", n.id, &n.visibility)?,
            text: n.text,
            confidential: n
                .confidential_statute
                .map(|statute| Confidentiality { statute }),
            author: self.username(Some(n.author_id)),
            created_at: n.created_at,
        })
    }
}
