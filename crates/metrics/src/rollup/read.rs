//! Reading the rollups for a request: the decided cases that meet the criteria, grouped. Whole
//! months received within the dates asked come from the cells and their histograms; a month that
//! the dates cut (at most two) has its sums from the cells of its whole days and the facts of at
//! most an hour at each end, and its histograms from its cases' facts, so the answer is exact for
//! any dates and its cost depends on the months and groups asked, not on how many cases exist.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use lots_core::TIME_ZONE;
use lots_store::dialect::placeholder;
use sea_orm::{ConnectionTrait, DbBackend, DbErr, QueryResult, Statement, Value};
use tokio::sync::OnceCell;

use crate::compute::{GroupBy, date};
use crate::load::Criteria;
use crate::rollup::fact::{Answer, Cell, Fact, Span};
use crate::rollup::sums::{Group, Sums};
use crate::rollup::write::{
    CELL_COLUMNS, CELL_SUM_COLUMNS, CELL_SUMS, DAY_MS, DAY_SHIFT_MS, HIST_MEASURES,
};

/// What a group is keyed by: a grouping of the API, or the month received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Department,
    Area,
    Channel,
    DecidedMonth,
    ReceivedMonth,
}

impl From<GroupBy> for Key {
    fn from(by: GroupBy) -> Self {
        match by {
            GroupBy::Department => Key::Department,
            GroupBy::Area => Key::Area,
            GroupBy::Channel => Key::Channel,
            GroupBy::Month => Key::DecidedMonth,
        }
    }
}

impl Key {
    /// Its place among a cell's columns (`CELL_COLUMNS`).
    fn cell_index(self) -> usize {
        match self {
            Key::Department => 0,
            Key::Area => 1,
            Key::Channel => 2,
            Key::ReceivedMonth => 3,
            Key::DecidedMonth => 4,
        }
    }

    fn column(self) -> &'static str {
        match self {
            Key::Department => "department",
            Key::Area => "area",
            Key::Channel => "channel",
            Key::DecidedMonth => "decided_month",
            Key::ReceivedMonth => "received_month",
        }
    }
}

/// Which cases a request counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cases {
    Decided,
    /// Open ones too.
    All,
}

/// What a request reads: which cases, and the histograms of which durations (the measures of
/// `rollup_hist`; none for a metric of counts and sums, which then reads the cells alone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ask {
    pub cases: Cases,
    pub days: &'static [i16],
    /// The histograms of the cases decided in these months only (first and last, as year and
    /// month), the sums of every month still: what a figure of a year or of the latest months
    /// reads, whose other months count cases and answers but have no percentiles.
    pub days_decided_in: Option<((i32, u32), (i32, u32))>,
}

impl Ask {
    /// Decided cases' counts and sums (NKI, compliance).
    pub const DECIDED: Ask = Ask {
        cases: Cases::Decided,
        days: &[],
        days_decided_in: None,
    };
    /// Decided cases with lead time's and the statutory time's histograms.
    pub const HANDLING: Ask = Ask {
        cases: Cases::Decided,
        days: &[0, 1, 2, 3],
        days_decided_in: None,
    };
    /// Every case's counts and sums.
    pub const ALL: Ask = Ask {
        cases: Cases::All,
        days: &[],
        days_decided_in: None,
    };
    /// Every case with lead time's and the time to a complete application's histograms.
    pub const ALL_TIMES: Ask = Ask {
        cases: Cases::All,
        days: &[0, 1, 4, 5],
        days_decided_in: None,
    };

    /// The same, with the histograms of the cases decided in the months `[first, last]` only.
    pub const fn days_decided_in(self, first: (i32, u32), last: (i32, u32)) -> Ask {
        Ask {
            days_decided_in: Some((first, last)),
            ..self
        }
    }

    /// The condition on the month decided that the histograms are read with (`""`: none); the
    /// months are written out (numbers of ours).
    fn days_condition(&self) -> String {
        self.days_decided_in
            .map(|((y0, m0), (y1, m1))| {
                format!(
                    " AND decided_month >= '{y0:04}-{m0:02}' AND decided_month <= '{y1:04}-{m1:02}'"
                )
            })
            .unwrap_or_default()
    }
}

