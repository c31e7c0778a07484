//! The company view (all of a company's cases across departments, in full where the caller may
//! open them and as a coordinator's summary otherwise) and bundles (samordnade ärenden).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use lots_core::access::may_read_bundle;
use lots_core::case_event as ev;
use lots_core::{
    Actor, Area, CaseEvent, CaseStatus, HandoffKind, HandoffStatus, OrgNumber, OrgNumberKind,
    PartyRole, Role,
};
use lots_store::entity::{
    app_user, bundle, bundle_case, case_party, case_record, company, handoff,
};
use lots_store::events::append;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use serde::{Deserialize, Serialize};

use crate::cases::Cases;
use crate::error::{Problems, ServiceError, ServiceResult, is_unique_violation};
use crate::redact::Redact;
use crate::stored::{case_area, case_status, handoff_kind, handoff_status, open_handoff_statuses};
use crate::view::{CaseView, Lookups};

/// What a caller who may not open a case sees of it: enough to coordinate, nothing more.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseSummary {
    pub reference: String,
    /// Present (`true`) when the case is confidential: its content is never shown here.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub confidential: bool,
    pub area: Area,
    pub department: String,
    pub status: CaseStatus,
    pub received_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// The assigned officer's name.
    pub assignee_name: Option<String>,
}

/// One of a company's cases: `full` with the whole case, or `summary`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(tag = "access", rename_all = "snake_case")]
pub enum CompanyCase {
    Full { case: Box<CaseView> },
    Summary { summary: CaseSummary },
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CompanyView {
    pub org_number: String,
    pub name: String,
    /// `organisation`, or `personal` for a sole trader.
    #[schema(value_type = String)]
    pub kind: OrgNumberKind,
    /// Newest first, across every department: the cases the company applied for and those
    /// where it is a party in any role.
    pub cases: Vec<CompanyCaseRoles>,
}

/// One of a company's cases, with the roles the company holds on it (the case's own company is
/// its applicant).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CompanyCaseRoles {
    #[serde(flatten)]
    pub case: CompanyCase,
    pub roles: Vec<PartyRole>,
}

/// `POST /api/v1/bundles`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"org_number": "556012-5790", "title": "Restaurang Söderby: nyetablering", "coordinator": "karin"}))]
pub struct NewBundle {
    pub org_number: Option<String>,
    pub title: Option<String>,
    /// The coordinator's (företagslots) username.
    pub coordinator: Option<String>,
}

/// `POST /api/v1/bundles/{id}/cases`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BundleCaseInput {
    pub case_id: Option<i64>,
}

/// An open handoff, as shown beside a bundle's case.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HandoffBrief {
    pub id: i64,
    pub kind: HandoffKind,
    pub status: HandoffStatus,
    pub from_department: String,
    pub to_department: String,
    pub requested_at: DateTime<Utc>,
    pub due_date: Option<chrono::NaiveDate>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BundleCase {
    #[serde(flatten)]
    pub case: CompanyCase,
    pub open_handoffs: Vec<HandoffBrief>,
}

/// A bundle (samordnat ärende): a company's cases side by side, with one coordinator.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BundleView {
    pub id: i64,
    pub title: String,
    pub org_number: String,
    pub company_name: String,
    pub coordinator: String,
    pub coordinator_name: String,
    pub created_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub cases: Vec<BundleCase>,
}

/// The company view and bundles: a service of their own over the cases they gather (it asks
/// `Cases` who may read and change each case).
#[derive(Debug, Clone)]
pub struct Companies {
    cases: Cases,
}

impl Companies {
    pub fn new(cases: Cases) -> Self {
        Self { cases }
    }
    /// The org number, checked, and the company registered under it if there is one.
    async fn company_by_org_number(
        &self,
        org_number: &str,
    ) -> ServiceResult<(OrgNumber, Option<company::Model>)> {
        let org = OrgNumber::parse(org_number)
            .map_err(|e| ServiceError::invalid("org_number", e.to_string()))?;
        let co = company::Entity::find()
            .filter(company::Column::OrgNumber.eq(org.as_str()))
            .one(self.cases.db.reader())
            .await?;
        Ok((org, co))
    }

