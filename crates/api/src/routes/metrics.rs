//! Metrics for managers and admins, and the case export. Each answers within the caller's
//! scope (a manager: their department) and takes `from`, `to`, `department` and `area`.

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use lots_metrics::compute::{self, Bottlenecks, Deadlines, HandlingTimes, Linkage, NkiGroup};
use lots_metrics::rollup::read::{Ask, Key};
use lots_metrics::{GroupBy, MetricFilter};
use serde::{Deserialize, Serialize};

use super::problems::{InvalidFilter, NotLoggedIn, OfficersHaveNoExports, OfficersHaveNoMetrics};
use crate::auth::{Authenticated, Caller};
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
            .ok_or_else(|| {
                ApiError::invalid("group_by", "must be department, area, month or channel")
            }),
    }
}

/// The decided cases in the caller's scope that meet the filter, grouped, from the rollups.
async fn rolled(
    state: &AppState,
    actor: &lots_core::Actor,
    filter: &MetricFilter,
    by: GroupBy,
    ask: Ask,
) -> ApiResult<std::collections::BTreeMap<String, lots_metrics::rollup::sums::Group>> {
    group_by(filter, by)?;
    Ok(state
        .rollups
        .groups(&state.db, actor, filter, by, ask)
        .await?)
}

/// The decided cases in scope by area and Stockholm month of decision: what compliance and the
/// comparison's own NKI are made of.
async fn by_area_and_month(
    state: &AppState,
    actor: &lots_core::Actor,
    filter: &MetricFilter,
) -> ApiResult<std::collections::BTreeMap<Vec<String>, lots_metrics::rollup::sums::Group>> {
    Ok(state
        .rollups
        .groups_by(
            &state.db,
            actor,
            filter,
            &[Key::Area, Key::DecidedMonth],
            Ask::DECIDED,
        )
        .await?)
}

/// What every metric takes first, in the same order: who is logged in (401), then the filter
/// (422). The caller's scope (403) is checked where the metric is read.
async fn metric_request(
    parts: &mut Parts,
    state: &AppState,
) -> ApiResult<(lots_core::Actor, MetricFilter)> {
    let Authenticated(actor) = Authenticated::from_request_parts(parts, state).await?;
    let ApiQuery(filter) = ApiQuery::<MetricFilter>::from_request_parts(parts, state).await?;
    Ok((actor, filter))
}

/// The state, the caller and the filter of a metric or an export that does not name its
/// grouping, the filter's `group_by` checked all the same: a bad one is refused rather than
/// ignored.
pub struct Filtered(pub AppState, pub lots_core::Actor, pub MetricFilter);

impl FromRequestParts<AppState> for Filtered {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let (actor, filter) = metric_request(parts, state).await?;
        group_by(&filter, GroupBy::Department)?;
        Ok(Self(state.clone(), actor, filter))
    }
}

/// A metric read from the rollups: the grouping it takes when none is asked for, and what it
/// reads.
pub trait RolledMetric {
    const BY: GroupBy;
    const ASK: Ask;
}

/// Handling times: by department; the durations' histograms.
pub struct Handling;
impl RolledMetric for Handling {
    const BY: GroupBy = GroupBy::Department;
    const ASK: Ask = Ask::HANDLING;
}

/// NKI: by area; sums only.
pub struct Nki;
impl RolledMetric for Nki {
    const BY: GroupBy = GroupBy::Area;
    const ASK: Ask = Ask::DECIDED;
}

/// What a metric read from the rollups is computed over: the grouping asked (or the metric's
/// default) and the decided cases in the caller's scope, grouped. Taken in the same order as
/// the other metrics: who is logged in (401), the filter (422), then the caller's scope (403).
pub struct Rolled<D> {
    pub by: GroupBy,
    pub name: String,
    pub groups: std::collections::BTreeMap<String, lots_metrics::rollup::sums::Group>,
    _default: std::marker::PhantomData<D>,
}

impl<D: RolledMetric + Send> FromRequestParts<AppState> for Rolled<D> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let (actor, filter) = metric_request(parts, state).await?;
        let (by, name) = group_by(&filter, D::BY)?;
        let groups = rolled(state, &actor, &filter, by, D::ASK).await?;
        Ok(Self {
            by,
            name,
            groups,
            _default: std::marker::PhantomData,
        })
    }
}