fn month_start(year: i32, month: u32) -> Option<DateTime<Utc>> {
    let d = NaiveDate::from_ymd_opt(year, month, 1)?;
    TIME_ZONE
        .from_local_datetime(&d.and_hms_opt(0, 0, 0)?)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

/// The Stockholm month of `t`: its name, its start and the next month's start.
fn month_of(t: DateTime<Utc>) -> Option<(String, DateTime<Utc>, DateTime<Utc>)> {
    let d = date(t);
    let (y, m) = (d.year(), d.month());
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    Some((
        format!("{y:04}-{m:02}"),
        month_start(y, m)?,
        month_start(ny, nm)?,
    ))
}

/// Which received months come whole from the cells (`from..until`, names, either end open), and
/// which instants' ranges come from the facts.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Plan {
    pub whole: Option<(Option<String>, Option<String>)>,
    pub cut: Vec<(DateTime<Utc>, DateTime<Utc>)>,
}

pub(crate) fn plan(from: Option<DateTime<Utc>>, before: Option<DateTime<Utc>>) -> Option<Plan> {
    let mut p = Plan::default();
    let mut lo = None;
    let mut hi = None;
    if let Some(from) = from {
        let (name, start, next) = month_of(from)?;
        if from == start {
            lo = Some(name);
        } else {
            p.cut.push((from, before.map_or(next, |b| b.min(next))));
            lo = Some(month_of(next)?.0);
        }
    }
    if let Some(before) = before {
        let (name, start, _) = month_of(before)?;
        if before != start {
            let start = from.map_or(start, |f| f.max(start));
            if p.cut.first().is_none_or(|c| c.0 != start) {
                p.cut.push((start, before));
            }
        }
        hi = Some(name);
    }
    p.cut.retain(|(a, b)| a < b);
    let empty = matches!((&lo, &hi), (Some(l), Some(h)) if l >= h);
    if !empty {
        p.whole = Some((lo, hi));
    }
    Some(p)
}

/// The filters every query shares: the cases counted, of the department(s) and area asked.
pub(crate) fn scope(
    criteria: &Criteria,
    cases: Cases,
    backend: DbBackend,
    values: &mut Vec<Value>,
) -> String {
    let mut sql = String::from(match cases {
        Cases::Decided => "decided_month <> ''",
        Cases::All => "1 = 1",
    });
    let mut bind = |sql: &mut String, col: &str, v: &str| {
        values.push(v.to_string().into());
        sql.push_str(&format!(
            " AND {col} = {}",
            placeholder(backend, values.len())
        ));
    };
    for d in &criteria.departments {
        bind(&mut sql, "department", d);
    }
    if let Some(a) = &criteria.area {
        bind(&mut sql, "area", a);
    }
    sql
}

/// `scope`, and received in `[from, before)` (either end open): the filter of a request's rows.
pub(crate) fn scope_received(
    criteria: &Criteria,
    cases: Cases,
    range: (Option<DateTime<Utc>>, Option<DateTime<Utc>>),
    backend: DbBackend,
    values: &mut Vec<Value>,
) -> String {
    let mut filter = scope(criteria, cases, backend, values);
    received_within(&mut filter, range, backend, values);
    filter
}

/// Adds to `filter` the facts received in `[from, before)`, either end open.
pub(crate) fn received_within(
    filter: &mut String,
    (from, before): (Option<DateTime<Utc>>, Option<DateTime<Utc>>),
    backend: DbBackend,
    values: &mut Vec<Value>,
) {
    for (t, op) in [(from, ">="), (before, "<")] {
        if let Some(t) = t {
            values.push(t.timestamp_millis().into());
            filter.push_str(&format!(
                " AND received_ms {op} {}",
                placeholder(backend, values.len())
            ));
        }
    }
}

/// Adds to `filter` the cells received in the months `[lo, hi)` (names), either end open.
pub(crate) fn received_months(
    filter: &mut String,
    (lo, hi): (Option<&str>, Option<&str>),
    backend: DbBackend,
    values: &mut Vec<Value>,
) {
    for (month, op) in [(lo, ">="), (hi, "<")] {
        if let Some(m) = month {
            values.push(m.to_string().into());
            filter.push_str(&format!(
                " AND received_month {op} {}",
                placeholder(backend, values.len())
            ));
        }
    }
}

/// The decided cases that meet `criteria`, per group.
pub async fn groups<C: ConnectionTrait>(
    conn: &C,
    criteria: &Criteria,
    by: GroupBy,
    ask: Ask,
) -> Result<BTreeMap<String, Group>, DbErr> {
    Ok(groups_by(conn, criteria, &[by.into()], ask)
        .await?
        .into_iter()
        .map(|(mut k, g)| (k.swap_remove(0), g))
        .collect())
}

