//! Reading rows by id: a set of them keyed in one query, a whole table as a map, the name an
//! optional id stands for.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PrimaryKeyTrait, QueryFilter};

use crate::entity::{app_user, department};

/// The username of the user `id` names, if it names one that exists.
pub async fn username<C: ConnectionTrait>(
    conn: &C,
    id: Option<i64>,
) -> Result<Option<String>, DbErr> {
    named::<app_user::Entity, C>(conn, id, |u| u.username).await
}

/// The code of the department `id` names, if it names one that exists.
pub async fn department_code<C: ConnectionTrait>(
    conn: &C,
    id: Option<i64>,
) -> Result<Option<String>, DbErr> {
    named::<department::Entity, C>(conn, id, |d| d.code).await
}

/// What `name` makes of the row of `E` whose id is `id`, if `id` names one that exists.
async fn named<E, C>(
    conn: &C,
    id: Option<i64>,
    name: fn(E::Model) -> String,
) -> Result<Option<String>, DbErr>
where
    E: EntityTrait,
    C: ConnectionTrait,
    i64: Into<<E::PrimaryKey as PrimaryKeyTrait>::ValueType>,
{
    Ok(match id {
        Some(id) => E::find_by_id(id).one(conn).await?.map(name),
        None => None,
    })
}

/// Every row of `E`, each made a key and a value by `entry`.
pub async fn all_by<E, C, V>(
    conn: &C,
    entry: fn(E::Model) -> (i64, V),
) -> Result<HashMap<i64, V>, DbErr>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    Ok(E::find().all(conn).await?.into_iter().map(entry).collect())
}

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
