//! Which cases changed when, by the database's clock (`case_touch`). Every write that changes
//! what a metric sees touches its case in the same transaction: `events::append` does it for
//! every event, the survey answer and the bulk import for theirs. A trigger on `case_touch`
//! queues the case for the metrics' rollups (migration 18) in that same transaction, so a
//! change that commits late still finds its row waiting: no clock cursor can skip it.

use sea_orm::{ConnectionTrait, DbErr, Statement, Value};

/// Every touch changes the value, even within the same millisecond.
const ON_CONFLICT: &str = "ON CONFLICT (case_id) DO UPDATE SET touched_ms = CASE \
     WHEN excluded.touched_ms > case_touch.touched_ms THEN excluded.touched_ms \
     ELSE case_touch.touched_ms + 1 END";

/// Marks cases this bulk transaction wrote as changed now (one reading of the clock for all).
/// No touch of them can exist yet, so the rows are plainly added: by `COPY` where `types` are
/// known, which the trigger on `case_touch` sees as one statement.
pub async fn touch_new_bulk(
    tx: &mut crate::bulk::BulkTx<'_>,
    case_ids: Vec<i64>,
    types: Option<&crate::bulk::PgTypes>,
) -> Result<(), DbErr> {
    let now = tx.now_ms().await?;
    let n = case_ids.len();
    tx.write(
        crate::bulk::Table::new("case_touch")
            .column("case_id", crate::bulk::Column::Int(case_ids))
            .column("touched_ms", crate::bulk::Column::Int(vec![now; n])),
        types,
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