/// The cases that meet `criteria`, per combination of the keys (in their order).
pub async fn groups_by<C: ConnectionTrait>(
    conn: &C,
    criteria: &Criteria,
    by: &[Key],
    ask: Ask,
) -> Result<BTreeMap<Vec<String>, Group>, DbErr> {
    let mut out: BTreeMap<Vec<String>, Group> = BTreeMap::new();
    let Some(plan) = plan(criteria.from, criteria.before) else {
        return Ok(out);
    };
    // The whole months and each cut month side by side (on a pool, each on a connection).
    let sources = plan
        .whole
        .iter()
        .map(|(lo, hi)| Source::Months(lo.as_deref(), hi.as_deref()))
        .chain(plan.cut.iter().map(|(a, b)| Source::Received(*a, *b)));
    let parts = futures::future::try_join_all(sources.map(|source| async move {
        let mut part = BTreeMap::new();
        add_source(conn, criteria, (by, ask), source, &mut part).await?;
        Ok::<_, DbErr>(part)
    }))
    .await?;
    for part in parts {
        for (key, group) in part {
            out.entry(key).or_default().merge(&group);
        }
    }
    Ok(out)
}

fn get<T: sea_orm::TryGetable>(r: &QueryResult, i: usize) -> Result<T, DbErr> {
    r.try_get_by_index(i)
}

/// A row's group: its first `k` columns.
pub(crate) fn key_of(r: &QueryResult, k: usize) -> Result<Vec<String>, DbErr> {
    (0..k).map(|i| get::<String>(r, i)).collect()
}

/// Where a request's sums and histograms are read from.
#[derive(Debug, Clone, Copy)]
enum Source<'a> {
    /// The cells and histograms of the whole months received in `[lo, hi)` (names, either end
    /// open).
    Months(Option<&'a str>, Option<&'a str>),
    /// The facts of the cases received in `[a, b)` (a month the dates cut), summed by the
    /// database as a cell is: its cost is the facts it reads, not rows sent and added here.
    Received(DateTime<Utc>, DateTime<Utc>),
}

/// Adds the sums and the histograms asked of `source`, per group.
async fn add_source<C: ConnectionTrait>(
    conn: &C,
    criteria: &Criteria,
    (by, ask): (&[Key], Ask),
    source: Source<'_>,
    out: &mut BTreeMap<Vec<String>, Group>,
) -> Result<(), DbErr> {
    let backend = conn.get_database_backend();
    let g = by.iter().map(|b| b.column()).collect::<Vec<_>>().join(", ");
    let k = by.len();
    // The cells' and their histograms' condition for whole months.
    let months = |lo, hi| {
        let mut values = Vec::new();
        let mut filter = scope(criteria, ask.cases, backend, &mut values);
        received_months(&mut filter, (lo, hi), backend, &mut values);
        (filter, values)
    };
    match source {
        Source::Months(lo, hi) => {
            let (filter, values) = months(lo, hi);
            let sql = sums_sql("", "rollup_cell", &filter, &g);
            for (key, group) in summed(conn, sql, values, k).await? {
                out.entry(key).or_default().merge(&group);
            }
        }
        Source::Received(a, b) => {
            // Every read of the request groups the same cut cells by its own keys.
            let cells = criteria.cut_cells.of(conn, criteria, (a, b)).await?;
            for (cell, group) in cells.iter() {
                if ask.cases == Cases::Decided && cell[Key::DecidedMonth.cell_index()].is_empty() {
                    continue;
                }
                let key = by.iter().map(|b| cell[b.cell_index()].clone()).collect();
                out.entry(key).or_default().merge(group);
            }
        }
    }
    if ask.days.is_empty() {
        return Ok(());
    }
    let (lo, hi) = match source {
        Source::Months(lo, hi) => (lo, hi),
        Source::Received(a, b) => {
            return add_cut_hists(conn, criteria, (by, ask), (a, b), out).await;
        }
    };
    let decided_in = ask.days_condition();
    let (table, filter, values) = hist_table(criteria, by, (lo, hi), months(lo, hi), backend);
    let measures: Vec<String> = ask.days.iter().map(i16::to_string).collect();
    let sql = Statement::from_sql_and_values(
        backend,
        format!(
            "SELECT {g}, CAST(measure AS INTEGER), value, CAST(SUM(n) AS BIGINT) FROM {table} \
             WHERE {filter}{decided_in} AND measure IN ({}) GROUP BY {g}, measure, value",
            measures.join(", ")
        ),
        values,
    );
    for r in conn.query_all_raw(sql).await? {
        let group = out.entry(key_of(&r, k)?).or_default();
        let (measure, value, n): (i32, i32, i64) = (get(&r, k)?, get(&r, k + 1)?, get(&r, k + 2)?);
        let hist = group.hist_mut(measure).ok_or_else(|| {
            DbErr::Custom(format!("rollup_hist holds an unknown measure {measure}"))
        })?;
        *hist.entry(i64::from(value)).or_default() += n.max(0) as u64;
    }
    Ok(())
}

