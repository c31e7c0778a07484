//! Settings kept in the database, such as the generated token-signing secret.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{OnConflict, Query};
use sea_orm::{ConnectionTrait, DbErr, EntityTrait};

use crate::entity::setting;

/// The value stored under `key`; if there is none, stores `candidate` and returns it. When two
/// processes race, both end up with the value that was stored first.
pub async fn get_or_insert<C: ConnectionTrait>(
    conn: &C,
    key: &str,
    candidate: &str,
    now: DateTime<Utc>,
) -> Result<(String, bool), DbErr> {
    let stmt = insert(
        key,
        candidate,
        now,
        OnConflict::column(setting::Column::Key)
            .do_nothing()
            .to_owned(),
    );
    let inserted = conn.execute(&stmt).await?.rows_affected() == 1;
    let value = setting::Entity::find_by_id(key.to_string())
        .one(conn)
        .await?
        .map(|s| s.value)
        .ok_or_else(|| DbErr::RecordNotFound(format!("setting {key}")))?;
    Ok((value, inserted))
}

/// The value stored under `key`, if any.
pub async fn get<C: ConnectionTrait>(conn: &C, key: &str) -> Result<Option<String>, DbErr> {
    Ok(setting::Entity::find_by_id(key.to_string())
        .one(conn)
        .await?
        .map(|s| s.value))
}

/// Stores `value` under `key`, replacing what was there.
pub async fn put<C: ConnectionTrait>(
    conn: &C,
    key: &str,
    value: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let stmt = insert(
        key,
        value,
        now,
        OnConflict::column(setting::Column::Key)
            .update_columns([setting::Column::Value, setting::Column::UpdatedAt])
            .to_owned(),
    );
    conn.execute(&stmt).await?;
    Ok(())
}

/// The insert of `key` = `value`, doing `on_conflict` when the key is there already.
fn insert(
    key: &str,
    value: &str,
    now: DateTime<Utc>,
    on_conflict: OnConflict,
) -> sea_orm::sea_query::InsertStatement {
    Query::insert()
        .into_table(setting::Entity)
        .columns([
            setting::Column::Key,
            setting::Column::Value,
            setting::Column::UpdatedAt,
        ])
        .values_panic([key.into(), value.into(), now.into()])
        .on_conflict(on_conflict)
        .to_owned()
}
