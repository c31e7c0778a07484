//! The case service: registration with a gap-free diarienummer, reading within the caller's
//! scope, editing with optimistic concurrency, the lifecycle, notes and the history. Every change
//! appends its event in the same transaction as the change.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Datelike, TimeZone, Utc};
use lots_core::case_event::{self as ev, Change, Changes};
use lots_core::deadline::DeadlineRules;
use lots_core::{
    Actor, Area, CaseEvent, CaseStatus, Clock, Decision, NoteVisibility, OrgNumber, Priority,
    Reference, Role, TIME_ZONE,
};
use lots_store::Db;
use lots_store::entity::{
    app_user, case_event, case_note, case_record, company, department, supplement_request,
};
use lots_store::events::{NewEvent, append, append_all};
use lots_store::prefetch::Part;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait,
    FromQueryResult, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Deserializer};
use serde_json::json;

use crate::access::Granted;
use crate::decisions::{DecisionDetails, check_validity, parse_date, parse_legal_basis};
use crate::error::{Problems, ServiceError, ServiceResult, text_len};
use crate::record::{ConfidentialInput, parse_confidential};
use crate::redact::Redact;
use crate::registrar::{Registrar, Written};
use crate::stored::case_status;
use crate::view::{CaseView, EventView, Lookups, NoteView};
use lots_core::access::{CaseAccess, CaseFacts, Ties};

pub const DEFAULT_PAGE: u64 = 50;
pub const MAX_PAGE: u64 = 500;

/// `POST /api/v1/cases`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"org_number": "556012-5790", "company_name": "Exempel AB", "area": "building_permit",
    "case_type": "permit", "title": "Nybyggnad av restaurang", "description": "Ansökan om bygglov",
    "assignee": "anna", "received_at": "2026-11-02T09:00:00Z"}))]
pub struct NewCase {
    pub org_number: Option<String>,
    pub company_name: Option<String>,
    /// building_permit, environment_health, food_control, serving_licence, fire_safety, land_use, other
    pub area: Option<String>,
    /// building_permit: `permit` (default) or `notification`; other areas have none.
    pub case_type: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
    /// A department code; defaults to the caller's.
    pub department: Option<String>,
    /// A username in the case's department.
    pub assignee: Option<String>,
    /// RFC 3339; defaults to now; never in the future.
    pub received_at: Option<String>,
    /// low, normal (default), high, urgent.
    pub priority: Option<String>,
    /// Free labels, each 1–40 characters, at most 20.
    pub labels: Option<Vec<String>>,
    /// Marks the case confidential from the start: `{statute: "OSL 26 kap. 1 §"}`.
    pub confidential: Option<ConfidentialInput>,
}

/// `PATCH /api/v1/cases/{id}`: only the fields present change; `assignee: null` unassigns.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"title": "Nybyggnad av restaurang och uteservering", "assignee": "omar"}))]
pub struct CasePatch {
    pub title: Option<String>,
    pub description: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub assignee: Option<Option<String>>,
    /// low, normal, high, urgent.
    pub priority: Option<String>,
    /// Replaces the labels.
    pub labels: Option<Vec<String>>,
    /// `{statute}` marks the case confidential (OSL); `null` lifts the marking.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<ConfidentialInput>)]
    pub confidential: Option<Option<ConfidentialInput>>,
}

/// `POST /api/v1/cases/{id}/transitions`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"to": "decided", "decision": "approved", "reason": "Uppfyller kraven"}))]
pub struct TransitionInput {
    /// The status to move to.
    pub to: Option<String>,
    pub reason: Option<String>,
    /// Required when `to` is `decided`: approved, rejected, dismissed, written_off.
    pub decision: Option<String>,
    /// With `decided`: the statute references the decision rests on, each written
    /// (`"SFS 2010:900 9 kap. 31 §"`, `"PBL 9 kap. 31 §"`) or as `{sfs, chapter?, section?}`.
    #[schema(value_type = Option<Vec<Object>>)]
    pub legal_basis: Option<Vec<serde_json::Value>>,
    /// With `decided`: the decision's text.
    pub text: Option<String>,
    /// With an approval: the first day a time-limited permit is valid (YYYY-MM-DD).
    pub valid_from: Option<String>,
    /// With an approval: the last day a time-limited permit is valid (YYYY-MM-DD).
    pub valid_to: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"text": "Ringde sökanden om ritningarna.", "visibility": "internal"}))]
pub struct NewNote {
    pub text: Option<String>,
    /// internal (default: the department only) or public (the company may see it).
    pub visibility: Option<String>,
    /// `{statute}` makes the note confidential: only the owning department's officers and
    /// managers see it.
    pub confidential: Option<ConfidentialInput>,
}

/// A new case whose every field has been checked.
pub(crate) struct NewCaseChecked {
    pub(crate) org_number: OrgNumber,
    pub(crate) company_name: String,
    pub(crate) area: Area,
    pub(crate) case_type: Option<String>,
    pub(crate) title: String,
    pub(crate) description: String,
    pub(crate) department: department::Model,
    pub(crate) received_at: DateTime<Utc>,
    pub(crate) priority: Priority,
    pub(crate) labels: Vec<String>,
    pub(crate) confidential: Option<String>,
    pub(crate) assignee: Option<app_user::Model>,
}

/// How a case came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// Registered by an officer.
    Officer,
    /// Sent by the company through an e-service.
    EService,
    /// Brought over from an earlier system.
    Import,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Officer => "officer",
            Channel::EService => "e-service",
            Channel::Import => "import",
        }
    }
}

/// Distinguishes a field that is absent (`None`) from one that is `null` (`Some(None)`).
pub(crate) fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Ok(Some(Option::deserialize(d)?))
}