    pub async fn company(&self, actor: &Actor, org_number: &str) -> ServiceResult<CompanyView> {
        let (org, co) = self.company_by_org_number(org_number).await?;
        // The company is found through the case's own org number or any party role it holds.
        let parties = case_party::Entity::find()
            .filter(case_party::Column::OrgNumber.eq(org.as_str()))
            .order_by_asc(case_party::Column::Id)
            .all(self.cases.db.reader())
            .await?;
        let (name, company_id) = match (&co, parties.first()) {
            (Some(c), _) => (c.name.clone(), c.id),
            (None, Some(p)) => (p.name.clone(), -1),
            (None, None) => return Err(ServiceError::NotFound("company")),
        };
        let party_cases: Vec<i64> = parties.iter().map(|p| p.case_id).collect();
        let rows = case_record::Entity::find()
            .filter(
                Condition::any()
                    .add(case_record::Column::CompanyId.eq(company_id))
                    .add(case_record::Column::Id.is_in(party_cases)),
            )
            .order_by_desc(case_record::Column::Id)
            .all(self.cases.db.reader())
            .await?;
        let mut roles: HashMap<i64, Vec<PartyRole>> = HashMap::new();
        for p in &parties {
            let r: Vec<PartyRole> = serde_json::from_value(p.roles.clone()).unwrap_or_default();
            roles.entry(p.case_id).or_default().extend(r);
        }
        let applied: std::collections::HashSet<i64> = rows
            .iter()
            .filter(|c| c.company_id == company_id)
            .map(|c| c.id)
            .collect();
        let cases = self.company_cases(actor, rows).await?;
        Ok(CompanyView {
            org_number: org.as_str().to_string(),
            name,
            kind: org.kind(),
            cases: cases
                .into_iter()
                .map(|(id, case)| {
                    let mut r = roles.remove(&id).unwrap_or_default();
                    if applied.contains(&id) {
                        r.insert(0, PartyRole::Applicant);
                    }
                    r.sort();
                    r.dedup();
                    CompanyCaseRoles { case, roles: r }
                })
                .collect(),
        })
    }

    /// Each case in full if the caller may read it, else summarised; with the case ids.
    async fn company_cases(
        &self,
        actor: &Actor,
        rows: Vec<case_record::Model>,
    ) -> ServiceResult<Vec<(i64, CompanyCase)>> {
        let access = self
            .cases
            .access(self.cases.db.reader(), actor, &rows)
            .await?;
        let lookups = Lookups::for_cases(&self.cases.db, &rows).await?;
        rows.into_iter()
            .map(|c| {
                let id = c.id;
                // A confidential case is always only summarised here, whoever asks.
                let readable = access.get(&id).copied().filter(|a| a.read);
                if let Some(a) = readable.filter(|_| c.confidential_statute.is_none()) {
                    let deadline = self.cases.deadline_view(&c)?;
                    let mut case = lookups.case(c, deadline)?;
                    case.redact(&a);
                    Ok((
                        id,
                        CompanyCase::Full {
                            case: Box::new(case),
                        },
                    ))
                } else {
                    Ok((
                        id,
                        CompanyCase::Summary {
                            summary: summary(&lookups, c)?,
                        },
                    ))
                }
            })
            .collect()
    }

