//! Keeping the rollups current: the worker takes queued cases, rewrites their facts from their
//! stored history and recomputes the cells they left and entered, in one transaction that also
//! deletes exactly the queue rows it took. A change that commits while the worker runs left its
//! own row, which the next batch takes; a batch that fails or is killed is rolled back whole and
//! its rows are taken again. A cell is always recomputed from its facts, never adjusted by a
//! difference, so a case processed twice is counted once. On PostgreSQL an advisory lock makes
//! the workers of every process take turns.

use std::collections::BTreeSet;

use lots_store::Db;
use lots_store::dialect::placeholder;
use sea_orm::{
    Condition, ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, Statement, Value,
};

use crate::load::read_on;
use crate::rollup::fact::{Cell, Fact, Span};
use crate::rollup::span::{CaseSpan, spans_of};
use crate::rollup::{link, span_db};

/// A queue row whose case id is this asks for every cell to be recomputed from the facts (the
/// end of a rebuild). Case ids start at 1.
pub const EVERY_CELL: i64 = 0;

/// The key of the advisory lock the workers take turns on (PostgreSQL).
const LOCK: i64 = 0x4c6f_7473_526f_6c6c; // "LotsRoll"

/// How many queued rows a batch takes.
pub const BATCH: u64 = 2_000;

pub(crate) const FACT_COLUMNS: [&str; 30] = [
    "case_id",
    "department",
    "area",
    "channel",
    "received_month",
    "decided_month",
    "received_ms",
    "lead_seconds",
    "lead_working",
    "lead_days",
    "stat_seconds",
    "stat_working",
    "stat_days",
    "nki",
    "factor0",
    "factor1",
    "factor2",
    "factor3",
    "factor4",
    "factor5",
    "complete_seconds",
    "complete_working",
    "complete_days",
    "due_day",
    "on_time",
    "handoffs",
    "departments",
    "sample",
    "decided_ms",
    "is_open",
];

pub(crate) const CELL_COLUMNS: &str = "department, area, channel, received_month, decided_month";

/// The day a fact was received, as `rollup_cell_day` keys it: a day of UTC+2 (Stockholm's in
/// summer; in winter from 23:00 Stockholm time the evening before), so that it is integer
/// arithmetic on both databases. `day_bounds` says which instants a day holds.
pub(crate) const RECEIVED_DAY: &str = "(received_ms + 7200000) / 86400000";

/// A day of `RECEIVED_DAY`'s: its length and the shift of its start from UTC midnight.
pub(crate) const DAY_MS: i64 = 86_400_000;
pub(crate) const DAY_SHIFT_MS: i64 = 7_200_000;

/// The statements that recompute the day cells of the cells that `among` keeps (`""`: every
/// cell), after `with`.
fn recompute_days(with: &str, among: &str) -> [String; 2] {
    [
        format!("{with}DELETE FROM rollup_cell_day WHERE 1 = 1{among}"),
        format!(
            "{with}INSERT INTO rollup_cell_day ({CELL_COLUMNS}, received_day, {CELL_SUM_COLUMNS}) \
             SELECT {CELL_COLUMNS}, {RECEIVED_DAY}, {CELL_SUMS} FROM metric_fact WHERE 1 = 1{among} \
             GROUP BY {CELL_COLUMNS}, {RECEIVED_DAY}"
        ),
    ]
}

/// What a batch does with the cells its cases touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cells {
    /// Recompute them now (live).
    Recompute,
    /// A rebuild: take only rows up to its `EVERY_CELL` row (this id), and leave the cells to
    /// that row, which recomputes them all at once. Rows queued after it are the live workers'.
    UpTo(i64),
}

