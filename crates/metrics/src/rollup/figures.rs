//! The metrics read from the rollups for a request's criteria, each once, so that the API's
//! endpoints and the managers' dashboard compute the same figures by the same code. The
//! dashboard's `Figures` gathers them with a single check of the caller and one catch-up.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr};

use crate::GroupBy;
use crate::compute::DEADLINE_LIST;
use crate::compute::{
    self, Bottlenecks, Channels, Deadlines, Edges, HandlingTimes, Linkage, NkiGroup, Period,
    StateTime, TrendPoint,
};
use crate::load::Criteria;
use crate::rollup::link;
use crate::rollup::read::{self, Ask, Key};
use crate::rollup::span::Kind;
use crate::rollup::span_db::{self, SpanKey};
use crate::rollup::sums::{self, Answers, Durations, Group};
use crate::rollup::write::day_number;

/// The reporting thresholds and the horizon of "due soon" a figure is computed with.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Fewer answers than this: suppressed.
    pub nki_threshold: usize,
    /// The same when areas are compared.
    pub nki_area_threshold: usize,
    /// Working days ahead that count as due soon.
    pub near_days: i64,
}

/// Time in each status of the cases that meet `criteria`, per group and status.
pub async fn time_in_state<C: ConnectionTrait>(
    conn: &C,
    criteria: &Criteria,
    by: GroupBy,
    now: DateTime<Utc>,
) -> Result<Vec<StateTime>, DbErr> {
    let keys = [SpanKey::of(by), SpanKey::STATUS];
    let stays = span_db::durations(conn, criteria, Kind::Stay, &keys, now).await?;
    Ok(compute::time_in_state_of(&stays))
}

/// Where the cases that meet `criteria` wait, priced by the slope within areas of NKI on lead
/// time (suppressed under `threshold` answers).
pub async fn bottlenecks<C: ConnectionTrait>(
    conn: &C,
    criteria: &Criteria,
    threshold: usize,
    now: DateTime<Utc>,
) -> Result<Bottlenecks, DbErr> {
    let edge = [SpanKey::FROM, SpanKey::TO, SpanKey::HANDOFF_KIND];
    let edges = Edges {
        queue: span_db::durations(conn, criteria, Kind::Queue, &edge, now).await?,
        work: span_db::durations(conn, criteria, Kind::Work, &edge, now).await?,
    };
    let holding = span_db::holding(conn, criteria, now).await?;
    let areas = read::groups(conn, criteria, GroupBy::Area, Ask::DECIDED).await?;
    let answers: Vec<&Answers> = areas.values().map(|g| &g.answers).collect();
    let answered: u64 = answers.iter().map(|a| a.n()).sum();
    let slope = (answered >= threshold as u64)
        .then(|| sums::within_slope(&answers))
        .flatten()
        .map(|r| r.slope);
    Ok(compute::bottlenecks_of(holding, &edges, slope))
}

/// The linkage over the answered cases that meet `criteria`, and the (lead time in weeks, NKI)
/// of its sample (the scatter plot's points: at most `link::SAMPLE`).
pub async fn linkage<C: ConnectionTrait>(
    conn: &C,
    criteria: &Criteria,
    settings: Settings,
) -> Result<(Linkage, Vec<(f64, f64)>), DbErr> {
    let inputs = link::inputs(conn, criteria, link::SAMPLE).await?;
    let points = inputs
        .pooled_sample()
        .iter()
        .map(|(_, weeks, nki)| (*weeks, *nki))
        .collect();
    let linkage =
        compute::linkage_from(&inputs, settings.nki_threshold, settings.nki_area_threshold);
    Ok((linkage, points))
}

/// The decided cases that meet `criteria` by area and Stockholm month of decision: what
/// compliance, NKI by area and over time, and the comparison's own NKI are made of.
pub async fn by_area_and_month<C: ConnectionTrait>(
    conn: &C,
    criteria: &Criteria,
) -> Result<BTreeMap<Vec<String>, Group>, DbErr> {
    read::groups_by(
        conn,
        criteria,
        &[Key::Area, Key::DecidedMonth],
        Ask::DECIDED,
    )
    .await
}

/// Compliance from `groups` (by area and month of decision), and the open cases past or near
/// their due date and the late building decisions that meet `criteria`.
pub async fn deadlines<C: ConnectionTrait>(
    conn: &C,
    criteria: &Criteria,
    groups: &BTreeMap<Vec<String>, Group>,
    now: DateTime<Utc>,
    near_days: i64,
) -> Result<Deadlines, DbErr> {
    let today = compute::date(now);
    let (t, until) = (
        day_number(today),
        day_number(compute::due_soon_until(today, near_days)),
    );
    // Open cases have no decision (`on_time` is null): said, so that the index on month
    // decided, on time and due date gives them in due date order.
    let open = "decided_month = '' AND on_time IS NULL AND is_open = 1";
    let by_due = ("due_day, case_id", DEADLINE_LIST);
    let lists = [
        (format!("{open} AND due_day < {t}"), by_due),
        (
            format!("{open} AND due_day >= {t} AND due_day <= {until}"),
            by_due,
        ),
        (
            "area = 'building_permit' AND on_time = 0".to_string(),
            ("decided_ms DESC, case_id DESC", DEADLINE_LIST),
        ),
    ];
    let mut ids = Vec::new();
    let mut totals = [0usize; 3];
    for ((condition, order), total) in lists.iter().zip(&mut totals) {
        let (some, n) = read::listed(conn, criteria, condition, *order).await?;
        ids.extend(some);
        *total = n as usize;
    }
    let listed = crate::load::read_rows(conn, &ids).await?;
    let listed: Vec<&crate::CaseRecord> = listed.iter().collect();
    let mut d = compute::deadlines_of(groups, &listed, now, near_days);
    [d.overdue_total, d.due_soon_total, d.fee_reductions_total] = totals;
    Ok(d)
}

