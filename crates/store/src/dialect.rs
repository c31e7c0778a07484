//! The SQL that SQLite and PostgreSQL spell differently, in one place: every other module
//! writes portable sea-query and asks here for the rest.

use sea_orm::DbBackend;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query, SelectStatement, SimpleExpr};

/// The database's clock in milliseconds since the Unix epoch, as an SQL expression.
pub fn now_ms(backend: DbBackend) -> &'static str {
    match backend {
        DbBackend::Postgres => "(extract(epoch from clock_timestamp()) * 1000)::bigint",
        _ => "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)",
    }
}

/// The `n`th (1-based) bind placeholder.
pub fn placeholder(backend: DbBackend, n: usize) -> String {
    match backend {
        DbBackend::Postgres => format!("${n}"),
        _ => "?".to_string(),
    }
}

/// Selects into `select`, as `names`, each of `aggregates` over the rows `over` reads (a
/// `SELECT` of no columns yet), the same on every row. SQLite reads a joined one-row table of
/// them once a statement. PostgreSQL, which expects few rows of `select`, would read such a table
/// again for each row of it (a nested loop: measured on *Mina ärenden*, BENCHMARKS.md), but reads
/// each scalar subquery once; SQLite may scan again for each scalar subquery.
pub fn select_aggregates<const N: usize>(
    select: &mut SelectStatement,
    backend: DbBackend,
    over: SelectStatement,
    aggregates: [Expr; N],
    names: [&'static str; N],
) {
    if backend == DbBackend::Postgres {
        for (e, name) in aggregates.into_iter().zip(names) {
            select.expr_as(Expr::from(over.clone().expr(e).to_owned()), name);
        }
        return;
    }
    let mut totals = over;
    for (i, (e, name)) in aggregates.into_iter().zip(names).enumerate() {
        totals.expr_as(e, Alias::new(format!("a{i}")));
        select.expr_as(
            Expr::col((Alias::new("aggregates"), Alias::new(format!("a{i}")))),
            name,
        );
    }
    select.join_subquery(
        sea_orm::sea_query::JoinType::InnerJoin,
        totals,
        Alias::new("aggregates"),
        Expr::cust("TRUE"),
    );
}

/// A histogram of each measure column of the rows `from` (`table WHERE …`), per `keys` (each
/// followed by a comma; `""`: all together), as SQL answering rows of the keys, the measure's
/// number, its value (an integer) and `aggregates`; a measure's `NULL`s are left out. PostgreSQL
/// reads the rows once and counts every measure in the same pass (`GROUPING SETS`); SQLite, which
/// has none, reads them once into a materialized `WITH` (which keeps `columns`: the keys', the
/// measures' and those `aggregates` reads) and groups it once a measure.
pub fn histograms(
    backend: DbBackend,
    (keys, columns): (&str, &str),
    measures: &[(i16, &str)],
    aggregates: &str,
    from: &str,
) -> String {
    match backend {
        DbBackend::Postgres => {
            let which: Vec<String> = measures
                .iter()
                .map(|(m, c)| format!("WHEN GROUPING({c}) = 0 THEN {m}"))
                .collect();
            let value = format!(
                "COALESCE({})",
                measures
                    .iter()
                    .map(|(_, c)| *c)
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let sets: Vec<String> = measures
                .iter()
                .map(|(_, c)| format!("({keys}{c})"))
                .collect();
            format!(
                "SELECT {keys}CAST(CASE {} END AS INTEGER), CAST({value} AS INTEGER), {aggregates} \
                 FROM {from} GROUP BY GROUPING SETS ({}) HAVING {value} IS NOT NULL",
                which.join(" "),
                sets.join(", ")
            )
        }
        _ => {
            let each: Vec<String> = measures
                .iter()
                .map(|(m, c)| {
                    format!(
                        "SELECT {keys}{m}, CAST({c} AS INTEGER), {aggregates} FROM cut \
                         WHERE {c} IS NOT NULL GROUP BY {keys}{c}"
                    )
                })
                .collect();
            format!(
                "WITH cut AS MATERIALIZED (SELECT {columns} FROM {from}) {}",
                each.join(" UNION ALL ")
            )
        }
    }
}

/// A text field of a JSON column, as an SQL expression: `data->>'to'`.
pub fn json_text(backend: DbBackend, column: &str, key: &str) -> String {
    match backend {
        DbBackend::Postgres => format!("{column}->>'{key}'"),
        _ => format!("json_extract({column}, '$.{key}')"),
    }
}

/// Whether the JSON array in `column` (e.g. `case_record.labels`) holds the string `value`.
pub fn json_array_contains(backend: DbBackend, column: &str, value: &str) -> SimpleExpr {
    match backend {
        DbBackend::Postgres => Expr::cust_with_values(
            format!("{column} @> CAST($1 AS jsonb)"),
            [serde_json::json!([value]).to_string()],
        ),
        _ => Expr::cust_with_values(
            format!("EXISTS (SELECT 1 FROM json_each({column}) WHERE json_each.value = ?)"),
            [value.to_string()],
        ),
    }
}

/// The cases whose search documents (migration `m20261206_000015_case_search`) hold every word
/// of `words`, each as a prefix (`restaur` finds *restaurangen*; PostgreSQL also stems, so
/// *restauranger* finds it too): a query of `case_id`, `whole` (1 for the document with the
/// title and labels, 0 for the public one; a case appears once per matching document), `doc`
/// (the document's key in the index, `2 × case_id + whole`) and `score` (higher is better;
/// title and labels weigh more than diarienummer and company).
/// `words` must be non-empty and hold only letters and digits.
pub fn case_search_matches(backend: DbBackend, words: &[String]) -> SelectStatement {
    match backend {
        DbBackend::Postgres => {
            let tsquery = pg_tsquery(words);
            Query::select()
                .expr_as(Expr::cust("case_search.case_id"), "case_id")
                .expr_as(Expr::cust("case_search.whole::int"), "whole")
                .expr_as(
                    Expr::cust("case_search.case_id * 2 + case_search.whole::int"),
                    "doc",
                )
                .expr_as(
                    Expr::cust_with_values(
                        "ts_rank(case_search.doc, to_tsquery('swedish', $1))::float8",
                        [tsquery.clone()],
                    ),
                    "score",
                )
                .from("case_search")
                .and_where(Expr::cust_with_values(
                    "case_search.doc @@ to_tsquery('swedish', $1)",
                    [tsquery],
                ))
                .to_owned()
        }
        _ => {
            let fts = words
                .iter()
                .map(|w| format!("\"{w}\"*"))
                .collect::<Vec<_>>()
                .join(" ");
            Query::select()
                .expr_as(Expr::cust("case_search.rowid / 2"), "case_id")
                .expr_as(Expr::cust("case_search.rowid % 2"), "whole")
                .expr_as(Expr::cust("case_search.rowid"), "doc")
                // bm25 is lower for better matches; the protected column (title, labels)
                // weighs four times the public one.
                .expr_as(Expr::cust("-bm25(case_search, 1.0, 4.0)"), "score")
                .from("case_search")
                .and_where(Expr::cust_with_values("case_search MATCH ?", [fts]))
                .to_owned()
        }
    }
}

/// The words as a PostgreSQL `tsquery` in the `swedish` configuration's terms: every word, each
/// as a prefix.
fn pg_tsquery(words: &[String]) -> String {
    words
        .iter()
        .map(|w| format!("{w}:*"))
        .collect::<Vec<_>>()
        .join(" & ")
}

/// On PostgreSQL, whether case `case_record.id`'s document (`whole` or the public one) holds
/// every word of `words`, as a subquery evaluated row by row: for walking a department's cases
/// newest first and stopping after a page, where a join would gather every match from the GIN
/// index first (which cannot return them in order) and sort them.
pub fn pg_case_document_holds(words: &[String], whole: bool) -> SimpleExpr {
    Expr::cust_with_values(
        format!(
            "(SELECT s.doc @@ to_tsquery('swedish', $1) FROM case_search s \
             WHERE s.case_id = case_record.id AND s.whole = {whole})"
        ),
        [pg_tsquery(words)],
    )
}

/// The order "newest first" of the matches joined as `alias` (a query of
/// [`case_search_matches`]): the full-text index's own order on SQLite, where FTS5 walks its
/// documents backwards and stops after the page instead of sorting every match.
pub fn search_newest_first(backend: DbBackend, alias: &str) -> SimpleExpr {
    match backend {
        DbBackend::Postgres => Expr::col((Alias::new(alias), Alias::new("case_id"))),
        _ => Expr::col((Alias::new(alias), Alias::new("doc"))),
    }
}

/// The matches joined as `alias` that belong to cases older than case `id`, in the terms of
/// [`search_newest_first`] (so that a later page seeks instead of walking the pages before it).
pub fn search_before_case(backend: DbBackend, alias: &str, id: i64) -> SimpleExpr {
    match backend {
        DbBackend::Postgres => Expr::col((Alias::new(alias), Alias::new("case_id"))).lt(id),
        _ => Expr::col((Alias::new(alias), Alias::new("doc"))).lt(id.saturating_mul(2)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_backend_gets_its_own_spelling() {
        assert_eq!(placeholder(DbBackend::Postgres, 2), "$2");
        assert_eq!(placeholder(DbBackend::Sqlite, 2), "?");
        assert_eq!(json_text(DbBackend::Postgres, "data", "to"), "data->>'to'");
        assert_eq!(
            json_text(DbBackend::Sqlite, "data", "to"),
            "json_extract(data, '$.to')"
        );
    }
}
