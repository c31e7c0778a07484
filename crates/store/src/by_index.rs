//! Rows read through sqlx made models by the index of each column, not its name.
//!
//! sea-orm makes a model of a row column by column by name: for a `SelectTwo` it formats each
//! name with its prefix (`A_reference`) and looks it up among the row's columns, an allocation
//! and a search for every value. A list of 50 cases with their companies on PostgreSQL is
//! 2 000 values, and that was a sixth of what *Mina ärenden* cost the process. Here the result's
//! columns are matched to the entity's once a statement (`direct::slots`), and each value is
//! read by its index as the column's Rust type, the way sea-orm reads it (the same sqlx
//! decoding, so the same values), into the model through `ActiveModel::try_set`.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::Value;
use sea_orm::{DbErr, EntityTrait, QueryResult, TryIntoModel};

use crate::direct::{Kind, PairWith, Slot, model_of, slots, trailing};

/// The value at `i` as the column's Rust type.
fn value(row: &QueryResult, i: usize, kind: Kind) -> Result<Value, DbErr> {
    Ok(match kind {
        Kind::BigInt => Value::BigInt(row.try_get_by_index(i)?),
        Kind::Int => Value::Int(row.try_get_by_index(i)?),
        Kind::SmallInt => Value::SmallInt(row.try_get_by_index(i)?),
        Kind::Double => Value::Double(row.try_get_by_index(i)?),
        Kind::Bool => Value::Bool(row.try_get_by_index(i)?),
        Kind::Text => Value::String(row.try_get_by_index(i)?),
        Kind::DateTimeUtc => {
            Value::ChronoDateTimeUtc(row.try_get_by_index::<Option<DateTime<Utc>>>(i)?)
        }
        Kind::Date => Value::ChronoDate(row.try_get_by_index::<Option<NaiveDate>>(i)?),
        Kind::Json => Value::Json(
            row.try_get_by_index::<Option<serde_json::Value>>(i)?
                .map(Box::new),
        ),
    })
}

/// The model `row` holds in `slots` (`direct::model_of`).
fn model<E: EntityTrait>(
    row: &QueryResult,
    slots: &[Option<Slot<E::Column>>],
    optional: bool,
) -> Result<Option<E::Model>, DbErr>
where
    E::ActiveModel: TryIntoModel<E::Model>,
{
    model_of::<E>(slots, optional, |i, slot| value(row, i, slot.kind))
}

/// The result's column names (those of its first row: every row has the same).
fn names(rows: &[QueryResult]) -> Vec<String> {
    rows.first()
        .map(QueryResult::column_names)
        .unwrap_or_default()
}

/// The models of `E` that `rows` (a `SELECT` of `E`'s columns) hold.
pub(crate) fn models<E: EntityTrait>(rows: &[QueryResult]) -> Result<Vec<E::Model>, DbErr>
where
    E::ActiveModel: TryIntoModel<E::Model>,
{
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let names = names(rows);
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let slots = slots::<E>("", &names)?;
    rows.iter()
        .map(|r| model::<E>(r, &slots, false)?.ok_or_else(|| DbErr::Type("an empty row".into())))
        .collect()
}

/// The pairs that `rows` (a `SelectTwo` of `E` and `F`) hold, each with the integers of the
/// last `N` columns (null as `None`).
pub(crate) fn pairs<E: EntityTrait, F: EntityTrait, const N: usize>(
    rows: &[QueryResult],
) -> Result<Vec<PairWith<E, F, N>>, DbErr>
where
    E::ActiveModel: TryIntoModel<E::Model>,
    F::ActiveModel: TryIntoModel<F::Model>,
{
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let names = names(rows);
    let extra = trailing::<N>(names.len())?;
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let (a, b) = (slots::<E>("A_", &names)?, slots::<F>("B_", &names)?);
    rows.iter()
        .map(|r| {
            let e = model::<E>(r, &a, false)?.ok_or_else(|| DbErr::Type("an empty row".into()))?;
            let mut ints = [None; N];
            for (v, i) in ints.iter_mut().zip(extra.clone()) {
                *v = r.try_get_by_index::<Option<i64>>(i)?;
            }
            Ok(((e, model::<F>(r, &b, true)?), ints))
        })
        .collect()
}
