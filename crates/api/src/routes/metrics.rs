//! Metrics for managers and admins, and the case export. Each answers within the caller's
//! scope (a manager: their department) and takes `from`, `to`, `department` and `area`.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use lots_metrics::compute::{self, Bottlenecks, Deadlines, HandlingTimes, Linkage, NkiGroup};
use lots_metrics::{CaseRecord, GroupBy, MetricFilter};
use serde::Serialize;

use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::ApiQuery;
use crate::state::AppState;

#[derive(Serialize, utoipa::ToSchema)]
pub struct HandlingTimesReport {
    pub group_by: String,
    pub items: Vec<HandlingTimes>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct NkiReport {
    pub group_by: String,
    /// Groups with fewer answers come back suppressed.
    pub threshold: usize,
    pub items: Vec<NkiGroup>,
}

fn group_by(filter: &MetricFilter, default: GroupBy) -> ApiResult<(GroupBy, String)> {
    match filter
        .group_by
        .as_deref()
        .map(str::trim)
        .filter(|g| !g.is_empty())
    {
        None => Ok((default, format!("{default:?}").to_lowercase())),
        Some(g) => GroupBy::parse(g)
            .map(|b| (b, g.to_string()))
            .ok_or_else(|| ApiError::invalid("group_by", "must be department, area or month")),
    }
}

async fn records(
    state: &AppState,
    actor: &lots_core::Actor,
    filter: &MetricFilter,
) -> ApiResult<Vec<CaseRecord>> {
    Ok(lots_metrics::load::load(&state.db, actor, filter).await?)
}

/// Lead time (received → decided) and statutory handling time (complete → decided), in calendar
/// and working days: n, mean, p50, p90 per group.
#[utoipa::path(get, path = "/api/v1/metrics/handling-times", tag = "metrics", params(MetricFilter),
    responses(
        (status = 200, description = "Per group", body = HandlingTimesReport),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Officers have no metrics", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid filter", body = Problem, content_type = "application/problem+json")))]
pub async fn handling_times(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiQuery(filter): ApiQuery<MetricFilter>,
) -> ApiResult<Json<HandlingTimesReport>> {
    let (by, name) = group_by(&filter, GroupBy::Department)?;
    let records = records(&state, &actor, &filter).await?;
    Ok(Json(HandlingTimesReport {
        group_by: name,
        items: compute::handling_times(&records, by),
    }))
}

/// NKI per group with its 95 % t-interval, band and factor indices; groups under the reporting
/// threshold (7; 10 when comparing areas) are suppressed, without numbers.
#[utoipa::path(get, path = "/api/v1/metrics/nki", tag = "metrics", params(MetricFilter),
    responses(
        (status = 200, description = "Per group", body = NkiReport),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Officers have no metrics", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid filter", body = Problem, content_type = "application/problem+json")))]
pub async fn nki(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiQuery(filter): ApiQuery<MetricFilter>,
) -> ApiResult<Json<NkiReport>> {
    let (by, name) = group_by(&filter, GroupBy::Area)?;
    let threshold = if by == GroupBy::Area {
        state.config.nki_area_threshold
    } else {
        state.config.nki_threshold
    };
    let records = records(&state, &actor, &filter).await?;
    Ok(Json(NkiReport {
        group_by: name,
        threshold,
        items: compute::nki(&records, by, threshold),
    }))
}

/// How lead time, departments involved and handoffs relate to NKI: Spearman's ρ with a Fisher-z
/// interval, the OLS slope in NKI points per week (pooled, and within areas), NKI by lead-time
/// quartile, and each department's NKI and share of lead time.
#[utoipa::path(get, path = "/api/v1/metrics/linkage", tag = "metrics", params(MetricFilter),
    responses(
        (status = 200, description = "The linkage", body = Linkage),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Officers have no metrics", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid filter", body = Problem, content_type = "application/problem+json")))]
pub async fn linkage(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiQuery(filter): ApiQuery<MetricFilter>,
) -> ApiResult<Json<Linkage>> {
    let records = records(&state, &actor, &filter).await?;
    Ok(Json(compute::linkage(&records, state.config.nki_threshold)))
}

