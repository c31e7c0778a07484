//! Loads metric records from the store: cases in the caller's scope matching the filters, with
//! their handoffs and survey answers, in one query per table; and the checked filters
//! (`Criteria`) that the metrics cache applies in memory.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use lots_cases::{FieldError, ServiceError, ServiceResult};
use lots_core::{Actor, Area, CaseStatus, EventKind, HandoffKind, HandoffStatus, TIME_ZONE};
use lots_store::Db;
use lots_store::entity::{case_event, case_record, department, handoff, survey_response};
use lots_store::stored::{CorruptRow, stored};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::Deserialize;

use crate::records::{CaseRecord, Code, HandoffRecord, Interner, SurveyRecord};

/// The filters every metric takes.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MetricFilter {
    /// From this date (YYYY-MM-DD), by the day the case was received.
    pub from: Option<String>,
    /// Up to and including this date.
    pub to: Option<String>,
    /// A department code (managers: only their own).
    pub department: Option<String>,
    pub area: Option<String>,
    /// `department`, `area`, `month` or `channel` where the metric groups.
    pub group_by: Option<String>,
}

/// What a metric request selects, checked: the caller's scope and the filters.
#[derive(Debug, Clone, Default)]
pub struct Criteria {
    /// Received at or after.
    pub from: Option<DateTime<Utc>>,
    /// Received before.
    pub before: Option<DateTime<Utc>>,
    /// Department codes the case's current owner must have (the scope and the filter).
    pub departments: Vec<String>,
    pub area: Option<String>,
    /// The cut months' cells as this request reads them, read once (`rollup::read::CutCells`).
    pub cut_cells: std::sync::Arc<crate::rollup::read::CutCells>,
}

impl Criteria {
    pub fn matches(&self, c: &CaseRecord) -> bool {
        self.from.is_none_or(|t| c.received_at >= t)
            && self.before.is_none_or(|t| c.received_at < t)
            && self.departments.iter().all(|d| c.department == *d)
            && self.area.as_ref().is_none_or(|a| c.area == *a)
    }
}

/// Checks the caller and the filters: managers and admins only; a manager sees their own
/// department's cases.
pub async fn criteria(db: &Db, actor: &Actor, filter: &MetricFilter) -> ServiceResult<Criteria> {
    if !lots_core::access::may(actor, lots_core::access::Capability::ReadMetrics) {
        return Err(ServiceError::Forbidden(
            "metrics are for managers and admins".into(),
        ));
    }
    let mut errors = Vec::new();
    let deps: HashMap<i64, String> = department::Entity::find()
        .all(db.reader())
        .await?
        .into_iter()
        .map(|d| (d.id, d.code))
        .collect();
    let mut criteria = Criteria::default();
    if let Some(scope) = lots_core::access::ListScope::of(actor).department {
        criteria
            .departments
            .push(deps.get(&scope).cloned().unwrap_or_default());
    }
    let day =
        |field: &str, v: &Option<String>, errors: &mut Vec<FieldError>| -> Option<NaiveDate> {
            let v = v.as_deref().map(str::trim).filter(|v| !v.is_empty())?;
            match v.parse::<NaiveDate>() {
                Ok(d) => Some(d),
                Err(_) => {
                    errors.push(FieldError {
                        field: field.into(),
                        message: "must be a date, YYYY-MM-DD".into(),
                    });
                    None
                }
            }
        };
    let start = |d: NaiveDate| {
        TIME_ZONE
            .from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default())
            .earliest()
            .map(|t| t.with_timezone(&Utc))
    };
    criteria.from = day("from", &filter.from, &mut errors).and_then(start);
    criteria.before = day("to", &filter.to, &mut errors)
        .and_then(|d| d.succ_opt())
        .and_then(start);
    if let Some(code) = filter
        .department
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        if deps.values().any(|c| c == code) {
            criteria.departments.push(code.to_string());
        } else {
            errors.push(FieldError {
                field: "department".into(),
                message: "no such department".into(),
            });
        }
    }
    if let Some(a) = filter
        .area
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty())
    {
        match a.parse::<Area>() {
            Ok(area) => criteria.area = Some(area.as_str().to_string()),
            Err(e) => errors.push(FieldError {
                field: "area".into(),
                message: e.to_string(),
            }),
        }
    }
    if !errors.is_empty() {
        return Err(ServiceError::Validation(errors));
    }
    Ok(criteria)
}

