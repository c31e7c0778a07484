//! The spans in the database: written with their case's fact (`metric_span`), rolled up per cell
//! and what is measured (`rollup_span`, `rollup_span_hist`) by the same recomputation as the
//! cells, and read for a request: the ended spans of whole months from the rollups, of cut months
//! from their rows, and the running ones from their rows (there are as many as there is work in
//! progress, not as much as history).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, TimeZone, Utc};
use sea_orm::{ConnectionTrait, DbErr, QueryResult, Statement, Value};

use crate::compute::{AGE_BANDS, Holding, department_load};
use crate::load::Criteria;
use crate::rollup::fact::{Fact, Span};
use crate::rollup::read::{
    Cases, key_of, plan, received_months, received_within, scope, scope_received,
};
use crate::rollup::span::{CaseSpan, Kind, Length};
use crate::rollup::sums::Durations;
use crate::rollup::write::{CELL_COLUMNS, list};
use crate::stats::positions;

/// What a span's rollup row is keyed by after the cell.
pub(crate) const MEASURED_COLUMNS: &str =
    "kind, status, from_department, to_department, handoff_kind";

const SPAN_COLUMNS: [&str; 17] = [
    "department",
    "area",
    "channel",
    "received_month",
    "decided_month",
    "case_id",
    "seq",
    "received_ms",
    "kind",
    "status",
    "from_department",
    "to_department",
    "handoff_kind",
    "seconds",
    "working",
    "days",
    "since_ms",
];

fn span_values(f: &Fact, seq: usize, s: &CaseSpan) -> Vec<Value> {
    let m = &s.measured;
    let (ended, since) = match s.length {
        Length::Ended(s) => (Some(s), None),
        Length::Running(t) => (None, Some(t.timestamp_millis())),
    };
    vec![
        f.cell.department.clone().into(),
        f.cell.area.clone().into(),
        f.cell.channel.clone().into(),
        f.cell.received_month.clone().into(),
        f.cell.decided_month.clone().into(),
        f.case_id.into(),
        Value::Int(i32::try_from(seq).ok()),
        f.received_ms.into(),
        Value::SmallInt(Some(m.kind.code())),
        m.status.clone().into(),
        m.from.clone().into(),
        m.to.clone().into(),
        m.handoff_kind.clone().into(),
        Value::BigInt(ended.map(|s| s.seconds)),
        Value::Int(ended.and_then(|s| i32::try_from(s.working).ok())),
        Value::Int(ended.and_then(|s| i32::try_from(s.days).ok())),
        Value::BigInt(since),
    ]
}

/// Replaces the spans of the cases `ids` with `spans` (each with its case's fact).
pub(crate) async fn replace<C: ConnectionTrait>(
    tx: &C,
    ids: &[i64],
    spans: &[(&Fact, Vec<CaseSpan>)],
) -> Result<(), DbErr> {
    let backend = tx.get_database_backend();
    for chunk in ids.chunks(5_000) {
        tx.execute_raw(Statement::from_sql_and_values(
            backend,
            format!(
                "DELETE FROM metric_span WHERE case_id IN ({})",
                list(backend, 0, chunk.len())
            ),
            chunk.iter().map(|id| (*id).into()).collect::<Vec<Value>>(),
        ))
        .await?;
    }
    let rows: Vec<Vec<Value>> = spans
        .iter()
        .flat_map(|(f, s)| s.iter().enumerate().map(|(i, s)| span_values(f, i, s)))
        .collect();
    let width = SPAN_COLUMNS.len();
    for chunk in rows.chunks(1_000) {
        let tuples: Vec<String> = (0..chunk.len())
            .map(|i| format!("({})", list(backend, i * width, width)))
            .collect();
        let sql = format!(
            "INSERT INTO metric_span ({}) VALUES {}",
            SPAN_COLUMNS.join(", "),
            tuples.join(", ")
        );
        tx.execute_raw(Statement::from_sql_and_values(backend, sql, chunk.concat()))
            .await?;
    }
    Ok(())
}

