//! The linkage's rollups (migration 20): the answered, decided cases' answers bucketed by lead
//! time in whole days, by departments passed through and by handoffs (`rollup_link`), and per
//! department passed through (`rollup_attr`), recomputed with the cells; and what the linkage
//! reads for a request: those sums, the areas' regression sums from the cells, and a bounded
//! sample per area for Spearman's ρ. Its cost is the buckets' and the sample's, not the answers'.
//!
//! The answers' sums are kept in millionths, as integers, so that the tables summed over the
//! months (`rollup_link_all`, `rollup_attr_all`) are kept by exact differences like the other
//! coarse histograms (`write::Coarse`).

use chrono::{DateTime, Utc};
use futures::FutureExt;
use sea_orm::{ConnectionTrait, DbErr, QueryResult, Statement};

use crate::compute::{LinkageInputs, Through};
use crate::load::Criteria;
use crate::rollup::read::{self, Ask, Cases, Key, plan, received_months, scope, scope_received};
use crate::rollup::span::Kind;
use crate::rollup::sums::{Answers, Sums};
use crate::rollup::write::CELL_COLUMNS;

/// How many answered cases of each area the sample holds (docs/metrics.md, "Linkage").
pub const SAMPLE: usize = 5_000;

macro_rules! answer_columns {
    () => {
        "n, nki, nki2, factor0_n, factor0, factor02, factor1_n, factor1, factor12, \
         factor2_n, factor2, factor22, factor3_n, factor3, factor32, factor4_n, factor4, \
         factor42, factor5_n, factor5, factor52"
    };
}

/// The answers' sums a row of `rollup_link` or `rollup_attr` keeps, in column order.
pub(crate) const ANSWER_COLUMNS: &str = answer_columns!();

/// What a row of `rollup_attr` sums: the answers', then the seconds spent and lead seconds.
pub(crate) const ATTR_SUMS: &str = concat!(answer_columns!(), ", spent, lead");

/// A value in millionths, as an integer.
fn micro(e: &str) -> String {
    format!("CAST(ROUND(({e}) * 1000000) AS BIGINT)")
}

/// `ANSWER_COLUMNS` as SQL over rows with `nki` and `factor0`…`factor5`.
fn answer_sums() -> String {
    let mut out = vec![
        "CAST(COUNT(*) AS BIGINT)".to_string(),
        format!("CAST(SUM({}) AS BIGINT)", micro("nki")),
        format!("CAST(SUM({}) AS BIGINT)", micro("nki * nki")),
    ];
    for f in 0..6 {
        let c = format!("factor{f}");
        out.push(format!("CAST(COUNT({c}) AS BIGINT)"));
        out.push(format!("CAST(COALESCE(SUM({}), 0) AS BIGINT)", micro(&c)));
        out.push(format!(
            "CAST(COALESCE(SUM({}), 0) AS BIGINT)",
            micro(&format!("{c} * {c}"))
        ));
    }
    out.join(", ")
}

const FACTORS: &str = "nki, factor0, factor1, factor2, factor3, factor4, factor5";

/// Every answered, decided case's passage through a department, with its cell, its answer and
/// its lead time: what `rollup_attr` sums; `facts` narrows the facts joined (`""`: all).
fn passages(facts: &str) -> String {
    let f: Vec<String> = FACTORS.split(", ").map(|c| format!("f.{c}")).collect();
    format!(
        "SELECT s.department, s.area, s.channel, s.received_month, s.decided_month, \
         s.received_ms, s.to_department AS through, s.seconds AS spent, f.lead_seconds, {} \
         FROM metric_span s JOIN metric_fact f ON f.case_id = s.case_id{facts} \
         WHERE s.kind = {} AND s.seconds IS NOT NULL AND f.nki IS NOT NULL",
        f.join(", "),
        Kind::Passage.code()
    )
}

/// The buckets of `rollup_link`: its measure and the fact's column it counts by.
const MEASURES: [(i16, &str); 3] = [(0, "lead_days"), (1, "departments"), (2, "handoffs")];