/// The cases the caller may see that match the filters, read from the store.
pub async fn load(db: &Db, actor: &Actor, filter: &MetricFilter) -> ServiceResult<Vec<CaseRecord>> {
    let criteria = criteria(db, actor, filter).await?;
    let mut cond = Condition::all();
    if let Some(from) = criteria.from {
        cond = cond.add(case_record::Column::ReceivedAt.gte(from));
    }
    if let Some(before) = criteria.before {
        cond = cond.add(case_record::Column::ReceivedAt.lt(before));
    }
    let mut records = read(db, cond, None).await?;
    records.retain(|c| criteria.matches(c));
    Ok(records)
}

/// Reads the records of the cases that meet `cond`, or of the cases `ids` when given, in one
/// query per table (IN lists in chunks, within the backends' limits).
pub async fn read(db: &Db, cond: Condition, ids: Option<&[i64]>) -> Result<Vec<CaseRecord>, DbErr> {
    read_on(db.reader(), cond, ids).await
}

/// As [`read`], on the connection or transaction given.
pub async fn read_on<C: ConnectionTrait>(
    db: &C,
    cond: Condition,
    ids: Option<&[i64]>,
) -> Result<Vec<CaseRecord>, DbErr> {
    if ids.is_some() {
        return read_some(db, cond, ids, Parts::Whole).await;
    }
    // Every case, a page of ids at a time: the rows read to build a page are freed before the
    // next, so that reading a million cases does not hold them all at once.
    let mut out = Vec::new();
    let mut last = 0i64;
    loop {
        let page: Vec<i64> = case_record::Entity::find()
            .select_only()
            .column(case_record::Column::Id)
            .filter(cond.clone())
            .filter(case_record::Column::Id.gt(last))
            .order_by_asc(case_record::Column::Id)
            .limit(50_000)
            .into_tuple()
            .all(db)
            .await?;
        let Some(&end) = page.last() else { break };
        last = end;
        out.extend(read_some(db, Condition::all(), Some(&page), Parts::Whole).await?);
    }
    Ok(out)
}

/// The cases `ids` as records of their own row alone: no owners, handoffs, answer or status
/// changes (what a list of cases shows: the deadlines').
pub async fn read_rows<C: ConnectionTrait>(db: &C, ids: &[i64]) -> Result<Vec<CaseRecord>, DbErr> {
    let deps = department_codes(db).await?;
    let mut codes = Interner::default();
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(10_000) {
        for c in case_record::Entity::find()
            .filter(case_record::Column::Id.is_in(chunk.to_vec()))
            .order_by_asc(case_record::Column::Id)
            .all(db)
            .await?
        {
            let department = codes.code(deps.get(&c.department_id).map_or("", String::as_str));
            out.push(plain_record(c, &mut codes, department)?);
        }
    }
    Ok(out)
}

/// Every department's code by id.
async fn department_codes<C: ConnectionTrait>(db: &C) -> Result<HashMap<i64, String>, DbErr> {
    Ok(department::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|d| (d.id, d.code))
        .collect())
}

/// A case's record from its own row alone, owned by `department` since receipt.
fn plain_record(
    c: case_record::Model,
    codes: &mut Interner,
    department: Code,
) -> Result<CaseRecord, DbErr> {
    let area: Area = stored("case_record", c.id, &c.area)?;
    let status: CaseStatus = stored("case_record", c.id, &c.status)?;
    Ok(CaseRecord {
        id: c.id,
        reference: c.reference,
        area: codes.code(area.as_str()),
        case_type: c.case_type.as_deref().map(|t| codes.code(t)),
        department: department.clone(),
        channel: codes.code(&c.channel),
        status: codes.code(status.as_str()),
        received_at: c.received_at,
        complete_at: c.complete_at,
        decided_at: c.decided_at,
        due_date: c.due_date,
        owners: vec![(department, c.received_at)],
        handoffs: Vec::new(),
        survey: None,
        status_changes: Vec::new(),
    })
}