/// The statements that recompute the span rollups of the cells that `among` keeps (`""`: every
/// cell), after `with` (the dirty cells' `WITH`, or `""`).
pub(crate) fn recompute(with: &str, among: &str) -> [String; 4] {
    let key = format!("{CELL_COLUMNS}, {MEASURED_COLUMNS}");
    let ended = format!("FROM metric_span WHERE seconds IS NOT NULL{among}");
    [
        format!("{with}DELETE FROM rollup_span WHERE 1 = 1{among}"),
        format!("{with}DELETE FROM rollup_span_hist WHERE 1 = 1{among}"),
        format!(
            "{with}INSERT INTO rollup_span ({key}, n, seconds, working) \
             SELECT {key}, COUNT(*), SUM(seconds), SUM(working) {ended} GROUP BY {key}"
        ),
        format!(
            "{with}INSERT INTO rollup_span_hist ({key}, measure, value, n) \
             SELECT {key}, 0, days, COUNT(*) {ended} GROUP BY {key}, days \
             UNION ALL SELECT {key}, 1, working, COUNT(*) {ended} GROUP BY {key}, working"
        ),
    ]
}

/// What a request groups spans by: SQL over the cell's and the span's columns (all text).
#[derive(Debug, Clone, Copy)]
pub struct SpanKey(pub &'static str);

impl SpanKey {
    pub const DEPARTMENT: SpanKey = SpanKey("department");
    pub const AREA: SpanKey = SpanKey("area");
    pub const CHANNEL: SpanKey = SpanKey("channel");
    /// The month of the decision, or of receipt while the case is open.
    pub const MONTH: SpanKey =
        SpanKey("CASE WHEN decided_month <> '' THEN decided_month ELSE received_month END");
    pub const STATUS: SpanKey = SpanKey("status");
    pub const FROM: SpanKey = SpanKey("from_department");
    pub const TO: SpanKey = SpanKey("to_department");
    pub const HANDOFF_KIND: SpanKey = SpanKey("handoff_kind");

    pub fn of(by: crate::GroupBy) -> SpanKey {
        match by {
            crate::GroupBy::Department => SpanKey::DEPARTMENT,
            crate::GroupBy::Area => SpanKey::AREA,
            crate::GroupBy::Channel => SpanKey::CHANNEL,
            crate::GroupBy::Month => SpanKey::MONTH,
        }
    }
}

fn get<T: sea_orm::TryGetable>(r: &QueryResult, i: usize) -> Result<T, DbErr> {
    r.try_get_by_index(i)
}

/// A stored instant (milliseconds since the Unix epoch).
fn instant(ms: i64) -> Result<DateTime<Utc>, DbErr> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .ok_or_else(|| DbErr::Custom(format!("metric_span: bad instant {ms}")))
}

/// An hour in milliseconds: running spans are read counted by the hour they began in.
const HOUR_MS: i64 = 3_600_000;

/// The spans of `kind` of the cases that meet `criteria`, grouped by `by`: the ended ones, and
/// the running ones measured up to `now`.
pub async fn durations<C: ConnectionTrait>(
    conn: &C,
    criteria: &Criteria,
    kind: Kind,
    by: &[SpanKey],
    now: DateTime<Utc>,
) -> Result<BTreeMap<Vec<String>, Durations>, DbErr> {
    durations_decided(conn, criteria, kind, by, now, None).await
}

/// As `durations`, of the cases decided in the months `[first, last]` (names) when given.
pub async fn durations_decided<C: ConnectionTrait>(
    conn: &C,
    criteria: &Criteria,
    kind: Kind,
    by: &[SpanKey],
    now: DateTime<Utc>,
    decided: Option<(&str, &str)>,
) -> Result<BTreeMap<Vec<String>, Durations>, DbErr> {
    let mut out: BTreeMap<Vec<String>, Durations> = BTreeMap::new();
    let Some(plan) = plan(criteria.from, criteria.before) else {
        return Ok(out);
    };
    let read = SpanRead {
        criteria,
        kind,
        by,
        decided,
        backend: conn.get_database_backend(),
    };
    if let Some((lo, hi)) = &plan.whole {
        read.whole_months(conn, (lo.as_deref(), hi.as_deref()), &mut out)
            .await?;
    }
    for range in &plan.cut {
        read.cut_month(conn, *range, &mut out).await?;
    }
    read.running(conn, now, &mut out).await?;
    Ok(out)
}

/// What a read of spans asks: of which kind, grouped by what, of which cases.
struct SpanRead<'a> {
    criteria: &'a Criteria,
    kind: Kind,
    by: &'a [SpanKey],
    /// The months decided in, `[first, last]` (names), when asked.
    decided: Option<(&'a str, &'a str)>,
    backend: sea_orm::DbBackend,
}

type ByKey = BTreeMap<Vec<String>, Durations>;