/// Adds the histograms asked of the cut month `[a, b)`, from its cells' histograms read once for
/// the request (`CutCells::hists_of`): each read keeps the cells of the cases it counts and sums
/// them by its own keys.
async fn add_cut_hists<C: ConnectionTrait>(
    conn: &C,
    criteria: &Criteria,
    (by, ask): (&[Key], Ask),
    (a, b): (DateTime<Utc>, DateTime<Utc>),
    out: &mut BTreeMap<Vec<String>, Group>,
) -> Result<(), DbErr> {
    // Every read of the request counts the same cut cells' histograms by its own keys.
    let hists = criteria.cut_cells.hists_of(conn, criteria, (a, b)).await?;
    let decided_in = ask
        .days_decided_in
        .map(|((y0, m0), (y1, m1))| (format!("{y0:04}-{m0:02}"), format!("{y1:04}-{m1:02}")));
    for (cell, h) in hists.iter() {
        let decided = &cell[Key::DecidedMonth.cell_index()];
        if (ask.cases == Cases::Decided && decided.is_empty())
            || decided_in
                .as_ref()
                .is_some_and(|(first, last)| decided < first || decided > last)
        {
            continue;
        }
        let key = by.iter().map(|b| cell[b.cell_index()].clone()).collect();
        let group = out.entry(key).or_default();
        for &m in ask.days {
            let (Some(from), Some(into)) = (h.hist(m.into()), group.hist_mut(m.into())) else {
                continue;
            };
            for (value, n) in from {
                *into.entry(*value).or_default() += n;
            }
        }
    }
    Ok(())
}

/// The sums of `table`'s rows that meet `filter`, per group `g` (after `with`), with lead
/// time's n: the cases of the decided cells among those summed.
pub(crate) fn sums_sql(with: &str, table: &str, filter: &str, g: &str) -> String {
    let sums: Vec<String> = CELL_SUM_COLUMNS
        .split(", ")
        .map(|c| {
            let c = c.trim();
            // Real whatever a row holds: SQLite keeps a sum of none, `COALESCE(SUM(x), 0)`
            // in `cut`, as the integer 0 where no column's type makes it real.
            if c.ends_with("_sum") || c.ends_with("_sum2") {
                format!("CAST(SUM({c}) AS DOUBLE PRECISION)")
            } else {
                format!("CAST(SUM({c}) AS BIGINT)")
            }
        })
        .collect();
    format!(
        "{with}SELECT {g}, {}, CAST(SUM(CASE WHEN decided_month <> '' THEN cases ELSE 0 END) \
         AS BIGINT) FROM {table} WHERE {filter} GROUP BY {g}",
        sums.join(", ")
    )
}

/// The rows of a `sums_sql` statement with `k` key columns, each its key's group.
pub(crate) async fn summed<C: ConnectionTrait>(
    conn: &C,
    sql: String,
    values: Vec<Value>,
    k: usize,
) -> Result<Vec<(Vec<String>, Group)>, DbErr> {
    let backend = conn.get_database_backend();
    let decided = k + CELL_SUM_COLUMNS.split(", ").count();
    let mut out = Vec::new();
    for r in conn
        .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?
    {
        let key = key_of(&r, k)?;
        let mut group = Group::default();
        add_cell(&mut group, &r, k)?;
        group.lead.n += get::<i64>(&r, decided)?.max(0) as u64;
        out.push((key, group));
    }
    Ok(out)
}