/// Lead time (received → decided) and statutory handling time (complete → decided), in calendar
/// and working days: n, mean, p50, p90 per group.
#[utoipa::path(get, path = "/api/v1/metrics/handling-times", tag = "metrics", params(MetricFilter),
    responses(
        (status = 200, description = "Per group", body = HandlingTimesReport),
        NotLoggedIn, OfficersHaveNoMetrics, InvalidFilter))]
pub async fn handling_times(
    Rolled { name, groups, .. }: Rolled<Handling>,
) -> ApiResult<Json<HandlingTimesReport>> {
    Ok(Json(HandlingTimesReport {
        group_by: name,
        items: compute::handling_times_of(&groups),
    }))
}

/// How cases come in: the e-service's share of each area's cases per month (by the month
/// received), the time from receipt to a complete application and to the decision per channel,
/// and NKI per channel (groups under the reporting threshold suppressed).
#[utoipa::path(get, path = "/api/v1/metrics/channels", tag = "metrics", params(MetricFilter),
    responses(
        (status = 200, description = "The channels", body = compute::Channels),
        NotLoggedIn, OfficersHaveNoMetrics, InvalidFilter))]
pub async fn channels(
    Filtered(state, actor, filter): Filtered,
) -> ApiResult<Json<compute::Channels>> {
    let threshold = state.config.nki_threshold;
    Ok(Json(
        state
            .rollups
            .channels(&state.db, &actor, &filter, threshold)
            .await?,
    ))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TimeInStateReport {
    pub group_by: String,
    pub items: Vec<compute::StateTime>,
}

/// Time in each status (received, in_progress, awaiting_supplement, decided …) over the stays
/// that have ended, from the event log: n, mean, p50, p90 in calendar and working days.
#[utoipa::path(get, path = "/api/v1/metrics/time-in-state", tag = "metrics", params(MetricFilter),
    responses(
        (status = 200, description = "Per group and status", body = TimeInStateReport),
        NotLoggedIn, OfficersHaveNoMetrics, InvalidFilter))]
pub async fn time_in_state(
    Caller { state, actor }: Caller,
    ApiQuery(filter): ApiQuery<MetricFilter>,
) -> ApiResult<Json<TimeInStateReport>> {
    let (by, name) = group_by(&filter, GroupBy::Department)?;
    let items = state
        .rollups
        .time_in_state(&state.db, &actor, &filter, by, state.clock.now())
        .await?;
    Ok(Json(TimeInStateReport {
        group_by: name,
        items,
    }))
}

/// NKI per group with its 95 % t-interval, band and factor indices; groups under the reporting
/// threshold (7; 10 when comparing areas) are suppressed, without numbers.
#[utoipa::path(get, path = "/api/v1/metrics/nki", tag = "metrics", params(MetricFilter),
    responses(
        (status = 200, description = "Per group", body = NkiReport),
        NotLoggedIn, OfficersHaveNoMetrics, InvalidFilter))]
pub async fn nki(
    State(state): State<AppState>,
    Rolled {
        by, name, groups, ..
    }: Rolled<Nki>,
) -> ApiResult<Json<NkiReport>> {
    let threshold = if by == GroupBy::Area {
        state.config.nki_area_threshold
    } else {
        state.config.nki_threshold
    };
    Ok(Json(NkiReport {
        group_by: name,
        threshold,
        items: compute::nki_of(&groups, threshold),
    }))
}

/// How lead time, departments involved and handoffs relate to NKI: Spearman's ρ with a Fisher-z
/// interval, the OLS slope in NKI points per week (pooled, and within areas), NKI by lead-time
/// quartile, and each department's NKI and share of lead time.
#[utoipa::path(get, path = "/api/v1/metrics/linkage", tag = "metrics", params(MetricFilter),
    responses(
        (status = 200, description = "The linkage", body = Linkage),
        NotLoggedIn, OfficersHaveNoMetrics, InvalidFilter))]
pub async fn linkage(Filtered(state, actor, filter): Filtered) -> ApiResult<Json<Linkage>> {
    let settings = state.config.metric_settings();
    Ok(Json(
        state
            .rollups
            .linkage(&state.db, &actor, &filter, settings)
            .await?,
    ))
}

/// Where cases wait: per department open cases and holding time; per handoff edge the queue and
/// work time and total delay, with the NKI points the within-area slope says the delay costs;
/// open cases by age. Ranked.
#[utoipa::path(get, path = "/api/v1/metrics/bottlenecks", tag = "metrics", params(MetricFilter),
    responses(
        (status = 200, description = "Bottlenecks", body = Bottlenecks),
        NotLoggedIn, OfficersHaveNoMetrics, InvalidFilter))]