/// `rollup_link`'s rows of the answered, decided facts that `among` keeps, per cell, measure and
/// value, as SQL: one SELECT per measure.
fn link_select(among: &str) -> String {
    let sums = answer_sums();
    MEASURES
        .iter()
        .map(|(m, col)| {
            format!(
                "SELECT {CELL_COLUMNS}, {m}, {col}, {sums} FROM metric_fact \
                 WHERE nki IS NOT NULL AND decided_month <> '' AND {col} IS NOT NULL{among} \
                 GROUP BY {CELL_COLUMNS}, {col}"
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ")
}

fn attr_select(among: &str) -> String {
    attr_rows(&format!("{CELL_COLUMNS}, "), among, "")
}

/// The passages that `among` keeps summed per `keys` (each followed by a comma; `""`: all
/// together) and department passed through (of the facts that `facts` keeps, as `passages`).
fn attr_rows(keys: &str, among: &str, facts: &str) -> String {
    format!(
        "SELECT {keys}through, {}, CAST(SUM(spent) AS BIGINT), \
         CAST(SUM(lead_seconds) AS BIGINT) FROM ({}) p WHERE 1 = 1{among} \
         GROUP BY {keys}through",
        answer_sums(),
        passages(facts)
    )
}

/// The statements that recompute the linkage's rollups of the cells that `among` keeps (`""`:
/// every cell), after `with` (the dirty cells' `WITH`, or `""`).
pub(crate) fn recompute(with: &str, among: &str) -> [String; 4] {
    [
        format!("{with}DELETE FROM rollup_link WHERE 1 = 1{among}"),
        format!("{with}DELETE FROM rollup_attr WHERE 1 = 1{among}"),
        format!(
            "{with}INSERT INTO rollup_link ({CELL_COLUMNS}, measure, value, {ANSWER_COLUMNS}) {}",
            link_select(among)
        ),
        format!(
            "{with}INSERT INTO rollup_attr ({CELL_COLUMNS}, through, {ATTR_SUMS}) {}",
            attr_select(among)
        ),
    ]
}

/// Rows that differ between the linkage's rollups and the facts and spans summed (both ways),
/// as one count each.
pub(crate) fn differences() -> [String; 2] {
    let both = |summed: String, stored: String| {
        format!(
            "SELECT (SELECT COUNT(*) FROM ({summed} EXCEPT {stored}) a) + \
             (SELECT COUNT(*) FROM ({stored} EXCEPT {summed}) b)"
        )
    };
    [
        both(
            format!("SELECT * FROM ({}) u", link_select("")),
            format!("SELECT {CELL_COLUMNS}, measure, value, {ANSWER_COLUMNS} FROM rollup_link"),
        ),
        both(
            attr_select(""),
            format!("SELECT {CELL_COLUMNS}, through, {ATTR_SUMS} FROM rollup_attr"),
        ),
    ]
}

fn get<T: sea_orm::TryGetable>(r: &QueryResult, i: usize) -> Result<T, DbErr> {
    r.try_get_by_index(i)
}

/// The answers' sums of a row, from its column `first` on (`ANSWER_COLUMNS`, summed).
fn answers_at(r: &QueryResult, first: usize) -> Result<Answers, DbErr> {
    let sums = |i: usize| -> Result<Sums, DbErr> {
        Ok(Sums {
            n: get::<i64>(r, i)?.max(0) as u64,
            sum: get::<i64>(r, i + 1)? as f64 / 1e6,
            sum2: get::<i64>(r, i + 2)? as f64 / 1e6,
        })
    };
    let mut a = Answers {
        nki: sums(first)?,
        ..Answers::default()
    };
    for (f, slot) in a.factors.iter_mut().enumerate() {
        *slot = sums(first + 3 + 3 * f)?;
    }
    Ok(a)
}

/// `ANSWER_COLUMNS` summed, as SQL.
fn summed(extra: &[&str]) -> String {
    ANSWER_COLUMNS
        .split(", ")
        .chain(extra.iter().copied())
        .map(|c| format!("CAST(SUM({c}) AS BIGINT)"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What the linkage over the answered, decided cases that meet `criteria` is computed from.
pub async fn inputs<C: ConnectionTrait>(
    conn: &C,
    criteria: &Criteria,
    sample: usize,
) -> Result<LinkageInputs, DbErr> {
    let mut out = LinkageInputs {
        sample_size: sample,
        ..LinkageInputs::default()
    };
    let Some(plan) = plan(criteria.from, criteria.before) else {
        return Ok(out);
    };
    for (key, g) in read::groups_by(conn, criteria, &[Key::Area], Ask::DECIDED).await? {
        if g.answers.n() > 0
            && let Some(area) = key.into_iter().next()
        {
            out.areas.insert(area, g.answers);
        }
    }
    // The areas' samples are read side by side, and beside the buckets and passages.
    let areas: Vec<String> = out.areas.keys().cloned().collect();
    let samples =
        futures::future::try_join_all(areas.iter().map(|a| sample_of(conn, criteria, a, sample)));
    // The whole months and each cut month side by side too, each into buckets of its own.
    let whole = plan.whole.iter().map(|(lo, hi)| {
        let mut part = LinkageInputs::default();
        async move {
            whole_months(conn, criteria, (lo.as_deref(), hi.as_deref()), &mut part).await?;
            Ok::<_, DbErr>(part)
        }
        .boxed()
    });
    let cut = plan.cut.iter().map(|range| {
        let mut part = LinkageInputs::default();
        async move {
            cut_month(conn, criteria, *range, &mut part).await?;
            Ok::<_, DbErr>(part)
        }
        .boxed()
    });
    let buckets = futures::future::try_join_all(whole.chain(cut));
    let (parts, samples) = tokio::try_join!(buckets, samples)?;
    for part in parts {
        for (mine, theirs) in [
            (&mut out.by_lead_days, part.by_lead_days),
            (&mut out.by_departments, part.by_departments),
            (&mut out.by_handoffs, part.by_handoffs),
        ] {
            for (value, answers) in theirs {
                mine.entry(value).or_default().merge(&answers);
            }
        }
        for (department, t) in part.through {
            let mine = out.through.entry(department).or_default();
            mine.answers.merge(&t.answers);
            mine.spent += t.spent;
            mine.lead += t.lead;
        }
    }
    out.sample = areas.into_iter().zip(samples).collect();
    Ok(out)
}

/// Adds the buckets and passages of the whole months received in `[lo, hi)` (either end open;
/// both open: the tables summed over the months).
async fn whole_months<C: ConnectionTrait>(
    conn: &C,
    criteria: &Criteria,
    (lo, hi): (Option<&str>, Option<&str>),
    out: &mut LinkageInputs,
) -> Result<(), DbErr> {
    let backend = conn.get_database_backend();
    let mut values = Vec::new();
    // Only answered, decided cases have rows: no condition on the month decided is needed.
    let mut f = scope(criteria, Cases::All, backend, &mut values);
    let coarse = lo.is_none() && hi.is_none();
    if !coarse {
        received_months(&mut f, (lo, hi), backend, &mut values);
    }
    let (link, attr) = if coarse {
        ("rollup_link_all", "rollup_attr_all")
    } else {
        ("rollup_link", "rollup_attr")
    };
    let sql = format!(
        "SELECT CAST(measure AS INTEGER), value, {} FROM {link} WHERE {f} \
         GROUP BY measure, value",
        summed(&[])
    );
    for r in conn
        .query_all_raw(Statement::from_sql_and_values(backend, sql, values.clone()))
        .await?
    {
        let (measure, value): (i32, i32) = (get(&r, 0)?, get(&r, 1)?);
        bucket(out, measure, value.into())?.merge(&answers_at(&r, 2)?);
    }
    let sql = format!(
        "SELECT through, {} FROM {attr} WHERE {f} GROUP BY through",
        summed(&["spent", "lead"])
    );
    let spent = 1 + ANSWER_COLUMNS.split(", ").count();
    for r in conn
        .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?
    {
        let t = out.through.entry(get(&r, 0)?).or_default();
        t.answers.merge(&answers_at(&r, 1)?);
        t.spent += get::<i64>(&r, spent)?;
        t.lead += get::<i64>(&r, spent + 1)?;
    }
    Ok(())
}

fn bucket(out: &mut LinkageInputs, measure: i32, value: i64) -> Result<&mut Answers, DbErr> {
    let map = match measure {
        0 => &mut out.by_lead_days,
        1 => &mut out.by_departments,
        2 => &mut out.by_handoffs,
        m => {
            return Err(DbErr::Custom(format!(
                "rollup_link holds an unknown measure {m}"
            )));
        }
    };
    Ok(map.entry(value).or_default())
}

/// Adds the answered cases received in `[from, before)`, a month cut by the dates, from their
/// facts and passages, summed by the database as the rollups sum them (a row per bucket and per
/// department passed through, not per answer).
async fn cut_month<C: ConnectionTrait>(
    conn: &C,
    criteria: &Criteria,
    range: (DateTime<Utc>, DateTime<Utc>),
    out: &mut LinkageInputs,
) -> Result<(), DbErr> {
    let backend = conn.get_database_backend();
    let mut values = Vec::new();
    let f = scope_received(
        criteria,
        Cases::Decided,
        (Some(range.0), Some(range.1)),
        backend,
        &mut values,
    );
    // The cut month's answers read once (the placeholders stand once), bucketed per measure.
    let buckets = lots_store::dialect::histograms(
        backend,
        (
            "",
            &format!("{}, {FACTORS}", MEASURES.map(|(_, c)| c).join(", ")),
        ),
        &MEASURES,
        &answer_sums(),
        &format!("metric_fact WHERE {f} AND nki IS NOT NULL AND decided_month <> ''"),
    );
    for r in conn
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            buckets,
            values.clone(),
        ))
        .await?
    {
        let (measure, value): (i32, i32) = (get(&r, 0)?, get(&r, 1)?);
        bucket(out, measure, value.into())?.merge(&answers_at(&r, 2)?);
    }
    let spent = 1 + ANSWER_COLUMNS.split(", ").count();
    // The facts of the passages' cases are those received in the range too: said of them as
    // well, PostgreSQL joins the two ranges by hashing instead of looking up each passage's
    // fact (the numbers are ours, written out: SQLite numbers its `?` in the order they stand).
    let facts = format!(
        " AND f.received_ms >= {} AND f.received_ms < {}",
        range.0.timestamp_millis(),
        range.1.timestamp_millis()
    );
    for r in conn
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            attr_rows("", &format!(" AND {f}"), &facts),
            values,
        ))
        .await?
    {
        let t: &mut Through = out.through.entry(get(&r, 0)?).or_default();
        t.answers.merge(&answers_at(&r, 1)?);
        t.spent += get::<Option<i64>>(&r, spent)?.unwrap_or_default();
        t.lead += get::<Option<i64>>(&r, spent + 1)?.unwrap_or_default();
    }
    Ok(())
}

/// The first `n` answered, decided cases of `area` that meet `criteria`, in the sample order:
/// (place, lead time in weeks, NKI).
async fn sample_of<C: ConnectionTrait>(
    conn: &C,
    criteria: &Criteria,
    area: &str,
    n: usize,
) -> Result<Vec<(i64, f64, f64)>, DbErr> {
    let backend = conn.get_database_backend();
    let mut values = Vec::new();
    // An answer is a decided case's: no condition on the month decided, so that the index
    // `metric_fact_sample` covers the query.
    let f = scope_received(
        criteria,
        Cases::All,
        (criteria.from, criteria.before),
        backend,
        &mut values,
    );
    values.push(area.to_string().into());
    let sql = format!(
        "SELECT sample, lead_seconds, nki FROM metric_fact WHERE {f} AND area = {} \
         AND nki IS NOT NULL ORDER BY sample LIMIT {n}",
        lots_store::dialect::placeholder(backend, values.len())
    );
    conn.query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?
        .iter()
        .map(|r| {
            let lead: Option<i64> = get(r, 1)?;
            Ok((
                get(r, 0)?,
                lead.unwrap_or_default() as f64 / (7.0 * 86_400.0),
                get(r, 2)?,
            ))
        })
        .collect()
}