/// The cut months' cells, each its sums, as a request reads them (every case in its scope:
/// a read of decided cases keeps the decided cells).
type CutRows = Arc<Vec<(Vec<String>, Group)>>;

/// The sums of the cells of the months that dates cut, read from their facts once for a
/// request (its `Criteria`) and shared by its reads, which group the same cells by their own
/// keys: the dashboard makes about ten such reads of each cut month.
#[derive(Debug, Default)]
pub struct CutCells {
    sums: std::sync::Mutex<BTreeMap<CutRange, Arc<OnceCell<CutRows>>>>,
    /// The same cells' histograms of every measure (their sums left at zero): the dashboard
    /// counts them by area, by channel and by month decided from one read of the facts.
    hists: std::sync::Mutex<BTreeMap<CutRange, Arc<OnceCell<CutRows>>>>,
}

/// The cell (once per range) that `map` keeps for `[a, b)`.
fn once_for(
    map: &std::sync::Mutex<BTreeMap<CutRange, Arc<OnceCell<CutRows>>>>,
    (a, b): (DateTime<Utc>, DateTime<Utc>),
) -> Arc<OnceCell<CutRows>> {
    map.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .entry((a.timestamp_millis(), b.timestamp_millis()))
        .or_default()
        .clone()
}

/// A cut month's part by its bounds (milliseconds since the epoch).
type CutRange = (i64, i64);

impl CutCells {
    /// The cells of the cases that meet `criteria` received in `[a, b)`, read by the first
    /// caller (the others wait for it).
    async fn of<C: ConnectionTrait>(
        &self,
        conn: &C,
        criteria: &Criteria,
        (a, b): (DateTime<Utc>, DateTime<Utc>),
    ) -> Result<CutRows, DbErr> {
        let once = once_for(&self.sums, (a, b));
        let rows = once
            .get_or_try_init(|| async {
                let backend = conn.get_database_backend();
                let k = CELL_COLUMNS.split(", ").count();
                let (days, ends) = day_parts(a, b);
                // The whole days from their cells, and the hours at either end that no whole
                // day holds from their facts, summed alike.
                let mut reads: Vec<(String, Vec<Value>)> = Vec::new();
                if let Some((first, end)) = days {
                    let mut values = Vec::new();
                    let mut f = scope(criteria, Cases::All, backend, &mut values);
                    for (day, op) in [(first, ">="), (end, "<")] {
                        values.push(day.into());
                        f.push_str(&format!(
                            " AND received_day {op} {}",
                            placeholder(backend, values.len())
                        ));
                    }
                    reads.push((sums_sql("", "rollup_cell_day", &f, CELL_COLUMNS), values));
                }
                for (x, y) in ends {
                    let mut values = Vec::new();
                    let f = scope_received(
                        criteria,
                        Cases::All,
                        (Some(x), Some(y)),
                        backend,
                        &mut values,
                    );
                    let with = format!(
                        "WITH cut ({CELL_COLUMNS}, {CELL_SUM_COLUMNS}) AS (SELECT {CELL_COLUMNS}, \
                         {CELL_SUMS} FROM metric_fact WHERE {f} GROUP BY {CELL_COLUMNS}) "
                    );
                    reads.push((sums_sql(&with, "cut", "1 = 1", CELL_COLUMNS), values));
                }
                let mut cells: BTreeMap<Vec<String>, Group> = BTreeMap::new();
                for (sql, values) in reads {
                    for (key, g) in summed(conn, sql, values, k).await? {
                        cells.entry(key).or_default().merge(&g);
                    }
                }
                Ok::<_, DbErr>(Arc::new(cells.into_iter().collect()))
            })
            .await?;
        Ok(rows.clone())
    }

