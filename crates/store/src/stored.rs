//! Reading the enum columns of stored rows. The columns are text; Lots only ever writes known
//! values, so an unknown one means the row is corrupt: an error naming the table, the row and the
//! value, never a silently wrong default. Each crate reads its rows through this one function.

use std::fmt::Display;
use std::str::FromStr;

use lots_core::{CaseEvent, EventKind, UnknownVariant};
use sea_orm::DbErr;

use crate::entity::case_event;

/// A stored row holds a value its column's type does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{table} {id} is corrupt: {reason}")]
pub struct CorruptRow {
    pub table: String,
    pub id: String,
    /// What does not fit: an unknown value, or data that does not fit its kind.
    pub reason: String,
}

impl From<CorruptRow> for DbErr {
    fn from(e: CorruptRow) -> Self {
        DbErr::Custom(e.to_string())
    }
}

/// `value`, read from row `id` of `table`, as the type it stands for.
pub fn stored<T>(table: &str, id: impl Display, value: &str) -> Result<T, CorruptRow>
where
    T: FromStr<Err = UnknownVariant>,
{
    value.parse().map_err(|source: UnknownVariant| CorruptRow {
        table: table.to_string(),
        id: id.to_string(),
        reason: source.to_string(),
    })
}

/// The event a `case_event` row holds: its kind, and its data as that kind's payload. A kind Lots
/// does not know, or data that does not fit the kind, means the row is corrupt.
pub fn stored_event(e: &case_event::Model) -> Result<CaseEvent, CorruptRow> {
    let kind: EventKind = stored("case_event", e.id, &e.kind)?;
    CaseEvent::read(kind, &e.data).map_err(|err| CorruptRow {
        table: "case_event".to_string(),
        id: e.id.to_string(),
        reason: format!("the data of a `{kind}` event: {err}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use lots_core::{Area, EventKind};

    #[test]
    fn a_known_value_is_read_and_an_unknown_one_names_the_row() {
        assert_eq!(
            stored::<EventKind>("case_event", 3, "created"),
            Ok(EventKind::Created)
        );
        let err = stored::<Area>("case_record", 7, "bygglov").unwrap_err();
        assert_eq!(
            err.to_string(),
            "case_record 7 is corrupt: unknown area `bygglov`; expected one of: building_permit, \
             environment_health, food_control, serving_licence, fire_safety, land_use, other"
        );
        assert!(matches!(DbErr::from(err), DbErr::Custom(m) if m.contains("`bygglov`")));
    }
}