/// Takes up to `limit` queued rows and brings their cases' facts and cells up to date. Returns
/// how many rows it took (0: the queue was empty).
pub async fn batch(db: &Db, limit: u64, cells: Cells) -> Result<u64, DbErr> {
    // Most requests find the queue empty: a read says so without taking the write lock. By
    // the key's index, which skips the rows a drain deleted; a scan of the table reads them
    // until vacuum has come by (ten million after a bulk drain: 90 ms a request).
    let any: Vec<(i64,)> = rows(
        db.reader(),
        Statement::from_string(
            db.backend(),
            "SELECT id FROM rollup_queue ORDER BY id LIMIT 1".to_string(),
        ),
    )
    .await?;
    if any.is_empty() {
        return Ok(0);
    }
    let tx = db.begin().await?;
    let backend = tx.get_database_backend();
    if backend == DbBackend::Postgres {
        tx.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({LOCK})"))
            .await?;
    }
    let taken: Vec<(i64, i64)> = rows(
        &tx,
        Statement::from_string(
            backend,
            match cells {
                Cells::Recompute => {
                    format!("SELECT id, case_id FROM rollup_queue ORDER BY id LIMIT {limit}")
                }
                Cells::UpTo(last) => format!(
                    "SELECT id, case_id FROM rollup_queue WHERE id <= {last} ORDER BY id LIMIT {limit}"
                ),
            },
        ),
    )
    .await?;
    if taken.is_empty() {
        tx.commit().await?;
        return Ok(0);
    }
    // A rebuild's last row, or one left by a rebuild that was stopped and is taken live.
    let every_cell = taken.iter().any(|(_, c)| *c == EVERY_CELL);
    let ids: Vec<i64> = taken
        .iter()
        .map(|(_, c)| *c)
        .filter(|c| *c != EVERY_CELL)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let started = std::time::Instant::now();
    let records = read_on(&tx, Condition::all(), Some(&ids)).await?;
    let read = started.elapsed();
    let (facts, spans): (Vec<Fact>, Vec<Vec<CaseSpan>>) = records
        .iter()
        .map(|c| {
            let spans = spans_of(c);
            (Fact::with_spans(c, &spans), spans)
        })
        .unzip();
    let computed = started.elapsed();
    let mut dirty = delete_facts(&tx, &ids).await?;
    insert_facts(&tx, &facts).await?;
    let facts_written = started.elapsed();
    // A case's spans are in its fact's cell: the cells dirtied are the facts' old and new ones.
    let spans: Vec<(&Fact, Vec<CaseSpan>)> = facts.iter().zip(spans).collect();
    span_db::replace(&tx, &ids, &spans).await?;
    let spans_written = started.elapsed();
    if every_cell {
        recompute_every_cell(&tx).await?;
    } else if cells == Cells::Recompute {
        dirty.extend(facts.iter().map(|f| f.cell.clone()));
        recompute(&tx, &dirty.into_iter().collect::<Vec<_>>()).await?;
    }
    if backend == DbBackend::Postgres {
        // The queue's delete names thousands of ids (`IN ($1, …)`): after five runs PostgreSQL
        // would plan it once for any ids, and that generic plan (the queue looked empty to its
        // statistics) compares every queued row with every id: 1.9 s a batch at 100 000 cases.
        tx.execute_unprepared("SET LOCAL plan_cache_mode = force_custom_plan")
            .await?;
    }
    let queue_ids: Vec<Value> = taken.iter().map(|(id, _)| (*id).into()).collect();
    for chunk in queue_ids.chunks(5_000) {
        tx.execute_raw(Statement::from_sql_and_values(
            backend,
            format!(
                "DELETE FROM rollup_queue WHERE id IN ({})",
                list(backend, 0, chunk.len())
            ),
            chunk.to_vec(),
        ))
        .await?;
    }
    tx.commit().await?;
    tracing::debug!(
        cases = ids.len(),
        read_ms = read.as_millis() as u64,
        computed_ms = (computed - read).as_millis() as u64,
        facts_ms = (facts_written - computed).as_millis() as u64,
        spans_ms = (spans_written - facts_written).as_millis() as u64,
        cells_and_commit_ms = (started.elapsed() - spans_written).as_millis() as u64,
        "rollup batch"
    );
    Ok(taken.len() as u64)
}

/// How many rows wait in the queue.
pub async fn pending<C: ConnectionTrait>(conn: &C) -> Result<u64, DbErr> {
    let n: Vec<(i64,)> = rows(
        conn,
        Statement::from_string(
            conn.get_database_backend(),
            "SELECT COUNT(*) FROM rollup_queue".to_string(),
        ),
    )
    .await?;
    Ok(n.first().map_or(0, |r| r.0.max(0) as u64))
}