pub async fn bottlenecks(Filtered(state, actor, filter): Filtered) -> ApiResult<Json<Bottlenecks>> {
    Ok(Json(
        state
            .rollups
            .bottlenecks(
                &state.db,
                &actor,
                &filter,
                state.config.nki_threshold,
                state.clock.now(),
            )
            .await?,
    ))
}

/// Deadline compliance per area and month, open cases past or near their due date, and the fee
/// reductions owed.
#[utoipa::path(get, path = "/api/v1/metrics/deadlines", tag = "metrics", params(MetricFilter),
    responses(
        (status = 200, description = "Deadlines", body = Deadlines),
        NotLoggedIn, OfficersHaveNoMetrics, InvalidFilter))]
pub async fn deadlines(Filtered(state, actor, filter): Filtered) -> ApiResult<Json<Deadlines>> {
    let near_days = state.config.deadline_approaching_days;
    Ok(Json(
        state
            .rollups
            .deadlines(&state.db, &actor, &filter, state.clock.now(), near_days)
            .await?,
    ))
}

/// The cases as CSV for Swedish Excel: `;`-separated, UTF-8 with a BOM, decimal commas.
#[utoipa::path(get, path = "/api/v1/export/cases.csv", tag = "metrics", params(MetricFilter),
    responses(
        (status = 200, description = "The cases", body = String, content_type = "text/csv"),
        NotLoggedIn, OfficersHaveNoExports, InvalidFilter))]
pub async fn cases_csv(Filtered(state, actor, filter): Filtered) -> ApiResult<Response> {
    use futures::StreamExt;
    use lots_metrics::export::{CSV_HEADER, csv_page};
    let criteria = lots_metrics::load::criteria(&state.db, &actor, &filter).await?;
    let db = state.db.clone();
    // Streamed a page of cases at a time: the first bytes leave at once, and an export of any
    // size holds one page in memory.
    let rows = futures::stream::try_unfold(Some(0i64), move |after| {
        let (db, criteria) = (db.clone(), criteria.clone());
        async move {
            let Some(after) = after else {
                return Ok(None);
            };
            Ok::<_, sea_orm::DbErr>(
                csv_page(&db, &criteria, after)
                    .await?
                    .map(|(text, last)| (bytes::Bytes::from(text), Some(last))),
            )
        }
    });
    let header =
        futures::stream::once(async { Ok(bytes::Bytes::from_static(CSV_HEADER.as_bytes())) });
    Ok(download(
        axum::body::Body::from_stream(header.chain(rows)),
        CSV,
        "attachment; filename=\"arenden.csv\"",
    ))
}

/// The content type of the CSV files: Swedish Excel reads them as UTF-8.
pub(crate) const CSV: &str = "text/csv; charset=utf-8";

/// `body` as a file to save: its content type and its `Content-Disposition`.
pub(crate) fn download(
    body: impl Into<axum::body::Body>,
    content_type: &'static str,
    disposition: &str,
) -> Response {
    let mut r = Response::new(body.into());
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(disposition) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

/// The event log as XES for process mining: a trace per case, events with `concept:name`,
/// `time:timestamp`, `org:resource`, `org:group`, `lifecycle:transition`.
#[utoipa::path(get, path = "/api/v1/export/xes", tag = "metrics", params(MetricFilter),
    responses(
        (status = 200, description = "XES", body = String, content_type = "application/xml"),
        NotLoggedIn, OfficersHaveNoExports, InvalidFilter))]
pub async fn xes(Filtered(state, actor, filter): Filtered) -> ApiResult<Response> {
    let log = lots_metrics::export::load_log(&state.db, &actor, &filter).await?;
    Ok(download(
        lots_metrics::export::xes(&log),
        "application/xml; charset=utf-8",
        "attachment; filename=\"lots.xes\"",
    ))
}

/// The event log as OCEL 2.0 JSON: objects case, company, department and officer; events
/// related to them with qualifiers (a handoff's `from` and `to` department among them).
#[utoipa::path(get, path = "/api/v1/export/ocel", tag = "metrics", params(MetricFilter),
    responses(
        (status = 200, description = "OCEL 2.0 JSON", body = Object),
        NotLoggedIn, OfficersHaveNoExports, InvalidFilter))]
pub async fn ocel(Filtered(state, actor, filter): Filtered) -> ApiResult<Json<serde_json::Value>> {
    let log = lots_metrics::export::load_log(&state.db, &actor, &filter).await?;
    Ok(Json(lots_metrics::export::ocel(&log)))
}