    /// The histograms of every measure of the cells of the cases that meet `criteria` received
    /// in `[a, b)`: the facts read once, counted per cell, measure and value by the database.
    async fn hists_of<C: ConnectionTrait>(
        &self,
        conn: &C,
        criteria: &Criteria,
        (a, b): (DateTime<Utc>, DateTime<Utc>),
    ) -> Result<CutRows, DbErr> {
        let once = once_for(&self.hists, (a, b));
        let rows = once
            .get_or_try_init(|| async {
                let backend = conn.get_database_backend();
                let mut values = Vec::new();
                let f = scope_received(
                    criteria,
                    Cases::All,
                    (Some(a), Some(b)),
                    backend,
                    &mut values,
                );
                let columns: Vec<&str> = HIST_MEASURES.iter().map(|(_, c)| *c).collect();
                let sql = lots_store::dialect::histograms(
                    backend,
                    (
                        &format!("{CELL_COLUMNS}, "),
                        &format!("{CELL_COLUMNS}, {}", columns.join(", ")),
                    ),
                    &HIST_MEASURES,
                    "CAST(COUNT(*) AS BIGINT)",
                    &format!("metric_fact WHERE {f}"),
                );
                let k = CELL_COLUMNS.split(", ").count();
                let mut cells: BTreeMap<Vec<String>, Group> = BTreeMap::new();
                for r in conn
                    .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
                    .await?
                {
                    let group = cells.entry(key_of(&r, k)?).or_default();
                    let (measure, value, n): (i32, i32, i64) =
                        (get(&r, k)?, get(&r, k + 1)?, get(&r, k + 2)?);
                    let hist = group
                        .hist_mut(measure)
                        .ok_or_else(|| DbErr::Custom(format!("an unknown measure {measure}")))?;
                    *hist.entry(i64::from(value)).or_default() += n.max(0) as u64;
                }
                Ok::<_, DbErr>(Arc::new(cells.into_iter().collect()))
            })
            .await?;
        Ok(rows.clone())
    }
}

/// Instants `[from, before)`.
pub(crate) type Range = (DateTime<Utc>, DateTime<Utc>);

/// `[a, b)` as the whole days of `rollup_cell_day` it holds (`[first, end)`, if any) and the
/// instants' ranges at either end outside them (the rest of the range when no day is whole).
/// The dates of a request are Stockholm midnights, which lie on a day's start or an hour after
/// it: an end is at most an hour (at night) of facts.
pub(crate) fn day_parts(a: DateTime<Utc>, b: DateTime<Utc>) -> (Option<(i64, i64)>, Vec<Range>) {
    let (a_ms, b_ms) = (a.timestamp_millis(), b.timestamp_millis());
    let first = (a_ms + DAY_SHIFT_MS + DAY_MS - 1).div_euclid(DAY_MS);
    let end = (b_ms + DAY_SHIFT_MS).div_euclid(DAY_MS);
    let start_of = |day: i64| {
        Utc.timestamp_millis_opt(day * DAY_MS - DAY_SHIFT_MS)
            .single()
    };
    let (Some(x), Some(y)) = (start_of(first), start_of(end)) else {
        return (None, vec![(a, b)]);
    };
    if first >= end {
        return (None, if a < b { vec![(a, b)] } else { vec![] });
    }
    let ends = [(a, x), (y, b)]
        .into_iter()
        .filter(|(p, q)| p < q)
        .collect();
    (Some((first, end)), ends)
}

/// The histogram table whole months are read from, with its filter and values: without dates,
/// the coarsest that holds the keys asked (its rows are bounded by the range of durations, not
/// by the months of history; the measures of decided cases have rows for decided cases only, so
/// no condition on the month decided is needed there), else the months' own.
fn hist_table(
    criteria: &Criteria,
    by: &[Key],
    (lo, hi): (Option<&str>, Option<&str>),
    (filter, values): (String, Vec<Value>),
    backend: DbBackend,
) -> (&'static str, String, Vec<Value>) {
    if lo.is_some() || hi.is_some() || by.contains(&Key::ReceivedMonth) {
        return ("rollup_hist", filter, values);
    }
    let table = if by.contains(&Key::DecidedMonth) {
        "rollup_hist_decided"
    } else {
        "rollup_hist_all"
    };
    let mut values = Vec::new();
    let filter = scope(criteria, Cases::All, backend, &mut values);
    (table, filter, values)
}