/// How the cases that meet `criteria` came in.
pub async fn channels<C: ConnectionTrait>(
    conn: &C,
    criteria: &Criteria,
    threshold: usize,
) -> Result<Channels, DbErr> {
    let shares = read::groups_by(
        conn,
        criteria,
        &[Key::Area, Key::ReceivedMonth, Key::Channel],
        Ask::ALL,
    )
    .await?;
    let times = read::groups_by(conn, criteria, &[Key::Channel], Ask::ALL_TIMES).await?;
    Ok(compute::channels_of(&shares, &times, threshold))
}

/// Everything the managers' dashboard shows of a selection.
#[derive(Debug, Clone)]
pub struct Figures {
    /// The cases in the selection, and of them the open ones.
    pub cases: u64,
    pub open: usize,
    pub linkage: Linkage,
    /// Each answered case's (lead time in weeks, NKI): the scatter.
    pub points: Vec<(f64, f64)>,
    pub bottlenecks: Bottlenecks,
    /// NKI per area (the area threshold).
    pub nki_by_area: Vec<NkiGroup>,
    pub deadlines: Deadlines,
    pub channels: Channels,
    /// The answers per year of decision (NKI now and its change).
    pub by_year: BTreeMap<String, Answers>,
    /// NKI per tertial of decision.
    pub tertials: Vec<TrendPoint>,
    /// Per area, NKI per tertial.
    pub area_tertials: Vec<(String, Vec<TrendPoint>)>,
    /// Lead time of every decided case, and per month of decision.
    pub lead: Durations,
    pub lead_by_month: Vec<HandlingTimes>,
    /// By area and month of decision: the comparison's own NKI.
    pub own: BTreeMap<Vec<String>, Group>,
}

/// The dashboard's figures of the cases that meet `criteria`.
pub async fn figures<C: ConnectionTrait>(
    conn: &C,
    criteria: &Criteria,
    settings: Settings,
    now: DateTime<Utc>,
) -> Result<Figures, DbErr> {
    let own = by_area_and_month(conn, criteria).await?;
    let mut months: BTreeMap<String, Group> = BTreeMap::new();
    let mut areas: BTreeMap<String, Group> = BTreeMap::new();
    let mut area_months: BTreeMap<String, BTreeMap<String, Group>> = BTreeMap::new();
    for (key, g) in &own {
        if let [area, month] = key.as_slice() {
            months.entry(month.clone()).or_default().merge(g);
            areas.entry(area.clone()).or_default().merge(g);
            area_months
                .entry(area.clone())
                .or_default()
                .entry(month.clone())
                .or_default()
                .merge(g);
        }
    }
    let threshold = settings.nki_threshold;
    let tertials = compute::trend(&compute::periods_of(&months, Period::Tertial), threshold);
    let area_tertials = area_months
        .iter()
        .map(|(area, m)| {
            let t = compute::trend(&compute::periods_of(m, Period::Tertial), threshold);
            (area.clone(), t)
        })
        .collect();
    let handling = read::groups(conn, criteria, GroupBy::Month, Ask::HANDLING).await?;
    let mut lead = Durations::default();
    for g in handling.values() {
        lead.merge(&g.lead);
    }
    let all = read::groups(conn, criteria, GroupBy::Area, Ask::ALL).await?;
    let (linkage, points) = linkage(conn, criteria, settings).await?;
    let bottlenecks = bottlenecks(conn, criteria, threshold, now).await?;
    Ok(Figures {
        cases: all.values().map(|g| g.cases).sum(),
        open: bottlenecks.departments.iter().map(|d| d.open_cases).sum(),
        linkage,
        points,
        nki_by_area: compute::nki_of(&areas, settings.nki_area_threshold),
        deadlines: deadlines(conn, criteria, &own, now, settings.near_days).await?,
        channels: channels(conn, criteria, threshold).await?,
        by_year: compute::periods_of(&months, Period::Year),
        tertials,
        area_tertials,
        lead,
        lead_by_month: compute::handling_times_of(&handling),
        bottlenecks,
        own,
    })
}

/// What the board's report of `year` is computed from, for the cases that meet `criteria`.
pub async fn board_inputs<C: ConnectionTrait>(
    conn: &C,
    criteria: &Criteria,
    year: i32,
    now: DateTime<Utc>,
) -> Result<crate::report::BoardInputs, DbErr> {
    let received = read::groups_by(conn, criteria, &[Key::Area, Key::ReceivedMonth], Ask::ALL);
    let received = received.await?;
    let decided = read::groups_by(
        conn,
        criteria,
        &[Key::Area, Key::DecidedMonth],
        Ask::HANDLING,
    )
    .await?;
    let (first, last) = (format!("{year:04}-01"), format!("{year:04}-12"));
    let window = Some((first.as_str(), last.as_str()));
    let edge = [SpanKey::FROM, SpanKey::TO, SpanKey::HANDOFF_KIND];
    let edges = Edges {
        queue: span_db::durations_decided(conn, criteria, Kind::Queue, &edge, now, window).await?,
        work: span_db::durations_decided(conn, criteria, Kind::Work, &edge, now, window).await?,
    };
    Ok(crate::report::BoardInputs {
        received,
        decided,
        edges,
    })
}