/// Who causes a change: an officer (or admin), or the company from its side.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Who<'a> {
    Officer(&'a Actor),
    Company,
}

/// One case to register: who registers it, the case as checked, how it came in, and when.
pub(crate) struct Registration<'a> {
    pub(crate) who: Who<'a>,
    pub(crate) case: &'a NewCaseChecked,
    pub(crate) channel: Channel,
    pub(crate) now: DateTime<Utc>,
}

/// A case as written, with its company as stored.
#[derive(Debug)]
pub(crate) struct Registered {
    pub(crate) case: case_record::Model,
    pub(crate) company: company::Model,
}

impl Who<'_> {
    pub(crate) fn user_id(self) -> Option<i64> {
        match self {
            Who::Officer(a) => Some(a.user_id),
            Who::Company => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Cases {
    pub(crate) db: Db,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) rules: Arc<DeadlineRules>,
    /// Where companies reach Lots, for the links in their mails.
    pub(crate) base_url: Arc<str>,
    /// The writers that registrations queue for (`registrar`), started at the first one.
    registrar: Arc<std::sync::OnceLock<Registrar>>,
    /// What they have written.
    written: Arc<Written>,
}

impl Cases {
    pub fn new(db: Db, clock: Arc<dyn Clock>, rules: Arc<DeadlineRules>) -> Self {
        Self {
            db,
            clock,
            rules,
            base_url: Arc::from(""),
            registrar: Arc::default(),
            written: Arc::default(),
        }
    }

    /// What the registration writers have written since the process started.
    pub fn registrations_written(&self) -> &Written {
        &self.written
    }

    /// The same, with the address companies reach Lots at (for the links in mails).
    pub fn with_base_url(mut self, base_url: &str) -> Self {
        self.base_url = Arc::from(base_url);
        self
    }

    pub async fn create(&self, actor: &Actor, input: NewCase) -> ServiceResult<CaseView> {
        let now = self.clock.now();
        let c = self.check_new_case(actor, input, now).await?;
        // Registering a case is changing a case the department will own.
        let access = CaseAccess::decide(
            actor,
            CaseFacts {
                department_id: c.department.id,
                confidential: false,
            },
            Ties::default(),
        );
        if !access.change {
            return Err(ServiceError::Forbidden(
                "you may register cases only in your own department".into(),
            ));
        }
        if c.confidential.is_some() && !access.mark_confidential {
            return Err(ServiceError::Forbidden(
                "only the owning department's officers and managers mark a case confidential"
                    .into(),
            ));
        }
        if let Some(a) = &c.assignee {
            check_may_assign(&access, actor, None, Some(a.id))?;
        }

        // Written with whatever other registrations are waiting, and committed before this
        // answers (`registrar`).
        let registrar = self.registrar.get_or_init(|| {
            Registrar::start(
                Self {
                    registrar: Arc::default(),
                    ..self.clone()
                },
                self.written.clone(),
            )
        });
        let Registered { case, company } = registrar.register(actor, c, now).await?;
        // The view from what the writer returned: no read after the write.
        let lookups = Lookups::load_with_companies(&self.db, [company], case.assignee_id).await?;
        self.listed_view(actor, &lookups, case)
    }

    /// Writes checked case `c` in `tx`: its company, its diarienummer, the row with the clock
    /// started as the rules say, and the `created` event.
    pub(crate) async fn insert_case(
        &self,
        tx: &DatabaseTransaction,
        who: Who<'_>,
        c: &NewCaseChecked,
        channel: Channel,
        now: DateTime<Utc>,
    ) -> ServiceResult<case_record::Model> {
        let registration = Registration {
            who,
            case: c,
            channel,
            now,
        };
        self.insert_cases(tx, std::slice::from_ref(&registration))
            .await?
            .pop()
            .map(|r| r.case)
            .ok_or_else(|| ServiceError::Internal("a registration wrote no case".into()))
    }

    /// Writes checked registrations in `tx`, in their order, with one statement a table
    /// whatever their number: their companies, their diarienummer (each department's and year's
    /// serials taken together, in order), the case rows with their clocks started as the rules
    /// say, and their `created` events. Returns the cases (with their companies) in the order
    /// given.
    pub(crate) async fn insert_cases(
        &self,
        tx: &DatabaseTransaction,
        registrations: &[Registration<'_>],
    ) -> ServiceResult<Vec<Registered>> {
        let Some(first) = registrations.first() else {
            return Ok(Vec::new());
        };
        let companies = upsert_companies(
            tx,
            registrations
                .iter()
                .map(|r| (&r.case.org_number, r.case.company_name.as_str())),
            first.now,
        )
        .await?;
        let mut serials = take_serials(
            tx,
            registrations
                .iter()
                .map(|r| (r.case.department.id, diary_year(r.now))),
        )
        .await?;
        let mut references = Vec::with_capacity(registrations.len());
        let mut rows = Vec::with_capacity(registrations.len());
        for r in registrations {
            let c = r.case;
            let year = diary_year(r.now);
            let serial = serials.next(c.department.id, year)?;
            let reference = Reference::new(&c.department.diary_prefix, year, serial)
                .map_err(|e| ServiceError::Internal(format!("diary prefix: {e}")))?
                .to_string();
            let company_id = companies
                .get(c.org_number.as_str())
                .ok_or_else(|| {
                    ServiceError::Internal("a registration's company was not written".into())
                })?
                .id;
            let mut case = case_record::ActiveModel {
                reference: Set(reference.clone()),
                department_id: Set(c.department.id),
                company_id: Set(company_id),
                area: Set(c.area.as_str().to_string()),
                case_type: Set(c.case_type.clone()),
                title: Set(c.title.clone()),
                description: Set(c.description.clone()),
                assignee_id: Set(c.assignee.as_ref().map(|a| a.id)),
                status: Set(CaseStatus::Received.as_str().to_string()),
                decision: Set(None),
                received_at: Set(c.received_at),
                complete_at: Set(None),
                decided_at: Set(None),
                closed_at: Set(None),
                version: Set(1),
                created_at: Set(r.now),
                updated_at: Set(r.now),
                priority: Set(c.priority.as_str().to_string()),
                labels: Set(json!(c.labels)),
                confidential_statute: Set(c.confidential.clone()),
                channel: Set(r.channel.as_str().to_string()),
                ..Default::default()
            };
            let rule = self.rules.for_case(c.area, c.case_type.as_deref());
            crate::deadlines::apply_clock(&mut case, rule, c.received_at, &[])?;
            references.push(reference);
            rows.push(case);
        }
        let mut cases = case_record::Entity::insert_many(rows)
            .exec_with_returning(tx)
            .await?;
        // RETURNING comes in the database's order (SQLite's is documented as arbitrary); ids
        // are given in the order of the rows, which the references confirm.
        cases.sort_by_key(|c| c.id);
        if cases.len() != references.len()
            || cases
                .iter()
                .zip(&references)
                .any(|(c, r)| c.reference != *r)
        {
            return Err(ServiceError::Internal(
                "the cases written do not match the registrations".into(),
            ));
        }
        let events = registrations
            .iter()
            .zip(&cases)
            .map(|(r, case)| {
                let c = r.case;
                let registered = ev::Registered {
                    reference: case.reference.clone(),
                    org_number: c.org_number.as_str().to_string(),
                    company_name: c.company_name.clone(),
                    area: c.area,
                    case_type: c.case_type.clone(),
                    title: c.title.clone(),
                    department: c.department.code.clone(),
                    assignee: c.assignee.as_ref().map(|a| a.username.clone()),
                    received_at: c.received_at,
                    priority: c.priority,
                    labels: c.labels.clone(),
                    confidential: c.confidential.clone(),
                    channel: Some(r.channel.as_str().to_string()),
                };
                let created = ev::Created::Registered(Box::new(registered));
                self.event_by(r.who, case, r.now, CaseEvent::Created(created))
            })
            .collect();
        append_all(tx, events).await?;
        cases
            .into_iter()
            .map(|case| {
                let company = companies
                    .values()
                    .find(|c| c.id == case.company_id)
                    .cloned()
                    .ok_or_else(|| ServiceError::Internal("a case without its company".into()))?;
                Ok(Registered { case, company })
            })
            .collect()
    }

    /// Checks a new case: every bad field is named at once, and nothing is written.
    async fn check_new_case(
        &self,
        actor: &Actor,
        input: NewCase,
        now: DateTime<Utc>,
    ) -> ServiceResult<NewCaseChecked> {
        let mut p = Problems::default();
        let org_number = match input.org_number.as_deref() {
            None => {
                p.add("org_number", "is required");
                None
            }
            Some(s) => p.check("org_number", OrgNumber::parse(s)),
        };
        let company_name = p.text("company_name", input.company_name.as_deref(), 1, 200);
        let area = match input.area.as_deref() {
            None => {
                p.add("area", "is required");
                None
            }
            Some(a) => p.check("area", a.parse::<Area>()),
        };
        let case_type = match area {
            Some(a) => {
                self.check_case_type(&mut p, a, input.case_type.as_deref())
                    .await?
            }
            None => None,
        };
        let priority = match input.priority.as_deref() {
            None => Some(Priority::Normal),
            Some(x) => p.check("priority", x.trim().parse::<Priority>()),
        };
        let labels = check_labels(&mut p, input.labels.as_deref().unwrap_or_default());
        let confidential = input
            .confidential
            .as_ref()
            .and_then(|c| parse_confidential(&mut p, "confidential", c));
        let title = p.text("title", input.title.as_deref(), 1, 200);
        let description = p.text("description", input.description.as_deref(), 0, 20_000);
        let received_at = match input.received_at.as_deref() {
            None => Some(now),
            Some(s) => parse_instant(s, now)
                .map_err(|m| p.add("received_at", m))
                .ok(),
        };
        let department = self
            .case_department(&mut p, actor, input.department.as_deref())
            .await?;
        let assignee = match (input.assignee.as_deref(), &department) {
            (Some(name), Some(dep)) => self.assignable(&mut p, name, dep.id).await?,
            _ => None,
        };
        p.finish()?;
        let (
            Some(org_number),
            Some(company_name),
            Some(area),
            Some(case_type),
            Some(title),
            Some(description),
        ) = (
            org_number,
            company_name,
            area,
            case_type,
            title,
            description,
        )
        else {
            return Err(ServiceError::Internal("validated fields missing".into()));
        };
        let (Some(department), Some(received_at), Some(priority)) =
            (department, received_at, priority)
        else {
            return Err(ServiceError::Internal("validated fields missing".into()));
        };
        Ok(NewCaseChecked {
            org_number,
            company_name,
            area,
            case_type,
            title,
            description,
            department,
            received_at,
            priority,
            labels,
            confidential,
            assignee,
        })
    }

    /// The case type of a new case in `area`: building cases default to the first type (a
    /// permit); elsewhere a type is optional. `Some(None)`: no type; `None`: refused.
    pub(crate) async fn check_case_type(
        &self,
        p: &mut Problems,
        area: Area,
        given: Option<&str>,
    ) -> ServiceResult<Option<Option<String>>> {
        let types = crate::case_types::active_types(&self.db, area).await?;
        Ok(match (types.as_slice(), given) {
            ([], Some(_)) => {
                p.add("case_type", format!("the area {area} has no case types"));
                None
            }
            (types, None) if area.case_types().is_empty() || types.is_empty() => Some(None),
            (types, None) => Some(Some(types[0].clone())),
            (types, Some(t)) if types.iter().any(|x| x == t.trim()) => {
                Some(Some(t.trim().to_string()))
            }
            (types, Some(_)) => {
                p.add("case_type", format!("must be one of: {}", types.join(", ")));
                None
            }
        })
    }

    /// The department a new case is registered in: the one named, or the caller's.
    async fn case_department(
        &self,
        p: &mut Problems,
        actor: &Actor,
        code: Option<&str>,
    ) -> ServiceResult<Option<department::Model>> {
        Ok(match code {
            Some(code) => {
                let d = self.db.department_by_code(code.trim()).await?;
                if d.is_none() {
                    p.add("department", "no such department");
                }
                d
            }
            None => match actor.department_id {
                Some(id) => self.db.departments().await?.get(&id).cloned(),
                None => {
                    p.add(
                        "department",
                        "is required when the caller belongs to no department",
                    );
                    None
                }
            },
        })
    }

    pub async fn get(&self, actor: &Actor, id: i64) -> ServiceResult<CaseView> {
        Ok(self.get_with_access(actor, id).await?.0)
    }

    /// The case as the caller may see it, with what they may do with it (for pages that offer
    /// only the actions the caller may take).
    pub async fn get_with_access(
        &self,
        actor: &Actor,
        id: i64,
    ) -> ServiceResult<(CaseView, CaseAccess)> {
        let (view, case) = self.open(actor, id).await?;
        Ok((view, case.access))
    }

    /// The case as the caller may see it, and the case as read with the caller's access to it
    /// (for the `…_of` readers of its parts, so that a page reads the case once).
    pub async fn open(&self, actor: &Actor, id: i64) -> ServiceResult<(CaseView, Granted)> {
        let (case, company) = self.readable_with_company(actor, id).await?;
        let lookups = Lookups::load_with_companies(&self.db, company, case.assignee_id).await?;
        let deadline = self.deadline_view(&case)?;
        let mut v = lookups.case(case.case.clone(), deadline)?;
        v.redact(&case.access);
        Ok((v, case))
    }

    /// `open`, with the rows of every part a case page shows read at once on PostgreSQL, in
    /// one statement (each part was a round trip); on SQLite each is read when it is asked for,
    /// on the request's thread.
    pub async fn open_page(&self, actor: &Actor, id: i64) -> ServiceResult<(CaseView, Granted)> {
        let (v, case) = self.open(actor, id).await?;
        Ok((v, case.with_rows(&self.db, &page_parts()).await?))
    }

    pub async fn update(
        &self,
        actor: &Actor,
        id: i64,
        patch: CasePatch,
        if_match: Option<i64>,
    ) -> ServiceResult<CaseView> {
        let now = self.clock.now();
        let mut p = Problems::default();
        let title = patch
            .title
            .as_deref()
            .and_then(|t| p.text("title", Some(t), 1, 200));
        let description = patch
            .description
            .as_deref()
            .and_then(|d| p.text("description", Some(d), 0, 20_000));
        let priority = patch
            .priority
            .as_deref()
            .and_then(|x| p.check("priority", x.trim().parse::<Priority>()));
        let labels = patch.labels.as_deref().map(|l| check_labels(&mut p, l));
        let confidential = patch.confidential.as_ref().map(|c| {
            c.as_ref()
                .and_then(|c| parse_confidential(&mut p, "confidential", c))
        });
        if patch.title.is_none()
            && patch.description.is_none()
            && patch.assignee.is_none()
            && patch.priority.is_none()
            && patch.labels.is_none()
            && patch.confidential.is_none()
        {
            p.add(
                "body",
                "names no field to change (title, description, assignee, priority, labels, confidential)",
            );
        }
        p.finish()?;

        let tx = self.db.begin().await?;
        let case = self.owned(&tx, actor, id).await?;
        check_version(&case, if_match)?;
        let status = case_status(&case)?;
        if matches!(status, CaseStatus::Closed | CaseStatus::Withdrawn) {
            return Err(ServiceError::Conflict(format!(
                "the case is {status}; it can no longer be changed"
            )));
        }
        let mut changes = Changes::new();
        let mut model: case_record::ActiveModel = case.case.clone().into();
        if let Some(t) = title.filter(|t| *t != case.title) {
            changes.insert("title".into(), Change::new(&case.title, &t));
            model.title = Set(t);
        }
        if let Some(d) = description.filter(|d| *d != case.description) {
            changes.insert("description".into(), Change::new(&case.description, &d));
            model.description = Set(d);
        }
        if let Some(new_assignee) = &patch.assignee
            && let Some((new_id, change)) = self
                .reassignment(&tx, actor, &case, new_assignee.as_deref())
                .await?
        {
            changes.insert("assignee".into(), change);
            model.assignee_id = Set(new_id);
        }
        if let Some(pr) = priority.filter(|pr| pr.as_str() != case.priority) {
            changes.insert("priority".into(), Change::new(&case.priority, pr));
            model.priority = Set(pr.as_str().to_string());
        }
        if let Some(l) = labels.map(|l| json!(l)).filter(|l| *l != case.labels) {
            changes.insert("labels".into(), Change::new(&case.labels, &l));
            model.labels = Set(l);
        }
        if let Some(c) = confidential.filter(|c| *c != case.confidential_statute) {
            // Marking or lifting secrecy is the owning department's call, not an admin's.
            if !case.access.mark_confidential {
                return Err(ServiceError::Forbidden(
                    "only the owning department's officers and managers mark a case confidential"
                        .into(),
                ));
            }
            changes.insert(
                "confidential".into(),
                Change::new(&case.confidential_statute, &c),
            );
            model.confidential_statute = Set(c);
        }
        if changes.is_empty() {
            tx.commit().await?;
            return self.view_owned(actor, case.case).await;
        }
        let updated = save(&tx, model, &case, now).await?;
        append(
            &tx,
            self.event(
                actor,
                &updated,
                now,
                CaseEvent::Updated(ev::Updated { changes }),
            ),
        )
        .await?;
        tx.commit().await?;
        self.view_owned(actor, updated).await
    }

    /// The new assignee of `case` and the change as `{from, to}` usernames, if it changes and
    /// the caller may make that change.
    async fn reassignment(
        &self,
        tx: &DatabaseTransaction,
        actor: &Actor,
        case: &crate::access::Granted,
        name: Option<&str>,
    ) -> ServiceResult<Option<(Option<i64>, Change)>> {
        let mut p = Problems::default();
        let user = match name {
            Some(name) => self.assignable(&mut p, name, case.department_id).await?,
            None => None,
        };
        p.finish()?;
        let new_id = user.as_ref().map(|u| u.id);
        if new_id == case.assignee_id {
            return Ok(None);
        }
        check_may_assign(&case.access, actor, case.assignee_id, new_id)?;
        let old = lots_store::lookup::username(tx, case.assignee_id).await?;
        let change = Change::new(old, user.as_ref().map(|u| &u.username));
        Ok(Some((new_id, change)))
    }

    pub async fn transition(
        &self,
        actor: &Actor,
        id: i64,
        input: TransitionInput,
        if_match: Option<i64>,
    ) -> ServiceResult<CaseView> {
        let mut p = Problems::default();
        let to = match input.to.as_deref() {
            None => {
                p.add("to", "is required");
                None
            }
            Some(t) => p.check("to", t.parse::<CaseStatus>()),
        };
        let decision = input
            .decision
            .as_deref()
            .and_then(|d| p.check("decision", d.parse::<Decision>()));
        match (to, input.decision.is_some()) {
            (Some(CaseStatus::Decided), false) => {
                p.add("decision", "is required when `to` is `decided`")
            }
            (Some(t), true) if t != CaseStatus::Decided => {
                p.add("decision", "is only given when `to` is `decided`")
            }
            _ => {}
        }
        let reason = input
            .reason
            .as_deref()
            .and_then(|r| p.text("reason", Some(r), 0, 2000))
            .filter(|r| !r.is_empty());
        let deciding = to == Some(CaseStatus::Decided);
        for (field, given) in [
            ("legal_basis", input.legal_basis.is_some()),
            ("text", input.text.is_some()),
            ("valid_from", input.valid_from.is_some()),
            ("valid_to", input.valid_to.is_some()),
        ] {
            if given && to.is_some() && !deciding {
                p.add(field, "is only given when `to` is `decided`");
            }
        }
        let legal_basis =
            parse_legal_basis(&mut p, input.legal_basis.as_deref().unwrap_or_default());
        let text = p
            .text("text", input.text.as_deref(), 0, 50_000)
            .unwrap_or_default();
        let valid_from = parse_date(&mut p, "valid_from", input.valid_from.as_deref());
        let valid_to = parse_date(&mut p, "valid_to", input.valid_to.as_deref());
        check_validity(&mut p, decision, valid_from, valid_to);
        p.finish()?;
        let Some(to) = to else {
            return Err(ServiceError::Internal("validated fields missing".into()));
        };

        let tx = self.db.begin().await?;
        let case = self.owned(&tx, actor, id).await?;
        check_version(&case, if_match)?;
        let (updated, _) = self
            .change_status(&tx, actor, case.case, to, reason, decision)
            .await?;
        if let (CaseStatus::Decided, Some(outcome)) = (to, decision) {
            let details = DecisionDetails {
                legal_basis,
                text,
                valid_from,
                valid_to,
            };
            self.register_decision(&tx, actor, &updated, outcome, details)
                .await?;
        }
        tx.commit().await?;
        self.view_owned(actor, updated).await
    }

    /// Moves `case` to `to` inside `tx`: checks the lifecycle, writes what the change means for
    /// supplements, the `status_changed` event and the recomputed clock.
    pub(crate) async fn change_status(
        &self,
        tx: &DatabaseTransaction,
        actor: &Actor,
        case: case_record::Model,
        to: CaseStatus,
        reason: Option<String>,
        decision: Option<Decision>,
    ) -> ServiceResult<(case_record::Model, Option<supplement_request::Model>)> {
        self.change_status_by(tx, Who::Officer(actor), case, to, reason, decision)
            .await
    }

    /// `change_status` for whoever causes it: an officer, or the company (its supplement).
    pub(crate) async fn change_status_by(
        &self,
        tx: &DatabaseTransaction,
        who: Who<'_>,
        case: case_record::Model,
        to: CaseStatus,
        reason: Option<String>,
        decision: Option<Decision>,
    ) -> ServiceResult<(case_record::Model, Option<supplement_request::Model>)> {
        let now = self.clock.now();
        let from = case_status(&case)?;
        if !from.can_become(to) {
            let allowed: Vec<&str> = from.successors().iter().map(|s| s.as_str()).collect();
            return Err(ServiceError::Conflict(if allowed.is_empty() {
                format!("a {from} case cannot change status")
            } else {
                format!(
                    "a {from} case cannot become {to}; it may become: {}",
                    allowed.join(", ")
                )
            }));
        }
        let mut model: case_record::ActiveModel = case.clone().into();
        model.status = Set(to.as_str().to_string());
        if to == CaseStatus::Decided {
            model.decision = Set(decision.map(|d| d.as_str().to_string()));
            model.decided_at = Set(Some(now));
        }
        if matches!(to, CaseStatus::Closed | CaseStatus::Withdrawn) {
            model.closed_at = Set(Some(now));
        }
        let updated = save(tx, model, &case, now).await?;
        let request = self
            .supplement_side_effects(tx, who, &updated, (from, to), reason.as_deref(), now)
            .await?;
        let change = ev::StatusChanged {
            from,
            to,
            reason,
            decision,
        };
        append(
            tx,
            self.event_by(who, &updated, now, CaseEvent::StatusChanged(change)),
        )
        .await?;
        if to == CaseStatus::Decided {
            self.mail_company(
                tx,
                &updated,
                crate::company_mail::About::Decided(decision),
                now,
            )
            .await?;
        }
        let updated = if let Some(r) = &request {
            self.mail_company(
                tx,
                &updated,
                crate::company_mail::About::SupplementRequest(&r.message),
                now,
            )
            .await?;
            self.refresh_deadline(tx, updated).await?
        } else {
            updated
        };
        Ok((updated, request))
    }

    pub async fn add_note(
        &self,
        actor: &Actor,
        id: i64,
        input: NewNote,
    ) -> ServiceResult<NoteView> {
        let now = self.clock.now();
        let mut p = Problems::default();
        let text = p.text("text", input.text.as_deref(), 1, 20_000);
        let visibility = match input.visibility.as_deref() {
            None => Some(NoteVisibility::Internal),
            Some(v) => p.check("visibility", v.trim().parse::<NoteVisibility>()),
        };
        let confidential = input
            .confidential
            .as_ref()
            .and_then(|c| parse_confidential(&mut p, "confidential", c));
        if confidential.is_some() && visibility == Some(NoteVisibility::Public) {
            p.add("visibility", "a confidential note cannot be public");
        }
        p.finish()?;
        let text = text.unwrap_or_default();
        let visibility = visibility.unwrap_or(NoteVisibility::Internal);
        let tx = self.db.begin().await?;
        let case = self.owned(&tx, actor, id).await?;
        if confidential.is_some() && !case.access.mark_confidential {
            return Err(ServiceError::Forbidden(
                "only the owning department's officers and managers write confidential notes"
                    .into(),
            ));
        }
        let note = case_note::ActiveModel {
            case_id: Set(case.id),
            author_id: Set(actor.user_id),
            text: Set(text.clone()),
            created_at: Set(now),
            visibility: Set(visibility.as_str().to_string()),
            confidential_statute: Set(confidential.clone()),
            ..Default::default()
        }
        .insert(&tx)
        .await?;
        append(
            &tx,
            self.event(
                actor,
                &case,
                now,
                CaseEvent::NoteAdded(ev::NoteAdded {
                    note_id: note.id,
                    text: Some(text),
                    visibility: Some(visibility),
                    confidential,
                }),
            ),
        )
        .await?;
        tx.commit().await?;
        let lookups = Lookups::load(&self.db, [], [note.author_id]).await?;
        lookups.note(note)
    }

    pub async fn notes(&self, actor: &Actor, id: i64) -> ServiceResult<Vec<NoteView>> {
        let case = self.granted(actor, id).await?;
        let sight = case.access.sight;
        if case.confidential_statute.is_some() && !sight.confidential {
            return Ok(Vec::new());
        }
        let notes: Vec<case_note::Model> = case_note::Entity::find()
            .filter(case_note::Column::CaseId.eq(case.id))
            .order_by_asc(case_note::Column::Id)
            .all(self.db.reader())
            .await?
            .into_iter()
            .filter(|n| sight.confidential || n.confidential_statute.is_none())
            .collect();
        let lookups = Lookups::load(&self.db, [], notes.iter().map(|n| n.author_id)).await?;
        notes.into_iter().map(|n| lookups.note(n)).collect()
    }

    /// The case's history, oldest first.
    pub async fn events(&self, actor: &Actor, id: i64) -> ServiceResult<Vec<EventView>> {
        let case = self.granted(actor, id).await?;
        self.events_of(&case).await
    }

    /// `events` of a case the request has already read, with the caller's access to it.
    pub async fn events_of(&self, case: &Granted) -> ServiceResult<Vec<EventView>> {
        let sight = case.access.sight;
        let confidential = case.confidential_statute.is_some();
        let events = case
            .rows::<case_event::Entity>(&self.db, case_event::Column::CaseId)
            .await?;
        let lookups = Lookups::load(&self.db, [], events.iter().filter_map(|e| e.actor_id)).await?;
        events
            .iter()
            .map(|e| lookups.event(e, confidential, sight))
            .collect()
    }

    /// The user named `username` if a case of `department_id` may be assigned to them.
    async fn assignable(
        &self,
        p: &mut Problems,
        username: &str,
        department_id: i64,
    ) -> ServiceResult<Option<app_user::Model>> {
        let user = app_user::Entity::find()
            .filter(app_user::Column::Username.eq(username.trim()))
            .one(self.db.reader())
            .await?;
        Ok(match user {
            None => {
                p.add("assignee", "no such user");
                None
            }
            Some(u) if !u.active => {
                p.add("assignee", "the user is deactivated");
                None
            }
            Some(u) if u.department_id != Some(department_id) || u.role == Role::Admin.as_str() => {
                p.add(
                    "assignee",
                    "must be an officer or manager of the case's department",
                );
                None
            }
            Some(u) => Some(u),
        })
    }

    /// An event caused by `who`: an officer's as `event` makes it; the company's without an
    /// actor or a department.
    pub(crate) fn event_by(
        &self,
        who: Who<'_>,
        case: &case_record::Model,
        at: DateTime<Utc>,
        event: CaseEvent,
    ) -> NewEvent {
        match who {
            Who::Officer(actor) => self.event(actor, case, at, event),
            Who::Company => NewEvent {
                case_id: case.id,
                at,
                actor_id: None,
                department_id: None,
                event,
            },
        }
    }

    /// An event an officer (or admin) causes.
    pub fn event(
        &self,
        actor: &Actor,
        case: &case_record::Model,
        at: DateTime<Utc>,
        event: CaseEvent,
    ) -> NewEvent {
        NewEvent {
            case_id: case.id,
            at,
            actor_id: Some(actor.user_id),
            // The department the actor acted for: their own, or (admins) the case's.
            department_id: actor.department_id.or(Some(case.department_id)),
            event,
        }
    }

    /// The case as `access` lets the caller see it, through the one redaction step.
    pub async fn view_as(
        &self,
        access: &CaseAccess,
        case: case_record::Model,
    ) -> ServiceResult<CaseView> {
        let mut v = self.view(case).await?;
        v.redact(access);
        Ok(v)
    }

    /// The case as its department (or an admin) sees it after changing it.
    pub async fn view_owned(
        &self,
        actor: &Actor,
        case: case_record::Model,
    ) -> ServiceResult<CaseView> {
        let lookups = Lookups::for_cases(&self.db, std::slice::from_ref(&case)).await?;
        self.listed_view(actor, &lookups, case)
    }

    /// The view of `case` as `actor` sees it in a list (redacted as `access::listed` says),
    /// from lookups already loaded.
    pub(crate) fn listed_view(
        &self,
        actor: &Actor,
        lookups: &Lookups,
        case: case_record::Model,
    ) -> ServiceResult<CaseView> {
        let access = crate::access::listed(actor, &case);
        let deadline = self.deadline_view(&case)?;
        let mut view = lookups.case(case, deadline)?;
        view.redact(&access);
        Ok(view)
    }

    pub async fn view(&self, case: case_record::Model) -> ServiceResult<CaseView> {
        let lookups = Lookups::for_cases(&self.db, std::slice::from_ref(&case)).await?;
        let deadline = self.deadline_view(&case)?;
        lookups.case(case, deadline)
    }
}

/// Checks labels: at most 20, each 1–40 characters, duplicates dropped.
fn check_labels(p: &mut Problems, labels: &[String]) -> Vec<String> {
    if labels.len() > 20 {
        p.add("labels", "at most 20 labels");
        return Vec::new();
    }
    let mut out: Vec<String> = Vec::new();
    for (i, l) in labels.iter().enumerate() {
        if let Some(l) = p.check(&format!("labels[{i}]"), text_len(l.trim(), 1, 40))
            && !out.iter().any(|x| x == l)
        {
            out.push(l.to_string());
        }
    }
    out
}

/// Officers may take an unassigned case or give up their own; any other (re)assignment is for
/// managers and admins (the rule is `CaseAccess::may_assign`).
fn check_may_assign(
    access: &CaseAccess,
    actor: &Actor,
    from: Option<i64>,
    to: Option<i64>,
) -> ServiceResult<()> {
    if access.may_assign(actor.user_id, from, to) {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(
            "only a manager may assign a case to someone else".into(),
        ))
    }
}

pub(crate) fn check_version(case: &case_record::Model, if_match: Option<i64>) -> ServiceResult<()> {
    check_if_match(if_match, case.version)
}

/// Refuses a change whose `If-Match` names a version other than `current`; none means any.
pub(crate) fn check_if_match(if_match: Option<i64>, current: i64) -> ServiceResult<()> {
    match if_match {
        Some(v) if v != current => Err(ServiceError::PreconditionFailed { current }),
        _ => Ok(()),
    }
}

/// Writes `model` with the next version, only if nobody else changed the row since `before`
/// was read; a concurrent change makes this a conflict instead of a lost update.
pub async fn save(
    tx: &DatabaseTransaction,
    mut model: case_record::ActiveModel,
    before: &case_record::Model,
    now: DateTime<Utc>,
) -> ServiceResult<case_record::Model> {
    model.version = Set(before.version + 1);
    model.updated_at = Set(now);
    let result = case_record::Entity::update_many()
        .set(model)
        .filter(case_record::Column::Id.eq(before.id))
        .filter(case_record::Column::Version.eq(before.version))
        .exec(tx)
        .await?;
    if result.rows_affected != 1 {
        return Err(ServiceError::Conflict(
            "the case was changed at the same time; try again".into(),
        ));
    }
    case_record::Entity::find_by_id(before.id)
        .one(tx)
        .await?
        .ok_or(ServiceError::NotFound("case"))
}

/// The year of a registration's diarienummer: the year in Sweden at `now`.
fn diary_year(now: DateTime<Utc>) -> i32 {
    TIME_ZONE.from_utc_datetime(&now.naive_utc()).year()
}

/// The companies by organisation number, inserting with the name given (the first, if a
/// number comes twice) each whose number is new. An existing company keeps its name: the
/// register is shared by every department, so one officer's spelling on one case never renames
/// the company for all (the name given is kept in the case's `created` event).
pub(crate) async fn upsert_companies<'a>(
    tx: &DatabaseTransaction,
    companies: impl IntoIterator<Item = (&'a OrgNumber, &'a str)>,
    now: DateTime<Utc>,
) -> ServiceResult<HashMap<String, company::Model>> {
    // One row a number (a statement may not change a row twice), in the numbers' order, so
    // that transactions which share companies lock them in the same order.
    let mut names: BTreeMap<&str, &str> = BTreeMap::new();
    for (org, name) in companies {
        names.entry(org.as_str()).or_insert(name);
    }
    if names.is_empty() {
        return Ok(HashMap::new());
    }
    let mut stmt = Query::insert()
        .into_table(company::Entity)
        .columns([
            company::Column::OrgNumber,
            company::Column::Name,
            company::Column::CreatedAt,
            company::Column::UpdatedAt,
        ])
        .to_owned();
    for (org, name) in &names {
        stmt.values_panic([(*org).into(), (*name).into(), now.into(), now.into()]);
    }
    stmt.on_conflict(
        OnConflict::column(company::Column::OrgNumber)
            // A no-op update, so that RETURNING yields the existing rows.
            .update_column(company::Column::OrgNumber)
            .to_owned(),
    )
    .returning(Query::returning().all());
    let stored = tx
        .query_all(&stmt)
        .await?
        .iter()
        .map(|row| {
            let c = company::Model::from_query_result(row, "")?;
            Ok((c.org_number.clone(), c))
        })
        .collect::<Result<HashMap<_, _>, DbErr>>()?;
    if stored.len() != names.len() {
        return Err(ServiceError::Internal(
            "the company upsert missed a company".into(),
        ));
    }
    Ok(stored)
}