/// Adds a row of a cell's sums (`CELL_SUM_COLUMNS` from column `first` on) to a group, all but
/// lead time's n (the cases of the decided cells, which the caller knows).
pub(crate) fn add_cell(g: &mut Group, r: &QueryResult, first: usize) -> Result<(), DbErr> {
    let int = |i: usize| -> Result<i64, DbErr> {
        get::<Option<i64>>(r, first - 1 + i).map(Option::unwrap_or_default)
    };
    let real = |i: usize| -> Result<f64, DbErr> {
        get::<Option<f64>>(r, first - 1 + i).map(Option::unwrap_or_default)
    };
    let cases = int(1)?.max(0) as u64;
    g.cases += cases;
    g.lead.seconds += int(2)?;
    g.lead.working += int(3)?;
    g.statutory.n += int(5)?.max(0) as u64;
    g.statutory.seconds += int(6)?;
    g.statutory.working += int(7)?;
    let a = &mut g.answers;
    a.nki.merge(&Sums {
        n: int(9)?.max(0) as u64,
        sum: real(10)?,
        sum2: real(11)?,
    });
    a.weeks += real(12)?;
    a.weeks2 += real(13)?;
    a.weeks_nki += real(14)?;
    for (f, slot) in a.factors.iter_mut().enumerate() {
        slot.merge(&Sums {
            n: int(15 + 3 * f)?.max(0) as u64,
            sum: real(16 + 3 * f)?,
            sum2: real(17 + 3 * f)?,
        });
    }
    g.to_complete.n += int(33)?.max(0) as u64;
    g.to_complete.seconds += int(34)?;
    g.to_complete.working += int(35)?;
    g.due += int(37)?.max(0) as u64;
    g.on_time += int(38)?.max(0) as u64;
    Ok(())
}

/// The first `limit` cases in `order` that meet `criteria` and `condition` (SQL over the facts'
/// columns), and how many there are in all (when `counted`; else how many were listed).
pub async fn listed<C: ConnectionTrait>(
    conn: &C,
    criteria: &Criteria,
    condition: &str,
    (order, limit): (&str, usize),
    counted: bool,
) -> Result<(Vec<i64>, u64), DbErr> {
    let backend = conn.get_database_backend();
    let mut values = Vec::new();
    let filter = scope_received(
        criteria,
        Cases::All,
        (criteria.from, criteria.before),
        backend,
        &mut values,
    );
    let from = format!("FROM metric_fact WHERE {filter} AND ({condition})");
    let ids = conn
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            format!("SELECT case_id {from} ORDER BY {order} LIMIT {limit}"),
            values.clone(),
        ))
        .await?
        .iter()
        .map(|r| get::<i64>(r, 0))
        .collect::<Result<Vec<_>, _>>()?;
    let total = if ids.len() < limit || !counted {
        ids.len() as u64
    } else {
        let row = conn
            .query_one_raw(Statement::from_sql_and_values(
                backend,
                format!("SELECT COUNT(*) {from}"),
                values,
            ))
            .await?
            .ok_or_else(|| DbErr::Custom("no count".into()))?;
        get::<i64>(&row, 0)?.max(0) as u64
    };
    Ok((ids, total))
}