/// Queues every case, then a row that recomputes every cell: what `lots rollups rebuild`
/// drains. One transaction, so a rebuild is either queued whole or not at all. Answers the
/// id of that last row.
pub async fn queue_everything(db: &Db) -> Result<i64, DbErr> {
    let tx = db.begin().await?;
    tx.execute_unprepared(
        "INSERT INTO rollup_queue (case_id) SELECT id FROM case_record ORDER BY id",
    )
    .await?;
    let id = queue_every_cell(&tx).await?;
    tx.commit().await?;
    Ok(id)
}

/// Queues the row that recomputes every cell, after every row queued so far: draining up to it
/// (`Cells::UpTo`) writes the facts alone and the cells once at the end, the quicker way through
/// a long queue (an import's). Answers its id.
pub async fn queue_every_cell<C: ConnectionTrait>(tx: &C) -> Result<i64, DbErr> {
    let id: Vec<(i64,)> = rows(
        tx,
        Statement::from_string(
            tx.get_database_backend(),
            format!("INSERT INTO rollup_queue (case_id) VALUES ({EVERY_CELL}) RETURNING id"),
        ),
    )
    .await?;
    id.first()
        .map(|r| r.0)
        .ok_or_else(|| DbErr::Custom("the queue gave no id".into()))
}

/// The last `EVERY_CELL` row of the rebuilds that have not finished, if any: draining up to it
/// finishes them all.
pub async fn unfinished_rebuild<C: ConnectionTrait>(conn: &C) -> Result<Option<i64>, DbErr> {
    let id: Vec<(Option<i64>,)> = rows(
        conn,
        Statement::from_string(
            conn.get_database_backend(),
            format!("SELECT MAX(id) FROM rollup_queue WHERE case_id = {EVERY_CELL}"),
        ),
    )
    .await?;
    Ok(id.first().and_then(|r| r.0))
}

async fn rows<C: ConnectionTrait, T: sea_orm::TryGetableMany>(
    conn: &C,
    stmt: Statement,
) -> Result<Vec<T>, DbErr> {
    conn.query_all_raw(stmt)
        .await?
        .iter()
        .map(|r| T::try_get_many_by_index(r).map_err(DbErr::from))
        .collect()
}

