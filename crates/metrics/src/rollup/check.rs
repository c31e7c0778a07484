//! `lots rollups check`: every case's fact recomputed from its stored history and every cell
//! recomputed from those facts, compared with what the rollups hold.

use std::collections::{BTreeMap, HashMap};

use lots_store::Db;
use lots_store::entity::case_record;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Statement,
};

use crate::load::read_on;
use crate::rollup::fact::{Cell, Fact};
use crate::rollup::read::{add_cell, fact, summed, sums_sql};
use crate::rollup::span::spans_of;
use crate::rollup::span_db::{self, SPAN_ROW_COLUMNS, SpanRow, rows_of};
use crate::rollup::sums::{Answers, Group, Sums};
use crate::rollup::write::{CELL_COLUMNS, CELL_SUM_COLUMNS, FACT_COLUMNS, RECEIVED_DAY};

/// What a check found.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Report {
    pub cases: u64,
    pub cells: u64,
    /// Cases whose stored fact is missing, left over or not what their history gives.
    pub facts_differ: u64,
    /// Cells (sums or histogram) not what their facts give.
    pub cells_differ: u64,
    /// Cases whose stored spans are not what their history gives (or not in their fact's
    /// cell), and span rollup rows not what the spans give.
    pub spans_differ: u64,
    /// A few of the differences, described.
    pub examples: Vec<String>,
}

impl Report {
    pub fn is_clean(&self) -> bool {
        self.facts_differ == 0 && self.cells_differ == 0 && self.spans_differ == 0
    }