/// What of a case's history a record is read with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Parts {
    Whole,
    /// Without its status changes (events of the log): the rows, handoffs and answer alone.
    WithoutStatusChanges,
}

/// The cases `ids` as records without their status changes: what the case export shows (its
/// owners, handoffs and departments come from the handoffs), read without the event log.
pub async fn read_without_status_changes(db: &Db, ids: &[i64]) -> Result<Vec<CaseRecord>, DbErr> {
    read_some(
        db.reader(),
        Condition::all(),
        Some(ids),
        Parts::WithoutStatusChanges,
    )
    .await
}

async fn read_some<C: ConnectionTrait>(
    db: &C,
    cond: Condition,
    ids: Option<&[i64]>,
    parts: Parts,
) -> Result<Vec<CaseRecord>, DbErr> {
    let deps = department_codes(db).await?;
    let Rows {
        mut cases,
        mut handoffs,
        mut surveys,
    } = rows(db, cond, ids).await?;
    cases.sort_by_key(|c| c.id);
    let mut codes = Interner::default();
    let mut changes = match parts {
        Parts::Whole => status_changes(db, ids, &mut codes).await?,
        Parts::WithoutStatusChanges => HashMap::new(),
    };
    let deps: HashMap<i64, Code> = deps
        .into_iter()
        .map(|(id, c)| (id, codes.code(&c)))
        .collect();
    let code = |id: i64| deps.get(&id).cloned().unwrap_or_default();
    cases
        .into_iter()
        .map(|c| -> Result<CaseRecord, DbErr> {
            // Each handoff with its kind and status, read once here.
            let hs = handoffs
                .remove(&c.id)
                .unwrap_or_default()
                .into_iter()
                .map(|h| {
                    let kind: HandoffKind = stored("handoff", h.id, &h.kind)?;
                    let status: HandoffStatus = stored("handoff", h.id, &h.status)?;
                    Ok((kind, status, h))
                })
                .collect::<Result<Vec<_>, CorruptRow>>()?;
            let c_department = c.department_id;
            // Owners: the first department from receipt, then each accepted transfer.
            let mut owners: Vec<(Code, DateTime<Utc>)> = Vec::new();
            let transfers: Vec<&handoff::Model> = hs
                .iter()
                .filter(|(kind, _, h)| *kind == HandoffKind::Transfer && h.accepted_at.is_some())
                .map(|(_, _, h)| h)
                .collect();
            let first = transfers
                .first()
                .map_or(c.department_id, |t| t.from_department_id);
            owners.push((code(first), c.received_at));
            for t in &transfers {
                if let Some(at) = t.accepted_at {
                    owners.push((code(t.to_department_id), at));
                }
            }
            let id = c.id;
            let base = plain_record(c, &mut codes, code(c_department))?;
            Ok(CaseRecord {
                owners,
                handoffs: hs
                    .into_iter()
                    .map(|(kind, status, h)| HandoffRecord {
                        kind: codes.code(kind.as_str()),
                        from: code(h.from_department_id),
                        to: code(h.to_department_id),
                        status: codes.code(status.as_str()),
                        requested_at: h.requested_at,
                        accepted_at: h.accepted_at,
                        completed_at: h.completed_at,
                        closed_at: h.closed_at,
                    })
                    .collect(),
                status_changes: changes.remove(&id).unwrap_or_default(),
                survey: surveys.remove(&id).map(|s| SurveyRecord {
                    nki: s.nki,
                    factors: [
                        s.i_information,
                        s.i_accessibility,
                        s.i_treatment,
                        s.i_competence,
                        s.i_legal_certainty,
                        s.i_efficiency,
                    ],
                }),
                ..base
            })
        })
        .collect()
}