/// `period` of an NKI trend.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TrendParams {
    /// `year` (default) or `tertial` (Jan–Apr, May–Aug, Sep–Dec).
    pub period: Option<String>,
}

/// The two periods an NKI change compares.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChangeParams {
    /// The earlier period: a year (`2025`) or a tertial (`2025-T3`).
    pub a: Option<String>,
    /// The later period, of the same kind.
    pub b: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct NkiTrendReport {
    pub period: String,
    /// Periods with fewer answers come back suppressed.
    pub threshold: usize,
    pub items: Vec<compute::TrendPoint>,
}

/// NKI over time: per year or tertial (of the decision), with its 95 % t-interval and n;
/// periods under the reporting threshold are suppressed.
#[utoipa::path(get, path = "/api/v1/metrics/nki/trend", tag = "metrics", params(MetricFilter, TrendParams),
    responses(
        (status = 200, description = "Per period, oldest first", body = NkiTrendReport),
        NotLoggedIn, OfficersHaveNoMetrics,
        (status = 422, description = "Invalid filter or period", body = Problem, content_type = "application/problem+json")))]
pub async fn nki_trend(
    Caller { state, actor }: Caller,
    ApiQuery(filter): ApiQuery<MetricFilter>,
    ApiQuery(params): ApiQuery<TrendParams>,
) -> ApiResult<Json<NkiTrendReport>> {
    let name = params.period.as_deref().map_or("year", str::trim);
    let period = compute::Period::parse(name)
        .ok_or_else(|| ApiError::invalid("period", "must be year or tertial"))?;
    let months = rolled(&state, &actor, &filter, GroupBy::Month, Ask::DECIDED).await?;
    let threshold = state.config.nki_threshold;
    Ok(Json(NkiTrendReport {
        period: name.to_string(),
        threshold,
        items: compute::trend(&compute::periods_of(&months, period), threshold),
    }))
}

/// Is a change in NKI real? Between two periods (of the decision): each NKI, the difference
/// (b − a) with its 95 % interval and Welch's two-sided p-value. Below the reporting threshold
/// in either period only the counts are given.
#[utoipa::path(get, path = "/api/v1/metrics/nki/change", tag = "metrics", params(MetricFilter, ChangeParams),
    responses(
        (status = 200, description = "The change", body = compute::NkiChange),
        NotLoggedIn, OfficersHaveNoMetrics,
        (status = 422, description = "`a` or `b` missing, not a year or tertial, or of different kinds; an invalid filter", body = Problem, content_type = "application/problem+json")))]