impl SpanRead<'_> {
    /// The grouping's columns, and how many.
    fn grouping(&self) -> (String, usize) {
        let g = self.by.iter().map(|k| k.0).collect::<Vec<_>>().join(", ");
        (g, self.by.len())
    }

    /// The condition on the caller's scope, the kind and the months decided in.
    fn filter(&self, values: &mut Vec<Value>) -> String {
        let mut f = scope(self.criteria, Cases::All, self.backend, values);
        f.push_str(&format!(" AND kind = {}", self.kind.code()));
        if let Some((first, last)) = self.decided {
            for (month, op) in [(first, ">="), (last, "<=")] {
                values.push(month.to_string().into());
                f.push_str(&format!(
                    " AND decided_month <> '' AND decided_month {op} {}",
                    lots_store::dialect::placeholder(self.backend, values.len())
                ));
            }
        }
        f
    }

    /// The ended spans of the whole months received in `[lo, hi)` (names; `None`: open), from
    /// the rollups: their sums, and their histograms.
    async fn whole_months<C: ConnectionTrait>(
        &self,
        conn: &C,
        (lo, hi): (Option<&str>, Option<&str>),
        out: &mut ByKey,
    ) -> Result<(), DbErr> {
        let (g, k) = self.grouping();
        let mut values = Vec::new();
        let mut f = self.filter(&mut values);
        received_months(&mut f, (lo, hi), self.backend, &mut values);
        let sql = format!(
            "SELECT {g}, CAST(SUM(n) AS BIGINT), CAST(SUM(seconds) AS BIGINT), \
             CAST(SUM(working) AS BIGINT) FROM rollup_span WHERE {f} GROUP BY {g}"
        );
        for r in conn
            .query_all_raw(Statement::from_sql_and_values(
                self.backend,
                sql,
                values.clone(),
            ))
            .await?
        {
            let d = out.entry(key_of(&r, k)?).or_default();
            d.n += get::<i64>(&r, k)?.max(0) as u64;
            d.seconds += get::<i64>(&r, k + 1)?;
            d.working += get::<i64>(&r, k + 2)?;
        }
        // Without dates and months, the histograms summed over the months: their rows are
        // bounded by the range of durations, not by the months of history.
        let coarse = lo.is_none()
            && hi.is_none()
            && self.decided.is_none()
            && self.by.iter().all(|k| !k.0.contains("_month"));
        let (table, f, values) = if coarse {
            let mut values = Vec::new();
            let f = self.filter(&mut values);
            ("rollup_span_hist_all", f, values)
        } else {
            ("rollup_span_hist", f, values)
        };
        let sql = format!(
            "SELECT {g}, CAST(measure AS INTEGER), value, CAST(SUM(n) AS BIGINT) \
             FROM {table} WHERE {f} GROUP BY {g}, measure, value"
        );
        for r in conn
            .query_all_raw(Statement::from_sql_and_values(self.backend, sql, values))
            .await?
        {
            add_hist_row(out, &r, k)?;
        }
        Ok(())
    }

    /// The ended spans of a month cut by the dates (`[a, b)`), counted by the database per whole
    /// days and working days (a row per group and pair of values, not per span).
    async fn cut_month<C: ConnectionTrait>(
        &self,
        conn: &C,
        (a, b): (DateTime<Utc>, DateTime<Utc>),
        out: &mut ByKey,
    ) -> Result<(), DbErr> {
        let (g, k) = self.grouping();
        let mut values = Vec::new();
        let mut f = self.filter(&mut values);
        received_within(&mut f, (Some(a), Some(b)), self.backend, &mut values);
        let sql = format!(
            "SELECT {g}, days, working, CAST(COUNT(*) AS BIGINT), CAST(SUM(seconds) AS BIGINT) \
             FROM metric_span WHERE {f} AND seconds IS NOT NULL GROUP BY {g}, days, working"
        );
        for r in conn
            .query_all_raw(Statement::from_sql_and_values(self.backend, sql, values))
            .await?
        {
            let like = Span {
                seconds: 0,
                days: get::<Option<i32>>(&r, k)?.unwrap_or_default().into(),
                working: get::<Option<i32>>(&r, k + 1)?.unwrap_or_default().into(),
            };
            let (n, seconds): (i64, Option<i64>) = (get(&r, k + 2)?, get(&r, k + 3)?);
            out.entry(key_of(&r, k)?).or_default().add_alike(
                &like,
                n.max(0) as u64,
                seconds.unwrap_or_default(),
            );
        }
        Ok(())
    }

    /// Every running span in scope, measured up to `now`, counted by the hour it began in: every
    /// instant of an hour (UTC) has the same Stockholm date, so the spans of an hour are alike
    /// in whole days and working days, and the database sums their seconds exactly. A request
    /// reads a row per group and hour, not per open case.
    async fn running<C: ConnectionTrait>(
        &self,
        conn: &C,
        now: DateTime<Utc>,
        out: &mut ByKey,
    ) -> Result<(), DbErr> {
        let (g, k) = self.grouping();
        let mut values = Vec::new();
        let mut f = self.filter(&mut values);
        received_within(
            &mut f,
            (self.criteria.from, self.criteria.before),
            self.backend,
            &mut values,
        );
        // `now` written out (a number of ours): SQLite numbers its `?` in the order they stand.
        let now_ms = now.timestamp_millis();
        let sql = format!(
            "SELECT {g}, since_ms / {HOUR_MS}, CAST(COUNT(*) AS BIGINT), \
             CAST(SUM(CASE WHEN since_ms < {now_ms} THEN ({now_ms} - since_ms) / 1000 ELSE 0 END) \
             AS BIGINT) FROM metric_span WHERE {f} AND since_ms IS NOT NULL \
             GROUP BY {g}, since_ms / {HOUR_MS}"
        );
        for r in conn
            .query_all_raw(Statement::from_sql_and_values(self.backend, sql, values))
            .await?
        {
            let hour: i64 = get(&r, k)?;
            let like = Span::between(instant(hour * HOUR_MS)?, now);
            let (n, seconds): (i64, i64) = (get(&r, k + 1)?, get(&r, k + 2)?);
            out.entry(key_of(&r, k)?)
                .or_default()
                .add_alike(&like, n.max(0) as u64, seconds);
        }
        Ok(())
    }
}