/// The rows a batch of metric records is built from.
struct Rows {
    cases: Vec<case_record::Model>,
    handoffs: HashMap<i64, Vec<handoff::Model>>,
    surveys: HashMap<i64, survey_response::Model>,
}

/// The cases matching `cond` (of `ids`, or all), their handoffs and their survey answers.
async fn rows<C: ConnectionTrait>(
    db: &C,
    cond: Condition,
    ids: Option<&[i64]>,
) -> Result<Rows, DbErr> {
    let mut cases = Vec::new();
    let mut handoffs: HashMap<i64, Vec<handoff::Model>> = HashMap::new();
    let mut surveys: HashMap<i64, survey_response::Model> = HashMap::new();
    match ids {
        Some(ids) => {
            for chunk in ids.chunks(10_000) {
                cases.extend(
                    case_record::Entity::find()
                        .filter(cond.clone())
                        .filter(case_record::Column::Id.is_in(chunk.to_vec()))
                        .all(db)
                        .await?,
                );
                for h in handoff::Entity::find()
                    .filter(handoff::Column::CaseId.is_in(chunk.to_vec()))
                    .order_by_asc(handoff::Column::Id)
                    .all(db)
                    .await?
                {
                    handoffs.entry(h.case_id).or_default().push(h);
                }
                for s in survey_response::Entity::find()
                    .filter(survey_response::Column::CaseId.is_in(chunk.to_vec()))
                    .all(db)
                    .await?
                {
                    surveys.insert(s.case_id, s);
                }
            }
        }
        None => {
            cases = case_record::Entity::find()
                .filter(cond)
                .order_by_asc(case_record::Column::Id)
                .all(db)
                .await?;
            // Handoffs and answers of every case: cheaper than IN lists when most are wanted.
            for h in handoff::Entity::find()
                .order_by_asc(handoff::Column::Id)
                .all(db)
                .await?
            {
                handoffs.entry(h.case_id).or_default().push(h);
            }
            for s in survey_response::Entity::find().all(db).await? {
                surveys.insert(s.case_id, s);
            }
        }
    }
    Ok(Rows {
        cases,
        handoffs,
        surveys,
    })
}

/// Each case's status changes from the event log, in order: when, and to which status.
async fn status_changes<C: ConnectionTrait>(
    db: &C,
    ids: Option<&[i64]>,
    codes: &mut Interner,
) -> Result<HashMap<i64, Vec<(DateTime<Utc>, Code)>>, DbErr> {
    let to = lots_store::dialect::json_text(db.get_database_backend(), "data", "to");
    let query = || {
        case_event::Entity::find()
            .select_only()
            .column(case_event::Column::Id)
            .column(case_event::Column::CaseId)
            .column(case_event::Column::At)
            .column_as(Expr::cust(to.clone()), "to")
            .filter(case_event::Column::Kind.eq(EventKind::StatusChanged.as_str()))
            .order_by_asc(case_event::Column::CaseId)
            .order_by_asc(case_event::Column::Id)
    };
    let mut rows: Vec<(i64, i64, DateTime<Utc>, Option<String>)> = Vec::new();
    match ids {
        Some(ids) => {
            for chunk in ids.chunks(10_000) {
                rows.extend(
                    query()
                        .filter(case_event::Column::CaseId.is_in(chunk.to_vec()))
                        .into_tuple()
                        .all(db)
                        .await?,
                );
            }
        }
        None => rows = query().into_tuple().all(db).await?,
    }
    let mut out: HashMap<i64, Vec<(DateTime<Utc>, Code)>> = HashMap::new();
    for (id, case_id, at, to) in rows {
        let to: CaseStatus = stored("case_event", id, to.as_deref().unwrap_or_default())?;
        out.entry(case_id)
            .or_default()
            .push((at, codes.code(to.as_str())));
    }
    Ok(out)
}
