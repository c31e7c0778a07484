//! Bulk writes for imports: ids reserved up front, so that rows that point at each other can be
//! built in memory, and multi-row inserts cut to the backends' limits on bound parameters.

use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, EntityTrait,
    Iterable, Statement,
};

/// Bound parameters per statement: under SQLite's 32 766 and PostgreSQL's 65 535.
const PARAMETERS: usize = 30_000;

/// Reserves `n` fresh ids of `table` (whose primary key is an auto-incremented `id`) for rows
/// this transaction will insert with explicit ids. On SQLite the transaction holds the write lock
/// (`Db::begin` is `BEGIN IMMEDIATE`), so the ids after the highest in use are free until it
/// commits; on PostgreSQL they are drawn from the column's sequence, like any insert's.
pub async fn reserve_ids(
    tx: &DatabaseTransaction,
    table: &str,
    n: usize,
) -> Result<Vec<i64>, DbErr> {
    if n == 0 {
        return Ok(Vec::new());
    }
    debug_assert!(table.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
    let backend = tx.get_database_backend();
    match backend {
        DbBackend::Postgres => {
            let rows = tx
                .query_all_raw(Statement::from_sql_and_values(
                    backend,
                    format!(
                        "SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, $1)"
                    ),
                    [i64::try_from(n).unwrap_or(i64::MAX).into()],
                ))
                .await?;
            rows.iter().map(|r| r.try_get_by_index::<i64>(0)).collect()
        }
        _ => {
            // AUTOINCREMENT keeps its high-water mark in sqlite_sequence, which can lie above
            // the highest id left in the table.
            let row = tx
                .query_one_raw(Statement::from_string(
                    backend,
                    format!(
                        "SELECT MAX(COALESCE((SELECT MAX(id) FROM {table}), 0), \
                         COALESCE((SELECT seq FROM sqlite_sequence WHERE name = '{table}'), 0))"
                    ),
                ))
                .await?
                .ok_or_else(|| DbErr::Custom(format!("no high-water mark for {table}")))?;
            let top: i64 = row.try_get_by_index(0)?;
            Ok((1..=n as i64).map(|i| top + i).collect())
        }
    }
}

/// Inserts the rows in as few statements as the backends allow.
pub async fn insert_all<A>(tx: &DatabaseTransaction, rows: Vec<A>) -> Result<(), DbErr>
where
    A: ActiveModelTrait + Send,
{
    let columns = <A::Entity as EntityTrait>::Column::iter().count();
    let per_statement = (PARAMETERS / columns.max(1)).max(1);
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(per_statement).collect();
        A::Entity::insert_many(chunk)
            .exec_without_returning(tx)
            .await?;
    }
    Ok(())
}