/// A `metric_fact` row, its columns in `FACT_COLUMNS` order.
pub(crate) fn fact(r: &QueryResult) -> Result<Fact, DbErr> {
    let span = |i: usize| -> Result<Option<Span>, DbErr> {
        let seconds: Option<i64> = get(r, i)?;
        let working: Option<i32> = get(r, i + 1)?;
        let days: Option<i32> = get(r, i + 2)?;
        Ok(match (seconds, working, days) {
            (Some(s), Some(w), Some(d)) => Some(Span {
                seconds: s,
                working: i64::from(w),
                days: i64::from(d),
            }),
            _ => None,
        })
    };
    let nki: Option<f64> = get(r, 13)?;
    let mut factors = [None; 6];
    for (i, f) in factors.iter_mut().enumerate() {
        *f = get(r, 14 + i)?;
    }
    Ok(Fact {
        case_id: get(r, 0)?,
        cell: Cell {
            department: get(r, 1)?,
            area: get(r, 2)?,
            channel: get(r, 3)?,
            received_month: get(r, 4)?,
            decided_month: get(r, 5)?,
        },
        received_ms: get(r, 6)?,
        lead: span(7)?,
        statutory: span(10)?,
        answer: nki.map(|nki| Answer { nki, factors }),
        to_complete: span(20)?,
        due_date: get::<Option<i32>>(r, 23)?.and_then(|d| {
            NaiveDate::default().checked_add_signed(chrono::TimeDelta::days(d.into()))
        }),
        on_time: get::<Option<i16>>(r, 24)?.map(|v| v != 0),
        handoffs: get::<Option<i32>>(r, 25)?.map(i64::from),
        departments: get::<Option<i32>>(r, 26)?.map(i64::from),
        sample: get(r, 27)?,
        decided_ms: get(r, 28)?,
        open: get::<i16>(r, 29)? != 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().expect("an instant")
    }

    #[test]
    fn whole_months_come_from_cells_and_cut_months_from_facts() {
        // Stockholm midnight on 1 March 2026 is 23:00 UTC the day before.
        let march = at("2026-02-28T23:00:00Z");
        let may = at("2026-04-30T22:00:00Z");
        let p = plan(Some(march), Some(may)).unwrap();
        assert_eq!(
            p.whole,
            Some((Some("2026-03".into()), Some("2026-05".into())))
        );
        assert!(p.cut.is_empty());
        // Cut at both ends: 10 March to 20 April.
        let (a, b) = (at("2026-03-10T00:00:00Z"), at("2026-04-20T00:00:00Z"));
        let p = plan(Some(a), Some(b)).unwrap();
        assert_eq!(p.whole, None, "no whole month between them");
        assert_eq!(
            p.cut,
            vec![
                (a, at("2026-03-31T22:00:00Z")),
                (at("2026-03-31T22:00:00Z"), b)
            ]
        );
        // Within one month: one range.
        let (a, b) = (at("2026-03-10T00:00:00Z"), at("2026-03-20T00:00:00Z"));
        let p = plan(Some(a), Some(b)).unwrap();
        assert_eq!(p.cut, vec![(a, b)]);
        assert_eq!(p.whole, None);
        // Open at either end.
        let p = plan(None, None).unwrap();
        assert_eq!(p.whole, Some((None, None)));
        let p = plan(Some(a), None).unwrap();
        assert_eq!(p.whole, Some((Some("2026-04".into()), None)));
        assert_eq!(p.cut, vec![(a, at("2026-03-31T22:00:00Z"))]);
    }

    #[test]
    fn a_cut_month_is_its_whole_days_and_at_most_an_hour_at_each_end() {
        let day = |t: &str| (at(t).timestamp_millis() + DAY_SHIFT_MS).div_euclid(DAY_MS);
        // Summer: Stockholm's midnights are the days' starts (22:00 UTC).
        let (a, b) = (at("2026-06-14T22:00:00Z"), at("2026-06-30T22:00:00Z"));
        let (days, ends) = day_parts(a, b);
        assert_eq!(
            days,
            Some((day("2026-06-15T12:00:00Z"), day("2026-07-01T12:00:00Z")))
        );
        assert_eq!(days.map(|(f, e)| e - f), Some(16));
        assert!(ends.is_empty());
        // Winter: a Stockholm midnight (23:00 UTC) is an hour into a day.
        let (a, b) = (at("2026-01-14T23:00:00Z"), at("2026-01-31T23:00:00Z"));
        let (days, ends) = day_parts(a, b);
        assert_eq!(
            days,
            Some((day("2026-01-16T12:00:00Z"), day("2026-02-01T12:00:00Z")))
        );
        assert_eq!(
            ends,
            vec![
                (a, at("2026-01-15T22:00:00Z")),
                (at("2026-01-31T22:00:00Z"), b)
            ]
        );
        // Less than a day: the facts alone.
        let (a, b) = (at("2026-01-14T23:00:00Z"), at("2026-01-15T20:00:00Z"));
        assert_eq!(day_parts(a, b), (None, vec![(a, b)]));
        // The days and ends together are the range, without gaps or overlaps, for any instants.
        for (x, y) in [
            ("2026-03-01T00:30:00Z", "2026-03-29T05:00:00Z"),
            ("2026-10-24T22:00:00Z", "2026-11-02T23:00:00Z"),
            ("2026-03-28T23:00:00Z", "2026-03-30T22:00:00Z"),
        ] {
            let (a, b) = (at(x), at(y));
            let (days, ends) = day_parts(a, b);
            let (first, end) = days.expect("whole days");
            let start = |d: i64| d * DAY_MS - DAY_SHIFT_MS;
            let mut covered: Vec<(i64, i64)> = ends
                .iter()
                .map(|(p, q)| (p.timestamp_millis(), q.timestamp_millis()))
                .collect();
            covered.push((start(first), start(end)));
            covered.sort();
            assert_eq!(covered[0].0, a.timestamp_millis());
            assert_eq!(covered.last().unwrap().1, b.timestamp_millis());
            assert!(covered.windows(2).all(|w| w[0].1 == w[1].0), "{covered:?}");
            assert!(
                ends.iter()
                    .all(|(p, q)| q.timestamp_millis() - p.timestamp_millis() < DAY_MS)
            );
        }
    }
}