/// Serials taken from departments' diaries, handed out in order.
struct Serials(HashMap<(i64, i32), i64>);

impl Serials {
    /// The next serial taken for department `department_id`'s diary of `year`.
    fn next(&mut self, department_id: i64, year: i32) -> ServiceResult<u32> {
        let next = self
            .0
            .get_mut(&(department_id, year))
            .ok_or_else(|| ServiceError::Internal("no serial was taken for a case".into()))?;
        let serial = *next;
        *next += 1;
        u32::try_from(serial).map_err(|_| ServiceError::Internal("diary series exhausted".into()))
    }
}

/// Takes a serial of a department's diary for `year` for each `(department, year)` given, all
/// in one statement. The row locks taken by the upsert (or SQLite's single writer) serialise
/// concurrent registrations until commit, and a rollback returns the serials, so the series has
/// neither gaps nor duplicates. Rows are taken in key order, so that two transactions never
/// wait for each other's rows.
async fn take_serials(
    tx: &DatabaseTransaction,
    keys: impl IntoIterator<Item = (i64, i32)>,
) -> ServiceResult<Serials> {
    use lots_store::entity::reference_series::{Column, Entity};
    let mut counts: BTreeMap<(i64, i32), i64> = BTreeMap::new();
    for key in keys {
        *counts.entry(key).or_default() += 1;
    }
    if counts.is_empty() {
        return Ok(Serials(HashMap::new()));
    }
    let mut stmt = Query::insert()
        .into_table(Entity)
        .columns([Column::DepartmentId, Column::Year, Column::LastSerial])
        .to_owned();
    for ((department_id, year), n) in &counts {
        stmt.values_panic([(*department_id).into(), (*year).into(), (*n).into()]);
    }
    stmt.on_conflict(
        OnConflict::columns([Column::DepartmentId, Column::Year])
            .value(
                Column::LastSerial,
                Expr::col((Entity, Column::LastSerial))
                    .add(Expr::col((Alias::new("excluded"), Column::LastSerial))),
            )
            .to_owned(),
    )
    .returning(Query::returning().columns([
        Column::DepartmentId,
        Column::Year,
        Column::LastSerial,
    ]));
    let mut first = HashMap::with_capacity(counts.len());
    for row in tx.query_all(&stmt).await? {
        let key: (i64, i32) = (row.try_get_by_index(0)?, row.try_get_by_index(1)?);
        let last: i64 = row.try_get_by_index(2)?;
        let n = counts
            .get(&key)
            .ok_or_else(|| ServiceError::Internal("a serial for no case".into()))?;
        first.insert(key, last - n + 1);
    }
    if first.len() != counts.len() {
        return Err(ServiceError::Internal(
            "a diary series was not advanced".into(),
        ));
    }
    Ok(Serials(first))
}

