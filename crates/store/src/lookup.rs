//! Loading the rows a set of ids names, keyed by one of their columns, in one query.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

/// The rows of `E` whose `column` is one of `ids`, keyed by `key`; no query when `ids` is empty.
pub async fn by_ids<E, C>(
    conn: &C,
    column: E::Column,
    ids: impl IntoIterator<Item = i64>,
    key: fn(&E::Model) -> i64,
) -> Result<HashMap<i64, E::Model>, DbErr>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let ids: Vec<i64> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(E::find()
        .filter(column.is_in(ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|m| (key(&m), m))
        .collect())
}
