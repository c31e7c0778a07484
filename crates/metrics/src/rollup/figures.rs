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
    let (queue, work, holding, areas) = tokio::try_join!(
        span_db::durations(conn, criteria, Kind::Queue, &edge, now),
        span_db::durations(conn, criteria, Kind::Work, &edge, now),
        span_db::holding(conn, criteria, now),
        read::groups(conn, criteria, GroupBy::Area, Ask::DECIDED),
    )?;
    let edges = Edges { queue, work };
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

/// Compliance of the decided cases that meet `criteria` (by area and month of decision), and
/// the open cases past or near their due date and the late building decisions among them.
pub async fn deadlines<C: ConnectionTrait>(
    conn: &C,
    criteria: &Criteria,
    now: DateTime<Utc>,
    near_days: i64,
) -> Result<Deadlines, DbErr> {
    let (groups, lists) = tokio::try_join!(
        by_area_and_month(conn, criteria),
        deadline_lists(conn, criteria, now, near_days),
    )?;
    Ok(lists.with_compliance(&groups, now, near_days))
}

/// The open cases past or near their due date and the late building decisions that meet
/// `criteria`: the first of each list read whole, and how many there are.
pub struct DeadlineLists {
    listed: Vec<crate::CaseRecord>,
    /// How many open cases are past and near their due dates.
    totals: [usize; 2],
}

impl DeadlineLists {
    /// The deadlines' figures, with compliance from `groups` (by area and month of decision).
    pub fn with_compliance(
        self,
        groups: &BTreeMap<Vec<String>, Group>,
        now: DateTime<Utc>,
        near_days: i64,
    ) -> Deadlines {
        let listed: Vec<&crate::CaseRecord> = self.listed.iter().collect();
        let mut d = compute::deadlines_of(groups, &listed, now, near_days);
        [d.overdue_total, d.due_soon_total] = self.totals;
        // Every late building decision in scope: the decided cases with a due date, less those
        // decided on or before it, of the cells (a count of the facts grows with the history).
        d.fee_reductions_total = groups
            .iter()
            .filter(|(key, _)| key.first().is_some_and(|a| a == "building_permit"))
            .map(|(_, g)| g.due.saturating_sub(g.on_time) as usize)
            .sum();
        d
    }
}

/// The deadlines' lists of the cases that meet `criteria` (see `DeadlineLists`).
pub async fn deadline_lists<C: ConnectionTrait>(
    conn: &C,
    criteria: &Criteria,
    now: DateTime<Utc>,
    near_days: i64,
) -> Result<DeadlineLists, DbErr> {
    let today = compute::date(now);
    let (t, until) = (
        day_number(today),
        day_number(compute::due_soon_until(today, near_days)),
    );
    // Open cases have no decision (`on_time` is null): said, so that the index on month
    // decided, on time and due date gives them in due date order.
    let open = "decided_month = '' AND on_time IS NULL AND is_open = 1";
    let by_due = ("due_day, case_id", DEADLINE_LIST);
    // The open cases' lists counted from the index of the work in progress; the late
    // decisions' total comes from the cells (`DeadlineLists::with_compliance`).
    let lists = [
        (format!("{open} AND due_day < {t}"), by_due, true),
        (
            format!("{open} AND due_day >= {t} AND due_day <= {until}"),
            by_due,
            true,
        ),
        (
            "area = 'building_permit' AND on_time = 0".to_string(),
            ("decided_ms DESC, case_id DESC", DEADLINE_LIST),
            false,
        ),
    ];
    // The three lists side by side.
    let read = futures::future::try_join_all(lists.iter().map(|(condition, order, counted)| {
        read::listed(conn, criteria, condition, *order, *counted)
    }))
    .await?;
    let mut ids = Vec::new();
    let mut totals = [0usize; 3];
    for ((some, n), total) in read.into_iter().zip(&mut totals) {
        ids.extend(some);
        *total = n as usize;
    }
    Ok(DeadlineLists {
        listed: crate::load::read_rows(conn, &ids).await?,
        totals: [totals[0], totals[1]],
    })
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
    /// Lead time of every decided case, and per month of decision (the `LATEST_MONTHS` latest).
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
    // The reads are independent: on a pool each takes a connection of its own, so that the
    // database works on them side by side (in a transaction they take turns).
    let threshold = settings.nki_threshold;
    let (own, handling, all, (linkage, points), bottlenecks, lists, channels) = tokio::try_join!(
        by_area_and_month(conn, criteria),
        // Lead time over every month: the histograms summed over the months where there are.
        read::groups(conn, criteria, GroupBy::Area, Ask::HANDLING),
        read::groups(conn, criteria, GroupBy::Area, Ask::ALL),
        linkage(conn, criteria, settings),
        bottlenecks(conn, criteria, threshold, now),
        deadline_lists(conn, criteria, now, settings.near_days),
        channels(conn, criteria, threshold),
    )?;
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
    let tertials = compute::trend(&compute::periods_of(&months, Period::Tertial), threshold);
    let area_tertials = area_months
        .iter()
        .map(|(area, m)| {
            let t = compute::trend(&compute::periods_of(m, Period::Tertial), threshold);
            (area.clone(), t)
        })
        .collect();
    let mut lead = Durations::default();
    for g in handling.values() {
        lead.merge(&g.lead);
    }
    let lead_by_month = latest_months(conn, criteria, &months).await?;
    Ok(Figures {
        cases: all.values().map(|g| g.cases).sum(),
        open: bottlenecks.departments.iter().map(|d| d.open_cases).sum(),
        linkage,
        points,
        nki_by_area: compute::nki_of(&areas, settings.nki_area_threshold),
        deadlines: lists.with_compliance(&own, now, settings.near_days),
        channels,
        by_year: compute::periods_of(&months, Period::Year),
        tertials,
        area_tertials,
        lead,
        lead_by_month,
        bottlenecks,
        own,
    })
}