/// Parses an RFC 3339 instant that must not lie in the future nor before 1990.
pub fn parse_instant(s: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let at = DateTime::parse_from_rfc3339(s.trim())
        .map_err(|_| "must be an RFC 3339 instant, e.g. 2026-11-02T09:00:00Z".to_string())?
        .with_timezone(&Utc);
    let at = chrono::SubsecRound::trunc_subsecs(at, 6);
    if at > now {
        return Err("must not lie in the future".into());
    }
    if at.year() < 1990 {
        return Err("must not lie before 1990".into());
    }
    Ok(at)
}

/// The parts of a case that its page shows, each a table of rows that hold the case's id.
pub fn page_parts() -> [Part; 9] {
    use lots_store::entity::{
        case_attachment, case_decision, case_follow_link, case_message, case_party, case_premises,
        handoff, supplement_request,
    };
    [
        Part::of::<case_event::Entity>(case_event::Column::CaseId),
        Part::of::<handoff::Entity>(handoff::Column::CaseId),
        Part::of::<supplement_request::Entity>(supplement_request::Column::CaseId),
        Part::of::<case_message::Entity>(case_message::Column::CaseId),
        Part::of::<case_party::Entity>(case_party::Column::CaseId),
        Part::of::<case_premises::Entity>(case_premises::Column::CaseId),
        Part::of::<case_attachment::Entity>(case_attachment::Column::CaseId),
        Part::of::<case_decision::Entity>(case_decision::Column::CaseId),
        Part::of::<case_follow_link::Entity>(case_follow_link::Column::CaseId),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_in_the_future_or_malformed_are_refused() {
        let now = Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).unwrap();
        assert!(parse_instant("2026-11-27T12:00:01Z", now).is_err());
        assert!(parse_instant("2026-11-27", now).is_err());
        assert!(parse_instant("1989-12-31T23:00:00Z", now).is_err());
        assert_eq!(parse_instant("2026-11-27T13:00:00+01:00", now), Ok(now));
    }
}
