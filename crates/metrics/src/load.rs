//! Loads metric records from the store: cases in the caller's scope matching the filters, with
//! their handoffs and survey answers, in one query per table.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use lots_cases::{FieldError, ServiceError, ServiceResult};
use lots_core::{Actor, Area, Role, TIME_ZONE};
use lots_store::Db;
use lots_store::entity::{case_record, department, handoff, survey_response};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder};
use serde::Deserialize;

use crate::records::{CaseRecord, HandoffRecord, SurveyRecord};

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
    /// `department`, `area` or `month` where the metric groups.
    pub group_by: Option<String>,
}

/// Managers and admins only; a manager sees their own department's cases.
pub async fn load(db: &Db, actor: &Actor, filter: &MetricFilter) -> ServiceResult<Vec<CaseRecord>> {
    if actor.role == Role::Officer {
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
    let mut cond = Condition::all();
    if let Some(scope) = actor.department_scope() {
        cond = cond.add(case_record::Column::DepartmentId.eq(scope));
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
    if let Some(from) = day("from", &filter.from, &mut errors).and_then(start) {
        cond = cond.add(case_record::Column::ReceivedAt.gte(from));
    }
    if let Some(to) = day("to", &filter.to, &mut errors)
        .and_then(|d| d.succ_opt())
        .and_then(start)
    {
        cond = cond.add(case_record::Column::ReceivedAt.lt(to));
    }
    if let Some(code) = filter
        .department
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        match deps.iter().find(|(_, c)| c.as_str() == code) {
            Some((id, _)) => cond = cond.add(case_record::Column::DepartmentId.eq(*id)),
            None => errors.push(FieldError {
                field: "department".into(),
                message: "no such department".into(),
            }),
        }
    }
    if let Some(a) = filter
        .area
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty())
    {
        match a.parse::<Area>() {
            Ok(area) => cond = cond.add(case_record::Column::Area.eq(area.as_str())),
            Err(e) => errors.push(FieldError {
                field: "area".into(),
                message: e.to_string(),
            }),
        }
    }
    if !errors.is_empty() {
        return Err(ServiceError::Validation(errors));
    }
    let cases = case_record::Entity::find()
        .filter(cond)
        .order_by_asc(case_record::Column::Id)
        .all(db.reader())
        .await?;
    let ids: Vec<i64> = cases.iter().map(|c| c.id).collect();
    let mut handoffs: HashMap<i64, Vec<handoff::Model>> = HashMap::new();
    let mut surveys: HashMap<i64, survey_response::Model> = HashMap::new();
    // IN lists in chunks, so that any number of cases stays within the backends' limits.
    for chunk in ids.chunks(10_000) {
        for h in handoff::Entity::find()
            .filter(handoff::Column::CaseId.is_in(chunk.to_vec()))
            .order_by_asc(handoff::Column::Id)
            .all(db.reader())
            .await?
        {
            handoffs.entry(h.case_id).or_default().push(h);
        }
        for s in survey_response::Entity::find()
            .filter(survey_response::Column::CaseId.is_in(chunk.to_vec()))
            .all(db.reader())
            .await?
        {
            surveys.insert(s.case_id, s);
        }
    }
    let code = |id: i64| deps.get(&id).cloned().unwrap_or_default();
    Ok(cases
        .into_iter()
        .map(|c| {
            let hs = handoffs.remove(&c.id).unwrap_or_default();
            // Owners: the first department from receipt, then each accepted transfer.
            let mut owners: Vec<(String, DateTime<Utc>)> = Vec::new();
            let transfers: Vec<&handoff::Model> = hs
                .iter()
                .filter(|h| h.kind == "transfer" && h.accepted_at.is_some())
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
            CaseRecord {
                id: c.id,
                reference: c.reference,
                area: c.area,
                case_type: c.case_type,
                department: code(c.department_id),
                status: c.status,
                received_at: c.received_at,
                complete_at: c.complete_at,
                decided_at: c.decided_at,
                due_date: c.due_date,
                owners,
                handoffs: hs
                    .into_iter()
                    .map(|h| HandoffRecord {
                        kind: h.kind,
                        from: code(h.from_department_id),
                        to: code(h.to_department_id),
                        status: h.status,
                        requested_at: h.requested_at,
                        accepted_at: h.accepted_at,
                        completed_at: h.completed_at,
                        closed_at: h.closed_at,
                    })
                    .collect(),
                survey: surveys.remove(&c.id).map(|s| SurveyRecord {
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
            }
        })
        .collect())
}