/// `n` placeholders after the first `from`, comma-separated.
pub(crate) fn list(backend: DbBackend, from: usize, n: usize) -> String {
    (1..=n)
        .map(|i| placeholder(backend, from + i))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Deletes the cases' facts and answers the cells they counted in.
async fn delete_facts(tx: &DatabaseTransaction, ids: &[i64]) -> Result<BTreeSet<Cell>, DbErr> {
    let backend = tx.get_database_backend();
    let mut cells = BTreeSet::new();
    for chunk in ids.chunks(5_000) {
        let gone: Vec<(String, String, String, String, String)> = rows(
            tx,
            Statement::from_sql_and_values(
                backend,
                format!(
                    "DELETE FROM metric_fact WHERE case_id IN ({}) RETURNING {CELL_COLUMNS}",
                    list(backend, 0, chunk.len())
                ),
                chunk.iter().map(|id| (*id).into()).collect::<Vec<Value>>(),
            ),
        )
        .await?;
        cells.extend(gone.into_iter().map(|(d, a, c, r, m)| Cell {
            department: d,
            area: a,
            channel: c,
            received_month: r,
            decided_month: m,
        }));
    }
    Ok(cells)
}

fn span_values(s: Option<&Span>) -> [Value; 3] {
    match s {
        Some(s) => [
            s.seconds.into(),
            Value::Int(i32::try_from(s.working).ok()),
            Value::Int(i32::try_from(s.days).ok()),
        ],
        None => [Value::BigInt(None), Value::Int(None), Value::Int(None)],
    }
}

/// A date as days since 1970-01-01.
pub(crate) fn day_number(d: chrono::NaiveDate) -> i32 {
    (d - chrono::NaiveDate::default()).num_days() as i32
}

fn fact_values(f: &Fact) -> Vec<Value> {
    let mut v: Vec<Value> = vec![
        f.case_id.into(),
        f.cell.department.clone().into(),
        f.cell.area.clone().into(),
        f.cell.channel.clone().into(),
        f.cell.received_month.clone().into(),
        f.cell.decided_month.clone().into(),
        f.received_ms.into(),
    ];
    v.extend(span_values(f.lead.as_ref()));
    v.extend(span_values(f.statutory.as_ref()));
    v.push(Value::Double(f.answer.map(|a| a.nki)));
    for i in 0..6 {
        v.push(Value::Double(f.answer.and_then(|a| a.factors[i])));
    }
    v.extend(span_values(f.to_complete.as_ref()));
    v.push(Value::Int(f.due_date.map(day_number)));
    v.push(Value::SmallInt(f.on_time.map(i16::from)));
    for n in [f.handoffs, f.departments] {
        v.push(Value::Int(n.and_then(|n| i32::try_from(n).ok())));
    }
    v.push(f.sample.into());
    v.push(Value::BigInt(f.decided_ms));
    v.push(Value::SmallInt(Some(i16::from(f.open))));
    v
}

pub(crate) async fn insert_facts<C: ConnectionTrait>(tx: &C, facts: &[Fact]) -> Result<(), DbErr> {
    let backend = tx.get_database_backend();
    let width = FACT_COLUMNS.len();
    for chunk in facts.chunks(600) {
        let tuples: Vec<String> = (0..chunk.len())
            .map(|i| format!("({})", list(backend, i * width, width)))
            .collect();
        let sql = format!(
            "INSERT INTO metric_fact ({}) VALUES {}",
            FACT_COLUMNS.join(", "),
            tuples.join(", ")
        );
        let values: Vec<Value> = chunk.iter().flat_map(fact_values).collect();
        tx.execute_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?;
    }
    Ok(())
}

/// The sums a cell keeps, as SQL over its facts (`rollup_cell`'s columns after the key).
pub(crate) const CELL_SUMS: &str = "COUNT(*), \
    COALESCE(SUM(lead_seconds), 0), COALESCE(SUM(lead_working), 0), COALESCE(SUM(lead_days), 0), \
    COUNT(stat_seconds), COALESCE(SUM(stat_seconds), 0), COALESCE(SUM(stat_working), 0), \
    COALESCE(SUM(stat_days), 0), \
    COUNT(nki), COALESCE(SUM(nki), 0), COALESCE(SUM(nki * nki), 0), \
    COALESCE(SUM(CASE WHEN nki IS NOT NULL THEN CAST(lead_seconds AS DOUBLE PRECISION) / 604800 END), 0), \
    COALESCE(SUM(CASE WHEN nki IS NOT NULL THEN (CAST(lead_seconds AS DOUBLE PRECISION) / 604800) * (CAST(lead_seconds AS DOUBLE PRECISION) / 604800) END), 0), \
    COALESCE(SUM(nki * (CAST(lead_seconds AS DOUBLE PRECISION) / 604800)), 0), \
    COUNT(factor0), COALESCE(SUM(factor0), 0), COALESCE(SUM(factor0 * factor0), 0), \
    COUNT(factor1), COALESCE(SUM(factor1), 0), COALESCE(SUM(factor1 * factor1), 0), \
    COUNT(factor2), COALESCE(SUM(factor2), 0), COALESCE(SUM(factor2 * factor2), 0), \
    COUNT(factor3), COALESCE(SUM(factor3), 0), COALESCE(SUM(factor3 * factor3), 0), \
    COUNT(factor4), COALESCE(SUM(factor4), 0), COALESCE(SUM(factor4 * factor4), 0), \
    COUNT(factor5), COALESCE(SUM(factor5), 0), COALESCE(SUM(factor5 * factor5), 0), \
    COUNT(complete_seconds), COALESCE(SUM(complete_seconds), 0), \
    COALESCE(SUM(complete_working), 0), COALESCE(SUM(complete_days), 0), \
    COUNT(on_time), COALESCE(SUM(on_time), 0)";

pub(crate) const CELL_SUM_COLUMNS: &str = "cases, lead_seconds, lead_working, lead_days, \
    stat_n, stat_seconds, stat_working, stat_days, nki_n, nki_sum, nki_sum2, \
    weeks_sum, weeks_sum2, weeks_nki_sum, factor0_n, factor0_sum, factor0_sum2, \
    factor1_n, factor1_sum, factor1_sum2, factor2_n, factor2_sum, factor2_sum2, \
    factor3_n, factor3_sum, factor3_sum2, factor4_n, factor4_sum, factor4_sum2, \
    factor5_n, factor5_sum, factor5_sum2, complete_n, complete_seconds, complete_working, \
    complete_days, due_n, on_time_n";

/// The measures of `rollup_hist` and the column of `metric_fact` each counts.
pub(crate) const HIST_MEASURES: [(i16, &str); 6] = [
    (0, "lead_days"),
    (1, "lead_working"),
    (2, "stat_days"),
    (3, "stat_working"),
    (4, "complete_days"),
    (5, "complete_working"),
];

/// The histogram rows of the facts that `filter` keeps, as SQL: one SELECT per measure.
fn hist_select(filter: &str) -> String {
    HIST_MEASURES
        .iter()
        .map(|(measure, col)| {
            format!(
                "SELECT {CELL_COLUMNS}, {measure}, {col}, COUNT(*) FROM metric_fact \
             WHERE {col} IS NOT NULL{filter} GROUP BY {CELL_COLUMNS}, {col}"
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ")
}

/// Recomputes the cells given from their facts (a cell left without facts disappears).
async fn recompute(tx: &DatabaseTransaction, cells: &[Cell]) -> Result<(), DbErr> {
    let backend = tx.get_database_backend();
    for chunk in cells.chunks(1_000) {
        let tuples: Vec<String> = (0..chunk.len())
            .map(|i| format!("({})", list(backend, i * 5, 5)))
            .collect();
        let dirty = format!(
            "WITH dirty ({CELL_COLUMNS}) AS (VALUES {}) ",
            tuples.join(", ")
        );
        let among = format!(" AND ({CELL_COLUMNS}) IN (SELECT {CELL_COLUMNS} FROM dirty)");
        let values: Vec<Value> = chunk
            .iter()
            .flat_map(|c| {
                [
                    c.department.clone(),
                    c.area.clone(),
                    c.channel.clone(),
                    c.received_month.clone(),
                    c.decided_month.clone(),
                ]
            })
            .map(Value::from)
            .collect();
        let mut statements = vec![format!("{dirty}DELETE FROM rollup_cell WHERE 1 = 1{among}")];
        // The coarser histograms lose the cells' old rows, and gain their new ones below:
        // counts, so the difference is exact.
        statements.extend(COARSE.iter().map(|c| c.add(&dirty, &among, "-")));
        statements.extend([
            format!("{dirty}DELETE FROM rollup_hist WHERE 1 = 1{among}"),
            format!(
                "{dirty}INSERT INTO rollup_cell ({CELL_COLUMNS}, {CELL_SUM_COLUMNS}) \
                 SELECT {CELL_COLUMNS}, {CELL_SUMS} FROM metric_fact WHERE 1 = 1{among} \
                 GROUP BY {CELL_COLUMNS}"
            ),
            format!(
                "{dirty}INSERT INTO rollup_hist ({CELL_COLUMNS}, measure, value, n) {}",
                hist_select(&among)
            ),
        ]);
        statements.extend(recompute_days(&dirty, &among));
        statements.extend(span_db::recompute(&dirty, &among));
        statements.extend(link::recompute(&dirty, &among));
        statements.extend(COARSE.iter().map(|c| c.add(&dirty, &among, "")));
        statements.extend(COARSE.iter().map(|c| c.forget_zeros(&dirty)));
        for sql in statements {
            tx.execute_raw(Statement::from_sql_and_values(backend, sql, values.clone()))
                .await?;
        }
    }
    Ok(())
}

/// A rollup summed over some of the cell's months (`rollup_hist_decided`, `rollup_hist_all`
/// from `rollup_hist`; `rollup_span_hist_all` from `rollup_span_hist`; `rollup_link_all` and
/// `rollup_attr_all` from `rollup_link` and `rollup_attr`), kept by exact integer differences.
pub(crate) struct Coarse {
    pub table: &'static str,
    /// The rollup it sums.
    pub source: &'static str,
    /// Its key columns.
    pub keys: &'static str,
    /// The columns it sums (integers; the first is the count, `n`).
    pub sums: &'static str,
}

pub(crate) const COARSE: [Coarse; 5] = [
    Coarse {
        table: "rollup_hist_decided",
        source: "rollup_hist",
        keys: "department, area, channel, decided_month, measure, value",
        sums: "n",
    },
    Coarse {
        table: "rollup_hist_all",
        source: "rollup_hist",
        keys: "department, area, channel, measure, value",
        sums: "n",
    },
    Coarse {
        table: "rollup_span_hist_all",
        source: "rollup_span_hist",
        keys: "department, area, channel, kind, status, from_department, to_department, \
               handoff_kind, measure, value",
        sums: "n",
    },
    Coarse {
        table: "rollup_link_all",
        source: "rollup_link",
        keys: "department, area, channel, measure, value",
        sums: link::ANSWER_COLUMNS,
    },
    Coarse {
        table: "rollup_attr_all",
        source: "rollup_attr",
        keys: "department, area, channel, through",
        sums: link::ATTR_SUMS,
    },
];

impl Coarse {
    fn columns(&self) -> impl Iterator<Item = &'static str> {
        self.sums.split(',').map(str::trim)
    }

    /// Its source summed (`sign` "-": negated) over the rows that `among` keeps, grouped by its
    /// keys.
    fn summed(&self, among: &str, sign: &str) -> String {
        let sums: Vec<String> = self
            .columns()
            .map(|c| format!("CAST({sign}SUM({c}) AS BIGINT)"))
            .collect();
        format!(
            "SELECT {k}, {} FROM {} WHERE 1 = 1{among} GROUP BY {k}",
            sums.join(", "),
            self.source,
            k = self.keys
        )
    }

    /// Adds (`sign` "") or takes away ("-") the dirty cells' rows.
    fn add(&self, dirty: &str, among: &str, sign: &str) -> String {
        let (t, k) = (self.table, self.keys);
        let set: Vec<String> = self
            .columns()
            .map(|c| format!("{c} = {t}.{c} + excluded.{c}"))
            .collect();
        format!(
            "{dirty}INSERT INTO {t} ({k}, {}) {} ON CONFLICT ({k}) DO UPDATE SET {}",
            self.sums,
            self.summed(among, sign),
            set.join(", ")
        )
    }

    fn forget_zeros(&self, dirty: &str) -> String {
        format!(
            "{dirty}DELETE FROM {} WHERE n = 0 AND (department, area, channel) IN \
             (SELECT department, area, channel FROM dirty)",
            self.table
        )
    }

    /// The whole table from its source.
    fn rebuild(&self) -> [String; 2] {
        let t = self.table;
        [
            format!("DELETE FROM {t}"),
            format!(
                "INSERT INTO {t} ({}, {}) {}",
                self.keys,
                self.sums,
                self.summed("", "")
            ),
        ]
    }

    /// Rows that differ from its source summed (both ways), as one count.
    pub(crate) fn differences(&self) -> String {
        let summed = self.summed("", "");
        let stored = format!("SELECT {}, {} FROM {}", self.keys, self.sums, self.table);
        format!(
            "SELECT (SELECT COUNT(*) FROM ({summed} EXCEPT {stored}) a) + \
             (SELECT COUNT(*) FROM ({stored} EXCEPT {summed}) b)"
        )
    }
}

/// Recomputes every cell from the facts, and forgets the facts of cases that no longer exist.
async fn recompute_every_cell(tx: &DatabaseTransaction) -> Result<(), DbErr> {
    if tx.get_database_backend() == DbBackend::Postgres {
        // Every rollup grouped at once: memory enough to hash the groups rather than sort
        // every span by its ten text keys on disk, for this transaction alone.
        tx.execute_unprepared("SET LOCAL work_mem = '256MB'")
            .await?;
    }
    for sql in [
        // `NOT EXISTS`, an anti-join on both databases: PostgreSQL runs `NOT IN (subquery)` as
        // a scan of the subquery per row once the ids no longer fit in `work_mem` (a million
        // cases: hours).
        "DELETE FROM metric_fact WHERE NOT EXISTS \
         (SELECT 1 FROM case_record c WHERE c.id = metric_fact.case_id)"
            .to_string(),
        "DELETE FROM metric_span WHERE NOT EXISTS \
         (SELECT 1 FROM case_record c WHERE c.id = metric_span.case_id)"
            .to_string(),
        "DELETE FROM rollup_cell".to_string(),
        "DELETE FROM rollup_hist".to_string(),
        format!(
            "INSERT INTO rollup_cell ({CELL_COLUMNS}, {CELL_SUM_COLUMNS}) \
             SELECT {CELL_COLUMNS}, {CELL_SUMS} FROM metric_fact GROUP BY {CELL_COLUMNS}"
        ),
        format!(
            "INSERT INTO rollup_hist ({CELL_COLUMNS}, measure, value, n) {}",
            hist_select("")
        ),
    ]
    .into_iter()
    .chain(recompute_days("", ""))
    .chain(span_db::recompute("", ""))
    .chain(link::recompute("", ""))
    .chain(COARSE.iter().flat_map(Coarse::rebuild))
    {
        let started = std::time::Instant::now();
        tx.execute_unprepared(&sql).await?;
        tracing::debug!(
            ms = started.elapsed().as_millis() as u64,
            statement = %sql.chars().take(60).collect::<String>(),
            "every cell recomputed: a step"
        );
    }
    Ok(())
}

/// How much a drain takes: at most `budget` queued rows, `batch` rows a transaction.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    pub budget: u64,
    pub batch: u64,
}

impl Budget {
    /// Everything queued, in batches of `BATCH`.
    pub const ALL: Budget = Budget {
        budget: u64::MAX,
        batch: BATCH,
    };
}

/// Runs batches until the queue is empty or the budget is spent; answers how many rows were
/// taken.
pub async fn drain(
    db: &Db,
    budget: Budget,
    cells: Cells,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<u64, DbErr> {
    let mut done = 0;
    let mut refresh_at = FIRST_REFRESH;
    while done < budget.budget {
        let n = batch(db, budget.batch.max(1).min(budget.budget - done), cells).await?;
        if n == 0 {
            break;
        }
        done += n;
        progress(done);
        // A bulk drain fills the facts and spans from nothing. Their statistics are refreshed
        // each time it has doubled (autovacuum may be off, and is late anyway): otherwise the
        // planner goes on taking them for empty, and from a few million rows deletes each
        // batch's old rows by reading the whole table (ten million cases: 2 s a batch).
        if matches!(cells, Cells::UpTo(_)) && done >= refresh_at {
            db.analyze(&GROWING).await?;
            refresh_at = done.saturating_mul(2);
        }
    }
    if matches!(cells, Cells::UpTo(_)) && done >= FIRST_REFRESH {
        // Every row it took is a deleted row of the queue, which each request looks into; and
        // the pages of the facts, the spans and the rollups are marked all-visible, without
        // which an index-only scan (the deadlines' counts, a month's histograms) fetches every
        // row it counts from the table.
        db.vacuum(&REWRITTEN).await?;
    }
    Ok(done)
}

/// Cases a bulk drain takes before it first refreshes the statistics of `GROWING`; a live
/// catch-up of as many vacuums what it rewrote (`REWRITTEN`).
pub const FIRST_REFRESH: u64 = 50_000;

/// The tables a live batch rewrites rows of: the facts and spans of its cases and every rollup
/// of their cells.
pub const REWRITTEN: [&str; 15] = [
    "rollup_queue",
    "metric_fact",
    "metric_span",
    "rollup_cell",
    "rollup_cell_day",
    "rollup_hist",
    "rollup_hist_decided",
    "rollup_hist_all",
    "rollup_span",
    "rollup_span_hist",
    "rollup_span_hist_all",
    "rollup_link",
    "rollup_link_all",
    "rollup_attr",
    "rollup_attr_all",
];

/// The tables a bulk drain fills.
const GROWING: [&str; 3] = ["metric_fact", "metric_span", "rollup_queue"];