pub async fn nki_change(
    Caller { state, actor }: Caller,
    ApiQuery(filter): ApiQuery<MetricFilter>,
    ApiQuery(params): ApiQuery<ChangeParams>,
) -> ApiResult<Json<compute::NkiChange>> {
    let mut errors = Vec::new();
    let mut period = |field: &str, v: Option<&str>| {
        let p = v.map(str::trim).and_then(compute::Period::named);
        if p.is_none() {
            errors.push(lots_cases::FieldError {
                field: field.into(),
                message: "is required: a year (2025) or a tertial (2025-T3)".into(),
            });
        }
        p
    };
    let (a, b) = (
        period("a", params.a.as_deref()),
        period("b", params.b.as_deref()),
    );
    if let (Some(a), Some(b)) = (a, b)
        && a != b
    {
        errors.push(lots_cases::FieldError {
            field: "b".into(),
            message: "must be a period of the same kind as a".into(),
        });
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let (Some(kind), Some(_)) = (a, b) else {
        return Err(ApiError::invalid(
            "b",
            "must be a period of the same kind as a",
        ));
    };
    let months = rolled(&state, &actor, &filter, GroupBy::Month, Ask::DECIDED).await?;
    let (a, b) = (
        params.a.as_deref().unwrap_or_default().trim(),
        params.b.as_deref().unwrap_or_default().trim(),
    );
    let by = compute::periods_of(&months, kind);
    Ok(Json(compute::change(&by, a, b, state.config.nki_threshold)))
}

/// `year` and `area` of a comparison with other municipalities.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ComparisonParams {
    /// The year to compare (Insikt's year of measurement).
    pub year: Option<i32>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ComparisonReport {
    /// This municipality's kommunkod.
    pub municipality: String,
    /// Its name (SCB's).
    pub municipality_name: Option<String>,
    /// The peer group's kommunkoder (an SKR group configured by name stands for its members).
    pub peer_group: Vec<String>,
    pub items: Vec<lots_metrics::kolada::Comparison>,
}

/// The municipality against the others, from the imported Kolada values (`lots kolada
/// import`): per Insikt NKI KPI its value beside the national and peer-group medians, its rank
/// (1 = highest) and percentile among those that report, and Lots' own NKI for the same year.
/// `area` narrows to that area's KPI and the total.
#[utoipa::path(get, path = "/api/v1/metrics/comparison", tag = "metrics", params(MetricFilter, ComparisonParams),
    responses(
        (status = 200, description = "Per KPI", body = ComparisonReport),
        NotLoggedIn, OfficersHaveNoMetrics,
        (status = 409, description = "No municipality_code is configured", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`year` missing or not a year; an invalid filter", body = Problem, content_type = "application/problem+json")))]
pub async fn comparison(
    Caller { state, actor }: Caller,
    ApiQuery(filter): ApiQuery<MetricFilter>,
    ApiQuery(params): ApiQuery<ComparisonParams>,
) -> ApiResult<Json<ComparisonReport>> {
    let year = params
        .year
        .filter(|y| (1990..=2100).contains(y))
        .ok_or_else(|| ApiError::invalid("year", "is required: a year such as 2025"))?;
    let area = filter
        .area
        .as_deref()
        .map(|a| a.trim().parse::<lots_core::Area>())
        .transpose()
        .map_err(|e| ApiError::invalid("area", e.to_string()))?;
    group_by(&filter, GroupBy::Area)?;
    let own = by_area_and_month(&state, &actor, &filter).await?;
    let code = lots_metrics::kolada::municipality_code(
        &state.db,
        state.config.municipality_code.as_deref(),
    )
    .await
    .map_err(lots_cases::ServiceError::from)?;
    let Some(municipality) = code else {
        return Err(lots_cases::ServiceError::Conflict(
            "no municipality_code is configured (LOTS_MUNICIPALITY_CODE): Lots does not know which municipality it is".into(),
        )
        .into());
    };
    let peers =
        lots_metrics::kolada::peer_group(&state.db, &state.config.peer_group, &municipality)
            .await
            .map_err(lots_cases::ServiceError::from)?;
    let items = lots_metrics::kolada::comparison(
        &state.db,
        &municipality,
        &peers,
        year,
        area,
        &own,
        state.config.nki_threshold,
    )
    .await
    .map_err(lots_cases::ServiceError::from)?;
    Ok(Json(ComparisonReport {
        municipality_name: lots_core::municipality::name(&municipality).map(str::to_string),
        municipality,
        peer_group: peers,
        items,
    }))
}

/// The year of the board's report.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BoardParams {
    /// The year (Stockholm calendar year of the decisions); this year when absent.
    #[param(value_type = Option<i32>, minimum = 1990, maximum = 2100)]
    pub year: Option<String>,
}

/// A file's bytes, as the OpenAPI document names them (never built: the handler answers the
/// bytes themselves).
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)]
pub struct Workbook(Vec<u8>);

/// The content type of an Excel workbook.
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The report for the board as an Excel workbook, one sheet per view of the page
/// `/oversikt/rapport`: key figures per area, NKI per tertial, deadline compliance per month,
/// bottlenecks, the comparison with other municipalities and every municipality's values.
/// Numbers are cells of numbers; a suppressed figure is an empty cell.
#[utoipa::path(get, path = "/api/v1/reports/board.xlsx", tag = "metrics", params(BoardParams),
    responses(
        (status = 200, description = "The workbook", body = Workbook, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        NotLoggedIn,
        (status = 403, description = "Officers have no reports", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`year` is not a year", body = Problem, content_type = "application/problem+json")))]
pub async fn board_xlsx(
    Caller { state, actor }: Caller,
    ApiQuery(params): ApiQuery<BoardParams>,
) -> ApiResult<Response> {
    let year = crate::web::report::report_year(&state, params.year.as_deref())
        .map_err(|e| ApiError::invalid("year", e))?;
    let report = crate::web::report::board_report(&state, &actor, year).await?;
    let names = |code: &str| lots_core::municipality::name(code).map(str::to_string);
    let bytes = lots_metrics::workbook::board_workbook(&report, &names).map_err(|e| {
        tracing::error!(error = %e, "the board's workbook could not be written");
        ApiError::internal()
    })?;
    Ok(download(
        bytes,
        XLSX,
        &format!("attachment; filename=\"namndrapport-{year}.xlsx\""),
    ))
}
