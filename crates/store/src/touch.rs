//! Which cases changed when, by the database's clock (`case_touch`). Every write that changes
//! what a metric sees touches its case in the same transaction: `events::append` does it for
//! every event, the survey answer and the bulk import for theirs. Readers ask for the cases
//! touched since an instant they took from the same clock, minus a margin that covers
//! transactions still open at that instant (a bare highest-id cursor would skip late commits).

use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement, Value};

/// How far back a reader looks before its last instant: longer than any write transaction.
pub const MARGIN_MS: i64 = 60_000;

/// The database's clock, in milliseconds since the Unix epoch.
pub async fn now_ms<C: ConnectionTrait>(conn: &C) -> Result<i64, DbErr> {
    let backend = conn.get_database_backend();
    let row = conn
        .query_one_raw(Statement::from_string(
            backend,
            format!("SELECT {}", crate::dialect::now_ms(backend)),
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("the database has no clock".into()))?;
    row.try_get_by_index(0)
}

/// Every touch changes the value, even within the same millisecond.
const ON_CONFLICT: &str = "ON CONFLICT (case_id) DO UPDATE SET touched_ms = CASE \
     WHEN excluded.touched_ms > case_touch.touched_ms THEN excluded.touched_ms \
     ELSE case_touch.touched_ms + 1 END";

/// Marks the cases as changed now, in a bulk transaction (one reading of the clock for all).
pub async fn touch_bulk(tx: &mut crate::bulk::BulkTx<'_>, case_ids: Vec<i64>) -> Result<(), DbErr> {
    let now = tx.now_ms().await?;
    let n = case_ids.len();
    tx.insert(
        crate::bulk::Table::new("case_touch")
            .column("case_id", crate::bulk::Column::Int(case_ids))
            .column("touched_ms", crate::bulk::Column::Int(vec![now; n]))
            .on_conflict(ON_CONFLICT),
    )
    .await
}

/// Marks the cases as changed now.
pub async fn touch<C: ConnectionTrait>(conn: &C, case_ids: &[i64]) -> Result<(), DbErr> {
    let backend = conn.get_database_backend();
    for chunk in case_ids.chunks(10_000) {
        let mut sql = String::from("INSERT INTO case_touch (case_id, touched_ms) VALUES ");
        let mut values: Vec<Value> = Vec::with_capacity(chunk.len());
        for (i, id) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!(
                "({}, ",
                crate::dialect::placeholder(backend, i + 1)
            ));
            sql.push_str(crate::dialect::now_ms(backend));
            sql.push(')');
            values.push((*id).into());
        }
        sql.push(' ');
        sql.push_str(ON_CONFLICT);
        conn.execute_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?;
    }
    Ok(())
}

/// How many touches lie in `since_ms..=until_ms`, and the sum of their distances from
/// `since_ms`. A case has one touch, and touching it again only moves it later: a touch that
/// arrives in the range, or moves within it, raises the count or the sum, and one that moves out
/// of it lies after `until_ms`. A reader that already applied the range's touches compares this
/// instead of fetching them again.
pub async fn touch_summary<C: ConnectionTrait>(
    conn: &C,
    since_ms: i64,
    until_ms: i64,
) -> Result<(i64, i64), DbErr> {
    let backend = conn.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "SELECT COUNT(*), CAST(COALESCE(SUM(touched_ms - $1), 0) AS BIGINT) \
             FROM case_touch WHERE touched_ms >= $1 AND touched_ms <= $2"
        }
        _ => {
            "SELECT COUNT(*), COALESCE(SUM(touched_ms - ?1), 0) FROM case_touch \
             WHERE touched_ms >= ?1 AND touched_ms <= ?2"
        }
    };
    let row = conn
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [since_ms.into(), until_ms.into()],
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("no touch summary".into()))?;
    Ok((row.try_get_by_index(0)?, row.try_get_by_index(1)?))
}

/// The cases touched at or after `since_ms`, with their touch (which every touch changes).
pub async fn touched_since<C: ConnectionTrait>(
    conn: &C,
    since_ms: i64,
) -> Result<Vec<(i64, i64)>, DbErr> {
    let backend = conn.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => "SELECT case_id, touched_ms FROM case_touch WHERE touched_ms >= $1",
        _ => "SELECT case_id, touched_ms FROM case_touch WHERE touched_ms >= ?",
    };
    conn.query_all_raw(Statement::from_sql_and_values(
        backend,
        sql,
        [since_ms.into()],
    ))
    .await?
    .iter()
    .map(|r| Ok((r.try_get_by_index::<i64>(0)?, r.try_get_by_index::<i64>(1)?)))
    .collect()
}