/// Where cases wait: per department open cases and holding time; per handoff edge the queue and
/// work time and total delay, with the NKI points the within-area slope says the delay costs;
/// open cases by age. Ranked.
#[utoipa::path(get, path = "/api/v1/metrics/bottlenecks", tag = "metrics", params(MetricFilter),
    responses(
        (status = 200, description = "Bottlenecks", body = Bottlenecks),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Officers have no metrics", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid filter", body = Problem, content_type = "application/problem+json")))]
pub async fn bottlenecks(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiQuery(filter): ApiQuery<MetricFilter>,
) -> ApiResult<Json<Bottlenecks>> {
    let records = records(&state, &actor, &filter).await?;
    let slope = compute::linkage(&records, state.config.nki_threshold)
        .slope_within_areas
        .map(|r| r.slope);
    Ok(Json(compute::bottlenecks(
        &records,
        slope,
        state.clock.now(),
    )))
}

/// Deadline compliance per area and month, open cases past or near their due date, and the fee
/// reductions owed.
#[utoipa::path(get, path = "/api/v1/metrics/deadlines", tag = "metrics", params(MetricFilter),
    responses(
        (status = 200, description = "Deadlines", body = Deadlines),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Officers have no metrics", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid filter", body = Problem, content_type = "application/problem+json")))]
pub async fn deadlines(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiQuery(filter): ApiQuery<MetricFilter>,
) -> ApiResult<Json<Deadlines>> {
    let records = records(&state, &actor, &filter).await?;
    Ok(Json(compute::deadlines(
        &records,
        state.clock.now(),
        state.config.deadline_approaching_days,
    )))
}

/// The cases as CSV for Swedish Excel: `;`-separated, UTF-8 with a BOM, decimal commas.
#[utoipa::path(get, path = "/api/v1/export/cases.csv", tag = "metrics", params(MetricFilter),
    responses(
        (status = 200, description = "The cases", body = String, content_type = "text/csv"),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Officers have no exports", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid filter", body = Problem, content_type = "application/problem+json")))]
pub async fn cases_csv(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiQuery(filter): ApiQuery<MetricFilter>,
) -> ApiResult<Response> {
    let records = records(&state, &actor, &filter).await?;
    let mut out = String::from(
        "\u{feff}diarienummer;område;ärendetyp;förvaltning;status;inkom;komplett;beslutad;förfallodag;ledtid_dagar;ledtid_arbetsdagar;överlämningar;förvaltningar\r\n",
    );
    let comma = |v: f64| format!("{v:.2}").replace('.', ",");
    for c in &records {
        let lead = c
            .decided_at
            .map(|d| (d - c.received_at).num_seconds() as f64 / 86_400.0);
        let lead_wd = c.decided_at.map(|d| {
            lots_core::calendar::working_days_between(
                c.received_at
                    .with_timezone(&lots_core::TIME_ZONE)
                    .date_naive(),
                d.with_timezone(&lots_core::TIME_ZONE).date_naive(),
            )
        });
        let fields = [
            c.reference.clone(),
            c.area.clone(),
            c.case_type.clone().unwrap_or_default(),
            c.department.clone(),
            c.status.clone(),
            c.received_at.to_rfc3339(),
            c.complete_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
            c.decided_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
            c.due_date.map(|d| d.to_string()).unwrap_or_default(),
            lead.map(comma).unwrap_or_default(),
            lead_wd.map(|n| n.to_string()).unwrap_or_default(),
            c.handoffs.len().to_string(),
            // Individual survey answers never leave Lots: no NKI per case here.
            c.departments().len().to_string(),
        ];
        out.push_str(
            &fields
                .iter()
                .map(|f| {
                    if f.contains([';', '"', '\n']) {
                        format!("\"{}\"", f.replace('"', "\"\""))
                    } else {
                        f.clone()
                    }
                })
                .collect::<Vec<_>>()
                .join(";"),
        );
        out.push_str("\r\n");
    }
    let mut r = out.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    r.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"arenden.csv\""),
    );
    Ok(r)
}