    fn differs(&mut self, what: String) {
        if self.examples.len() < 10 {
            self.examples.push(what);
        }
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

fn sums_close(a: &Sums, b: &Sums) -> bool {
    a.n == b.n && close(a.sum, b.sum) && close(a.sum2, b.sum2)
}

fn answers_close(a: &Answers, b: &Answers) -> bool {
    sums_close(&a.nki, &b.nki)
        && [
            (a.weeks, b.weeks),
            (a.weeks2, b.weeks2),
            (a.weeks_nki, b.weeks_nki),
        ]
        .iter()
        .all(|(x, y)| close(*x, *y))
        && a.factors
            .iter()
            .zip(&b.factors)
            .all(|(x, y)| sums_close(x, y))
}

fn groups_close(a: &Group, b: &Group) -> bool {
    a.cases == b.cases
        && a.lead == b.lead
        && a.statutory == b.statutory
        && a.to_complete == b.to_complete
        && (a.due, a.on_time) == (b.due, b.on_time)
        && answers_close(&a.answers, &b.answers)
}

/// Compares the rollups with a recomputation from the stored history, 20 000 cases at a time.
pub async fn check(db: &Db, progress: &(dyn Fn(u64) + Sync)) -> Result<Report, DbErr> {
    let conn = db.reader();
    let backend = conn.get_database_backend();
    let mut report = Report::default();
    let mut expected: BTreeMap<Cell, Group> = BTreeMap::new();
    let mut last = 0i64;
    loop {
        let page: Vec<i64> = case_record::Entity::find()
            .select_only()
            .column(case_record::Column::Id)
            .filter(case_record::Column::Id.gt(last))
            .order_by_asc(case_record::Column::Id)
            .limit(20_000)
            .into_tuple()
            .all(conn)
            .await?;
        let Some(&end) = page.last() else {
            break;
        };
        let records = read_on(conn, Condition::all(), Some(&page)).await?;
        let fresh: Vec<Fact> = records.iter().map(Fact::of).collect();
        compare_spans(conn, &records, (last, end), &mut report).await?;
        let mut stored: HashMap<i64, Fact> = conn
            .query_all_raw(Statement::from_string(
                backend,
                format!(
                    "SELECT {} FROM metric_fact WHERE case_id > {last} AND case_id <= {end}",
                    FACT_COLUMNS.join(", ")
                ),
            ))
            .await?
            .iter()
            .map(|r| fact(r).map(|f| (f.case_id, f)))
            .collect::<Result<_, _>>()?;
        for f in &fresh {
            expected.entry(f.cell.clone()).or_default().add(f);
            match stored.remove(&f.case_id) {
                Some(s) if facts_close(&s, f) => {}
                Some(s) => {
                    report.facts_differ += 1;
                    report.differs(format!(
                        "case {}: stored {s:?}, history gives {f:?}",
                        f.case_id
                    ));
                }
                None => {
                    report.facts_differ += 1;
                    report.differs(format!("case {}: no fact stored", f.case_id));
                }
            }
        }
        for id in stored.keys() {
            report.facts_differ += 1;
            report.differs(format!("case {id}: a fact stored for no case"));
        }
        report.cases += fresh.len() as u64;
        progress(report.cases);
        last = end;
    }
    compare_cells(db, &expected, &mut report).await?;
    Ok(report)
}

/// The stored spans of the cases in `(last, end]` against those their history gives.
async fn compare_spans<C: ConnectionTrait>(
    conn: &C,
    records: &[crate::CaseRecord],
    (last, end): (i64, i64),
    report: &mut Report,
) -> Result<(), DbErr> {
    let stored: Vec<SpanRow> = conn
        .query_all_raw(Statement::from_string(
            conn.get_database_backend(),
            format!(
                "SELECT {SPAN_ROW_COLUMNS} FROM metric_span WHERE case_id > {last} \
                 AND case_id <= {end} ORDER BY case_id, seq"
            ),
        ))
        .await?
        .iter()
        .map(|r| sea_orm::TryGetableMany::try_get_many_by_index(r).map_err(DbErr::from))
        .collect::<Result<_, _>>()?;
    let mut stored_by_case: BTreeMap<i64, Vec<SpanRow>> = BTreeMap::new();
    for row in stored {
        stored_by_case.entry(row.0).or_default().push(row);
    }
    for c in records {
        let want = rows_of(c.id, &spans_of(c));
        let got = stored_by_case.remove(&c.id).unwrap_or_default();
        if got != want {
            report.spans_differ += 1;
            report.differs(format!(
                "case {}: spans stored {got:?}, history gives {want:?}",
                c.id
            ));
        }
    }
    for id in stored_by_case.keys() {
        report.spans_differ += 1;
        report.differs(format!("case {id}: spans stored for no case"));
    }
    Ok(())
}

fn facts_close(a: &Fact, b: &Fact) -> bool {
    let answer = match (&a.answer, &b.answer) {
        (Some(x), Some(y)) => {
            close(x.nki, y.nki)
                && x.factors.iter().zip(&y.factors).all(|p| match p {
                    (Some(u), Some(v)) => close(*u, *v),
                    (None, None) => true,
                    _ => false,
                })
        }
        (None, None) => true,
        _ => false,
    };
    a.case_id == b.case_id
        && a.cell == b.cell
        && a.received_ms == b.received_ms
        && a.lead == b.lead
        && a.statutory == b.statutory
        && a.to_complete == b.to_complete
        && (a.due_date, a.on_time) == (b.due_date, b.on_time)
        && (a.handoffs, a.departments, a.sample) == (b.handoffs, b.departments, b.sample)
        && (a.decided_ms, a.open) == (b.decided_ms, b.open)
        && answer
}

/// The stored cells and histograms against those recomputed, then the tables derived from the
/// facts and spans against theirs.
async fn compare_cells(
    db: &Db,
    expected: &BTreeMap<Cell, Group>,
    report: &mut Report,
) -> Result<(), DbErr> {
    let mut stored = stored_cells(db).await?;
    report.cells = expected.len() as u64;
    for (cell, want) in expected {
        match stored.remove(cell) {
            Some(got) if groups_close(&got, want) => {}
            Some(got) => {
                report.cells_differ += 1;
                report.differs(format!(
                    "cell {cell:?}: stored {got:?}, facts give {want:?}"
                ));
            }
            None => {
                report.cells_differ += 1;
                report.differs(format!("cell {cell:?}: not stored"));
            }
        }
    }
    for cell in stored.keys() {
        report.cells_differ += 1;
        report.differs(format!("cell {cell:?}: stored for no case"));
    }
    compare_days(db, expected, report).await?;
    compare_derived(db, report).await
}

/// The day cells: each cell's days summed against the cell its facts give, and each day's count
/// against the facts received on it.
async fn compare_days(
    db: &Db,
    expected: &BTreeMap<Cell, Group>,
    report: &mut Report,
) -> Result<(), DbErr> {
    let conn = db.reader();
    let backend = conn.get_database_backend();
    let k = CELL_COLUMNS.split(", ").count();
    let sql = sums_sql("", "rollup_cell_day", "1 = 1", CELL_COLUMNS);
    let mut stored: BTreeMap<Vec<String>, Group> = summed(conn, sql, Vec::new(), k)
        .await?
        .into_iter()
        .collect();
    for (cell, want) in expected {
        let key = vec![
            cell.department.clone(),
            cell.area.clone(),
            cell.channel.clone(),
            cell.received_month.clone(),
            cell.decided_month.clone(),
        ];
        // The days keep sums, not histograms.
        let mut want = want.clone();
        for m in 0..6 {
            if let Some(h) = want.hist_mut(m) {
                h.clear();
            }
        }
        match stored.remove(&key) {
            Some(got) if groups_close(&got, &want) => {}
            Some(got) => {
                report.cells_differ += 1;
                report.differs(format!(
                    "the days of cell {cell:?}: stored {got:?}, facts give {want:?}"
                ));
            }
            None => {
                report.cells_differ += 1;
                report.differs(format!("the days of cell {cell:?}: not stored"));
            }
        }
    }
    for key in stored.keys() {
        report.cells_differ += 1;
        report.differs(format!("days of cell {key:?}: stored for no case"));
    }
    let counted = format!(
        "SELECT {CELL_COLUMNS}, {RECEIVED_DAY}, COUNT(*) FROM metric_fact \
         GROUP BY {CELL_COLUMNS}, {RECEIVED_DAY}"
    );
    let stored = format!("SELECT {CELL_COLUMNS}, received_day, cases FROM rollup_cell_day");
    let row = conn
        .query_one_raw(Statement::from_string(
            backend,
            format!(
                "SELECT (SELECT COUNT(*) FROM ({counted} EXCEPT {stored}) a) + \
                 (SELECT COUNT(*) FROM ({stored} EXCEPT {counted}) b)"
            ),
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("no count".into()))?;
    let n: i64 = row.try_get_by_index(0)?;
    if n > 0 {
        report.cells_differ += n.max(0) as u64;
        report.differs(format!(
            "rollup_cell_day: {n} days whose count is not their facts'"
        ));
    }
    Ok(())
}

/// The cells and their histograms as stored.
async fn stored_cells(db: &Db) -> Result<BTreeMap<Cell, Group>, DbErr> {
    let conn = db.reader();
    let backend = conn.get_database_backend();
    let key = |r: &sea_orm::QueryResult| -> Result<Cell, DbErr> {
        let s = |i: usize| r.try_get_by_index::<String>(i);
        Ok(Cell {
            department: s(0)?,
            area: s(1)?,
            channel: s(2)?,
            received_month: s(3)?,
            decided_month: s(4)?,
        })
    };
    let mut stored: BTreeMap<Cell, Group> = BTreeMap::new();
    for r in conn
        .query_all_raw(Statement::from_string(
            backend,
            format!("SELECT {CELL_COLUMNS}, {CELL_SUM_COLUMNS} FROM rollup_cell"),
        ))
        .await?
    {
        let cell = key(&r)?;
        let decided = !cell.decided_month.is_empty();
        let g = stored.entry(cell).or_default();
        add_cell(g, &r, 5)?;
        if decided {
            g.lead.n += g.cases;
        }
    }
    for r in conn
        .query_all_raw(Statement::from_string(
            backend,
            format!("SELECT {CELL_COLUMNS}, CAST(measure AS INTEGER), value, n FROM rollup_hist"),
        ))
        .await?
    {
        let g = stored.entry(key(&r)?).or_default();
        let get = |i: usize| r.try_get_by_index::<i64>(i);
        let (measure, value, n) = (
            r.try_get_by_index::<i32>(5)?,
            r.try_get_by_index::<i32>(6)?,
            get(7)?,
        );
        let hist = g.hist_mut(measure).ok_or_else(|| {
            DbErr::Custom(format!("rollup_hist holds an unknown measure {measure}"))
        })?;
        hist.insert(i64::from(value), n.max(0) as u64);
    }
    Ok(stored)
}

/// The spans, the linkage's rollups and the coarse tables against what the facts, passages
/// and finer tables give: each a count of the rows that differ.
async fn compare_derived(db: &Db, report: &mut Report) -> Result<(), DbErr> {
    let conn = db.reader();
    let backend = conn.get_database_backend();
    // Spans in another cell than their case's fact, or of a case without one.
    let astray = format!(
        "SELECT COUNT(*) FROM metric_span s LEFT JOIN metric_fact f ON f.case_id = s.case_id \
         WHERE f.case_id IS NULL OR s.received_ms <> f.received_ms OR {}",
        CELL_COLUMNS
            .split(", ")
            .map(|c| format!("s.{c} <> f.{c}"))
            .collect::<Vec<_>>()
            .join(" OR ")
    );
    let [span_sums, span_hist] = span_db::differences();
    let [link, attr] = crate::rollup::link::differences();
    for (what, sql, of) in [
        ("metric_span", astray, "the spans"),
        ("rollup_span", span_sums, "the spans"),
        ("rollup_span_hist", span_hist, "the spans"),
        ("rollup_link", link, "the facts"),
        ("rollup_attr", attr, "the facts and passages"),
    ] {
        let row = conn
            .query_one_raw(Statement::from_string(backend, sql))
            .await?
            .ok_or_else(|| DbErr::Custom("no count".into()))?;
        let n: i64 = row.try_get_by_index(0)?;
        if n > 0 {
            let counter = if what.starts_with("rollup_link") || what == "rollup_attr" {
                &mut report.cells_differ
            } else {
                &mut report.spans_differ
            };
            *counter += n.max(0) as u64;
            report.differs(format!(
                "{what}: {n} rows not in their case's cell or not what {of} give"
            ));
        }
    }
    for coarse in &crate::rollup::write::COARSE {
        let row = conn
            .query_one_raw(Statement::from_string(backend, coarse.differences()))
            .await?
            .ok_or_else(|| DbErr::Custom("no count".into()))?;
        let n: i64 = row.try_get_by_index(0)?;
        if n > 0 {
            let counter = if coarse.source == "rollup_span_hist" {
                &mut report.spans_differ
            } else {
                &mut report.cells_differ
            };
            *counter += n.max(0) as u64;
            report.differs(format!(
                "{}: {n} rows differ from {} summed",
                coarse.table, coarse.source
            ));
        }
    }
    Ok(())
}