/// Adds a histogram row (the `k` key columns, then measure, value, n) to its key's durations.
fn add_hist_row(
    out: &mut BTreeMap<Vec<String>, Durations>,
    r: &QueryResult,
    k: usize,
) -> Result<(), DbErr> {
    let d = out.entry(key_of(r, k)?).or_default();
    let (measure, value, n): (i32, i32, i64) = (get(r, k)?, get(r, k + 1)?, get(r, k + 2)?);
    let hist = match measure {
        0 => &mut d.by_days,
        1 => &mut d.by_working,
        m => {
            return Err(DbErr::Custom(format!(
                "rollup_span_hist holds an unknown measure {m}"
            )));
        }
    };
    *hist.entry(i64::from(value)).or_default() += n.max(0) as u64;
    Ok(())
}

/// An open case held by its owner: the owner, since when, and when the case was received.
#[derive(Debug, Clone, PartialEq)]
pub struct Held {
    pub department: String,
    pub since: DateTime<Utc>,
    pub received: DateTime<Utc>,
}

/// The open cases that meet `criteria` as held by their owners, counted in the database: per
/// department how many, and when it took those at the order statistics of its quantiles; and
/// how many came in within each age band. A request reads a row per department and position,
/// not per open case.
pub async fn holding<C: ConnectionTrait>(
    conn: &C,
    criteria: &Criteria,
    now: DateTime<Utc>,
) -> Result<Holding, DbErr> {
    let backend = conn.get_database_backend();
    let held = |values: &mut Vec<Value>| {
        let f = scope_received(
            criteria,
            Cases::All,
            (criteria.from, criteria.before),
            backend,
            values,
        );
        format!(
            "{f} AND kind = {} AND since_ms IS NOT NULL",
            Kind::Held.code()
        )
    };
    let mut values = Vec::new();
    let f = held(&mut values);
    // Received less than a band's bound ago: after `now` less the bound (as `days` counts).
    // The bounds written out (numbers of ours): SQLite numbers its `?` in the order they stand.
    let within: Vec<String> = AGE_BANDS
        .iter()
        .map(|bound| {
            format!(
                "CAST(SUM(CASE WHEN received_ms > {} THEN 1 ELSE 0 END) AS BIGINT)",
                now.timestamp_millis() - bound * 86_400_000
            )
        })
        .collect();
    let sql = format!(
        "SELECT department, CAST(COUNT(*) AS BIGINT), {} FROM metric_span WHERE {f} \
         GROUP BY department",
        within.join(", ")
    );
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut ages = [0usize; 5];
    for r in conn
        .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?
    {
        let n = get::<i64>(&r, 1)?.max(0) as usize;
        counts.insert(get(&r, 0)?, n);
        // Cumulative counts: each band is what its bound adds to the one before.
        let mut upto = Vec::with_capacity(ages.len());
        for i in 0..AGE_BANDS.len() {
            upto.push(get::<i64>(&r, 2 + i)?.max(0) as usize);
        }
        upto.push(n);
        let mut before = 0;
        for (band, u) in ages.iter_mut().zip(upto) {
            *band += u.saturating_sub(before);
            before = u;
        }
    }
    // Each department's order statistics: positions in ascending holding time, that is in
    // descending `since`.
    let wanted: BTreeSet<usize> = counts
        .values()
        .flat_map(|&n| {
            [0.5, 0.9].into_iter().flat_map(move |p| {
                let (lo, hi, _) = positions(n, p);
                [lo, hi]
            })
        })
        .collect();
    let mut since: BTreeMap<(String, usize), DateTime<Utc>> = BTreeMap::new();
    if !wanted.is_empty() {
        let mut values = Vec::new();
        let f = held(&mut values);
        let list = wanted
            .iter()
            .map(|p| (p + 1).to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT department, CAST(pos AS BIGINT), since_ms FROM (SELECT department, since_ms, \
             ROW_NUMBER() OVER (PARTITION BY department ORDER BY since_ms DESC) AS pos \
             FROM metric_span WHERE {f}) ranked WHERE pos IN ({list})"
        );
        for r in conn
            .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?
        {
            let pos = get::<i64>(&r, 1)?.max(1) as usize - 1;
            since.insert((get(&r, 0)?, pos), instant(get(&r, 2)?)?);
        }
    }
    let departments = counts
        .into_iter()
        .map(|(department, n)| {
            // A position is missing only if the spans changed between the two reads (a drain
            // in between): that order statistic then counts as taken now.
            let at = |i: usize| since.get(&(department.clone(), i)).copied().unwrap_or(now);
            department_load(department.clone(), n, at, now)
        })
        .collect();
    Ok(Holding { departments, ages })
}