    pub async fn create_bundle(
        &self,
        actor: &Actor,
        input: NewBundle,
    ) -> ServiceResult<BundleView> {
        let now = self.cases.clock.now();
        let mut p = Problems::default();
        let org = match input.org_number.as_deref() {
            None => {
                p.add("org_number", "is required");
                None
            }
            Some(o) => p.check("org_number", OrgNumber::parse(o)),
        };
        let title = p.text("title", input.title.as_deref(), 1, 200);
        let company = match &org {
            Some(o) => {
                let c = company::Entity::find()
                    .filter(company::Column::OrgNumber.eq(o.as_str()))
                    .one(self.cases.db.reader())
                    .await?;
                if c.is_none() {
                    p.add("org_number", "no case has been registered for this company");
                }
                c
            }
            None => None,
        };
        let coordinator = match input.coordinator.as_deref() {
            None => {
                p.add("coordinator", "is required");
                None
            }
            Some(name) => {
                let u = app_user::Entity::find()
                    .filter(app_user::Column::Username.eq(name.trim()))
                    .one(self.cases.db.reader())
                    .await?;
                match u {
                    Some(u) if u.active && u.role != Role::Admin.as_str() => Some(u),
                    Some(_) => {
                        p.add("coordinator", "must be an active officer or manager");
                        None
                    }
                    None => {
                        p.add("coordinator", "no such user");
                        None
                    }
                }
            }
        };
        p.finish()?;
        let (Some(company), Some(title), Some(coordinator)) = (company, title, coordinator) else {
            return Err(ServiceError::Internal("validated fields missing".into()));
        };
        let b = bundle::ActiveModel {
            company_id: Set(company.id),
            title: Set(title),
            coordinator_id: Set(coordinator.id),
            created_by: Set(actor.user_id),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(self.cases.db.writer())
        .await?;
        self.bundle(actor, b.id).await
    }

    pub async fn bundle(&self, actor: &Actor, id: i64) -> ServiceResult<BundleView> {
        let b = self
            .visible_bundle(self.cases.db.reader(), actor, id)
            .await?;
        let members = bundle_case::Entity::find()
            .filter(bundle_case::Column::BundleId.eq(b.id))
            .all(self.cases.db.reader())
            .await?;
        let case_ids: Vec<i64> = members.iter().map(|m| m.case_id).collect();
        let rows = if case_ids.is_empty() {
            Vec::new()
        } else {
            case_record::Entity::find()
                .filter(case_record::Column::Id.is_in(case_ids.clone()))
                .order_by_asc(case_record::Column::Id)
                .all(self.cases.db.reader())
                .await?
        };
        let open = if case_ids.is_empty() {
            Vec::new()
        } else {
            handoff::Entity::find()
                .filter(handoff::Column::CaseId.is_in(case_ids))
                .filter(handoff::Column::Status.is_in(open_handoff_statuses()))
                .order_by_asc(handoff::Column::Id)
                .all(self.cases.db.reader())
                .await?
        };
        let cases = self.company_cases(actor, rows).await?;
        let lookups = Lookups::load(
            &self.cases.db,
            [b.company_id],
            [b.coordinator_id, b.created_by],
        )
        .await?;
        let dep = |id: i64| {
            lookups
                .departments
                .get(&id)
                .map(|d| d.code.clone())
                .unwrap_or_default()
        };
        let mut by_case: HashMap<i64, Vec<HandoffBrief>> = HashMap::new();
        for h in open {
            by_case.entry(h.case_id).or_default().push(HandoffBrief {
                id: h.id,
                kind: handoff_kind(&h)?,
                status: handoff_status(&h)?,
                from_department: dep(h.from_department_id),
                to_department: dep(h.to_department_id),
                requested_at: h.requested_at,
                due_date: h.due_date,
            });
        }
        let company = lookups.companies.get(&b.company_id);
        let coordinator = lookups.users.get(&b.coordinator_id);
        Ok(BundleView {
            id: b.id,
            title: b.title,
            org_number: company.map(|c| c.org_number.clone()).unwrap_or_default(),
            company_name: company.map(|c| c.name.clone()).unwrap_or_default(),
            coordinator: coordinator.map(|u| u.username.clone()).unwrap_or_default(),
            coordinator_name: coordinator
                .map(|u| u.display_name.clone())
                .unwrap_or_default(),
            created_by: lookups.username(Some(b.created_by)),
            created_at: b.created_at,
            cases: cases
                .into_iter()
                .map(|(id, case)| BundleCase {
                    case,
                    open_handoffs: by_case.remove(&id).unwrap_or_default(),
                })
                .collect(),
        })
    }

    pub async fn bundles(
        &self,
        actor: &Actor,
        org_number: Option<&str>,
    ) -> ServiceResult<Vec<BundleView>> {
        let mut query = bundle::Entity::find()
            .filter(crate::access::bundle_condition(actor))
            .order_by_desc(bundle::Column::Id);
        if let Some(o) = org_number.map(str::trim).filter(|o| !o.is_empty()) {
            let (_, co) = self.company_by_org_number(o).await?;
            query = query.filter(bundle::Column::CompanyId.eq(co.map_or(-1, |c| c.id)));
        }
        let mut out = Vec::new();
        for b in query.all(self.cases.db.reader()).await? {
            out.push(self.bundle(actor, b.id).await?);
        }
        Ok(out)
    }

    /// The bundle if the caller may see it (the rule is `access::may_read_bundle`); otherwise
    /// `NotFound`, as if it did not exist.
    async fn visible_bundle<C: ConnectionTrait>(
        &self,
        conn: &C,
        actor: &Actor,
        id: i64,
    ) -> ServiceResult<bundle::Model> {
        let b = bundle::Entity::find_by_id(id)
            .one(conn)
            .await?
            .ok_or(ServiceError::NotFound("bundle"))?;
        let deals_with_company = match actor.department_id {
            Some(dep) => case_record::Entity::find()
                .filter(case_record::Column::CompanyId.eq(b.company_id))
                .filter(case_record::Column::DepartmentId.eq(dep))
                .one(conn)
                .await?
                .is_some(),
            None => false,
        };
        if may_read_bundle(actor, b.coordinator_id, b.created_by, deals_with_company) {
            Ok(b)
        } else {
            Err(ServiceError::NotFound("bundle"))
        }
    }

    /// Adds a case to a bundle. Only the case's own department (or an admin) may, since it lets
    /// the coordinator read the case.
    pub async fn add_to_bundle(
        &self,
        actor: &Actor,
        bundle_id: i64,
        input: BundleCaseInput,
    ) -> ServiceResult<BundleView> {
        let now = self.cases.clock.now();
        let case_id = input
            .case_id
            .ok_or_else(|| ServiceError::invalid("case_id", "is required"))?;
        let tx = self.cases.db.begin().await?;
        let b = self.visible_bundle(&tx, actor, bundle_id).await?;
        let case = match self.cases.owned(&tx, actor, case_id).await {
            Err(ServiceError::NotFound(_)) => {
                return Err(ServiceError::invalid("case_id", "no such case"));
            }
            other => other?,
        };
        if case.company_id != b.company_id {
            return Err(ServiceError::invalid(
                "case_id",
                "the case belongs to another company than the bundle",
            ));
        }
        bundle_case::ActiveModel {
            bundle_id: Set(b.id),
            case_id: Set(case.id),
            added_by: Set(actor.user_id),
            added_at: Set(now),
        }
        .insert(&tx)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                ServiceError::Conflict("the case is already in the bundle".into())
            } else {
                e.into()
            }
        })?;
        let added = CaseEvent::BundleAdded(ev::BundleChange {
            bundle_id: b.id,
            title: b.title.clone(),
        });
        append(&tx, self.cases.event(actor, &case, now, added)).await?;
        tx.commit().await?;
        self.bundle(actor, bundle_id).await
    }

    /// Removes a case from a bundle: its department, the coordinator or an admin may.
    pub async fn remove_from_bundle(
        &self,
        actor: &Actor,
        bundle_id: i64,
        case_id: i64,
    ) -> ServiceResult<BundleView> {
        let now = self.cases.clock.now();
        let tx = self.cases.db.begin().await?;
        let b = self.visible_bundle(&tx, actor, bundle_id).await?;
        let member = bundle_case::Entity::find_by_id((b.id, case_id))
            .one(&tx)
            .await?
            .ok_or(ServiceError::NotFound("case in the bundle"))?;
        let case = case_record::Entity::find_by_id(member.case_id)
            .one(&tx)
            .await?
            .ok_or(ServiceError::NotFound("case"))?;
        if !(crate::access::listed(actor, &case).change || actor.user_id == b.coordinator_id) {
            return Err(ServiceError::Forbidden(
                "only the case's department or the bundle's coordinator may remove it".into(),
            ));
        }
        bundle_case::Entity::delete_by_id((b.id, case_id))
            .exec(&tx)
            .await?;
        append(
            &tx,
            self.cases.event(
                actor,
                &case,
                now,
                CaseEvent::BundleRemoved(ev::BundleChange {
                    bundle_id: b.id,
                    title: b.title.clone(),
                }),
            ),
        )
        .await?;
        tx.commit().await?;
        self.bundle(actor, bundle_id).await
    }
}

fn summary(lookups: &Lookups, c: case_record::Model) -> ServiceResult<CaseSummary> {
    Ok(CaseSummary {
        confidential: c.confidential_statute.is_some(),
        area: case_area(&c)?,
        status: case_status(&c)?,
        reference: c.reference,
        department: lookups
            .departments
            .get(&c.department_id)
            .map(|d| d.code.clone())
            .unwrap_or_default(),
        received_at: c.received_at,
        decided_at: c.decided_at,
        closed_at: c.closed_at,
        assignee_name: c
            .assignee_id
            .and_then(|id| lookups.users.get(&id))
            .map(|u| u.display_name.clone()),
    })
}