/// How many months of decisions the dashboard shows handling times of.
pub const LATEST_MONTHS: usize = 12;

/// The handling times per month of decision of the `LATEST_MONTHS` latest months with decisions
/// among `months` (the selection's decided cases by month of decision): their histograms alone
/// are read, so the cost is a year's, whatever the history.
async fn latest_months<C: ConnectionTrait>(
    conn: &C,
    criteria: &Criteria,
    months: &BTreeMap<String, Group>,
) -> Result<Vec<HandlingTimes>, DbErr> {
    let latest: Vec<&String> = months
        .iter()
        .filter(|(_, g)| g.lead.n > 0)
        .map(|(m, _)| m)
        .rev()
        .take(LATEST_MONTHS)
        .collect();
    let (Some(first), Some(last)) = (
        latest.last().and_then(|m| compute::month_parts(m)),
        latest.first().and_then(|m| compute::month_parts(m)),
    ) else {
        return Ok(Vec::new());
    };
    let ask = Ask::HANDLING.days_decided_in(first, last);
    let mut groups = read::groups(conn, criteria, GroupBy::Month, ask).await?;
    groups.retain(|m, _| latest.contains(&m));
    Ok(compute::handling_times_of(&groups))
}

/// What the board's report of `year` is computed from, for the cases that meet `criteria`.
pub async fn board_inputs<C: ConnectionTrait>(
    conn: &C,
    criteria: &Criteria,
    year: i32,
    now: DateTime<Utc>,
) -> Result<crate::report::BoardInputs, DbErr> {
    let (first, last) = (format!("{year:04}-01"), format!("{year:04}-12"));
    let window = Some((first.as_str(), last.as_str()));
    let edge = [SpanKey::FROM, SpanKey::TO, SpanKey::HANDOFF_KIND];
    // Independent reads, side by side as in `figures`.
    let (received, decided, queue, work) = tokio::try_join!(
        read::groups_by(conn, criteria, &[Key::Area, Key::ReceivedMonth], Ask::ALL),
        // The report's percentiles are of its year; its other years count and answer.
        read::groups_by(
            conn,
            criteria,
            &[Key::Area, Key::DecidedMonth],
            Ask::HANDLING.days_decided_in((year, 1), (year, 12)),
        ),
        span_db::durations_decided(conn, criteria, Kind::Queue, &edge, now, window),
        span_db::durations_decided(conn, criteria, Kind::Work, &edge, now, window),
    )?;
    Ok(crate::report::BoardInputs {
        received,
        decided,
        edges: Edges { queue, work },
    })
}