/// Rows that differ between the span rollups and `metric_span` summed (both ways), as one count.
pub(crate) fn differences() -> [String; 2] {
    let key = format!("{CELL_COLUMNS}, {MEASURED_COLUMNS}");
    let ended = "FROM metric_span WHERE seconds IS NOT NULL";
    let both = |summed: String, stored: String| {
        format!(
            "SELECT (SELECT COUNT(*) FROM ({summed} EXCEPT {stored}) a) + \
             (SELECT COUNT(*) FROM ({stored} EXCEPT {summed}) b)"
        )
    };
    [
        both(
            format!(
                "SELECT {key}, CAST(COUNT(*) AS BIGINT), CAST(SUM(seconds) AS BIGINT), \
                 CAST(SUM(working) AS BIGINT) {ended} GROUP BY {key}"
            ),
            format!("SELECT {key}, n, seconds, working FROM rollup_span"),
        ),
        both(
            // One query, so that `EXCEPT` applies to the union as a whole.
            format!(
                "SELECT * FROM (SELECT {key}, CAST(0 AS SMALLINT), days, \
                 CAST(COUNT(*) AS BIGINT) {ended} GROUP BY {key}, days UNION ALL \
                 SELECT {key}, CAST(1 AS SMALLINT), working, CAST(COUNT(*) AS BIGINT) {ended} \
                 GROUP BY {key}, working) u"
            ),
            format!("SELECT {key}, measure, value, n FROM rollup_span_hist"),
        ),
    ]
}

/// A stored span row's measured part and length, to compare with a recomputation: (case, seq,
/// kind, status, from, to, handoff kind, seconds, working, days, since).
pub(crate) type SpanRow = (
    i64,
    i32,
    i16,
    String,
    String,
    String,
    String,
    Option<i64>,
    Option<i32>,
    Option<i32>,
    Option<i64>,
);

pub(crate) const SPAN_ROW_COLUMNS: &str = "case_id, seq, kind, status, from_department, \
    to_department, handoff_kind, seconds, working, days, since_ms";

/// The rows a case's spans are stored as (with `SPAN_ROW_COLUMNS`).
pub(crate) fn rows_of(case_id: i64, spans: &[CaseSpan]) -> Vec<SpanRow> {
    spans
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let m = &s.measured;
            let (ended, since) = match s.length {
                Length::Ended(s) => (Some(s), None),
                Length::Running(t) => (None, Some(t.timestamp_millis())),
            };
            (
                case_id,
                i as i32,
                m.kind.code(),
                m.status.clone(),
                m.from.clone(),
                m.to.clone(),
                m.handoff_kind.clone(),
                ended.map(|s| s.seconds),
                ended.map(|s| s.working as i32),
                ended.map(|s| s.days as i32),
                since,
            )
        })
        .collect()
}
