//! A case's rows of several tables in one statement, on PostgreSQL.
//!
//! A case page shows nine parts of a case, each a table of its own (events, handoffs,
//! supplement requests, messages, parties, premises, attachments, decisions, follow links). On
//! SQLite each is read on the request's thread (`direct`) in a few microseconds; on PostgreSQL
//! each was a round trip to the server, nine of them a page, and the server's work per
//! statement, not the rows, was most of what a page cost. Here one statement reads every part,
//! each table's rows as one JSON array (`json_agg`), and each row becomes the entity's model as
//! `direct` makes them: through sea-orm's `ActiveModel::try_set` (a value of the wrong type is
//! an error, never a silent `None`), typed by the entity's column definitions.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::Value;
use sea_orm::{
    DbBackend, DbErr, EntityTrait, IdenStatic, Iterable, PrimaryKeyToColumn, Statement,
    TryIntoModel,
};

use crate::Db;
use crate::direct::{Kind, model_of, slots};

/// What to read of one table: its rows whose `case` column holds the case's id, in the order
/// of its key.
#[derive(Debug, Clone)]
pub struct Part {
    table: &'static str,
    case: &'static str,
    columns: Vec<&'static str>,
    keys: Vec<&'static str>,
}

impl Part {
    /// The rows of `E` whose column `case` is the case's id.
    pub fn of<E: EntityTrait>(case: E::Column) -> Self {
        Self {
            table: E::default().table_name(),
            case: case.as_str(),
            columns: E::Column::iter().map(|c| c.as_str()).collect(),
            keys: E::PrimaryKey::iter()
                .map(|k| k.into_column().as_str())
                .collect(),
        }
    }

    /// `(SELECT json_agg(…) FROM (SELECT the columns FROM the table WHERE case = $1) t)`.
    fn select(&self) -> String {
        let quoted = |names: &[&str]| {
            names
                .iter()
                .map(|n| format!("t.\"{n}\""))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let columns = self
            .columns
            .iter()
            .map(|c| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "(SELECT COALESCE(json_agg(t ORDER BY {keys}), '[]'::json) FROM (SELECT {columns} \
             FROM \"{table}\" WHERE \"{case}\" = $1) AS t)",
            keys = quoted(&self.keys),
            table = self.table,
            case = self.case,
        )
    }
}

/// The rows of one case read by [`Db::case_rows_at_once`], by table.
#[derive(Debug, Clone)]
pub struct CaseRows {
    case_id: i64,
    /// Each part's table and case column, and the JSON array of its rows.
    parts: HashMap<(&'static str, &'static str), serde_json::Value>,
}

impl CaseRows {
    /// The rows of `E` whose column `case` is `case_id`, oldest first, if they were read;
    /// `None` when they were not (read them on their own).
    pub fn of<E: EntityTrait>(
        &self,
        case: E::Column,
        case_id: i64,
    ) -> Option<Result<Vec<E::Model>, DbErr>>
    where
        E::ActiveModel: TryIntoModel<E::Model>,
    {
        if case_id != self.case_id {
            return None;
        }
        let rows = self
            .parts
            .get(&(E::default().table_name(), case.as_str()))?;
        Some(models::<E>(rows))
    }
}

impl Db {
    /// The rows of every part of case `case_id` in one statement, on PostgreSQL; `None`
    /// elsewhere, where each part is read on its own on the request's thread (`direct`).
    pub async fn case_rows_at_once(
        &self,
        case_id: i64,
        parts: &[Part],
    ) -> Result<Option<CaseRows>, DbErr> {
        use sea_orm::ConnectionTrait;
        if self.backend() != DbBackend::Postgres || parts.is_empty() {
            return Ok(None);
        }
        let selects = parts
            .iter()
            .enumerate()
            .map(|(i, p)| format!("{} AS \"p{i}\"", p.select()))
            .collect::<Vec<_>>()
            .join(", ");
        let row = self
            .reader()
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                format!("SELECT {selects}"),
                [case_id.into()],
            ))
            .await?
            .ok_or_else(|| DbErr::RecordNotFound("a case's parts".into()))?;
        let mut read = HashMap::new();
        for (i, p) in parts.iter().enumerate() {
            let rows: serde_json::Value = row.try_get("", &format!("p{i}"))?;
            read.insert((p.table, p.case), rows);
        }
        Ok(Some(CaseRows {
            case_id,
            parts: read,
        }))
    }
}

/// The models of a JSON array of `E`'s rows (`direct::model_of`, the columns in the entity's
/// order).
fn models<E: EntityTrait>(rows: &serde_json::Value) -> Result<Vec<E::Model>, DbErr>
where
    E::ActiveModel: TryIntoModel<E::Model>,
{
    let table = E::default().table_name();
    let rows = rows
        .as_array()
        .ok_or_else(|| DbErr::Type(format!("{table}: the rows read are not an array")))?;
    let names: Vec<&str> = E::Column::iter().map(|c| c.as_str()).collect();
    let slots = slots::<E>("", &names)?;
    rows.iter()
        .map(|row| {
            model_of::<E>(&slots, false, |_, slot| {
                let name = slot.column.as_str();
                let v = row
                    .get(name)
                    .ok_or_else(|| DbErr::Type(format!("{table}.{name}: not read")))?;
                decode(slot.kind, v).ok_or_else(|| {
                    DbErr::Type(format!("{table}.{name}: {v} is not a {:?}", slot.kind))
                })
            })?
            .ok_or_else(|| DbErr::Type(format!("{table}: an empty row")))
        })
        .collect()
}

/// A value as PostgreSQL's `to_json` writes it, as the column's Rust type; `None` when it is
/// not one.
fn decode(kind: Kind, v: &serde_json::Value) -> Option<Value> {
    if v.is_null() {
        return Some(kind.null());
    }
    Some(match kind {
        Kind::BigInt => Value::BigInt(Some(v.as_i64()?)),
        Kind::Int => Value::Int(Some(i32::try_from(v.as_i64()?).ok()?)),
        Kind::SmallInt => Value::SmallInt(Some(i16::try_from(v.as_i64()?).ok()?)),
        // Not a number (NaN, ±Infinity) is written as a string.
        Kind::Double => Value::Double(Some(match v.as_f64() {
            Some(f) => f,
            None => v.as_str()?.parse().ok()?,
        })),
        Kind::Bool => Value::Bool(Some(v.as_bool()?)),
        Kind::Text => Value::String(Some(v.as_str()?.to_owned())),
        Kind::DateTimeUtc => Value::ChronoDateTimeUtc(Some(
            DateTime::parse_from_rfc3339(v.as_str()?)
                .ok()?
                .with_timezone(&Utc),
        )),
        Kind::Date => Value::ChronoDate(Some(NaiveDate::parse_from_str(v.as_str()?, "%F").ok()?)),
        Kind::Json => Value::Json(Some(Box::new(v.clone()))),
    })
}
