//! Reading the enum columns of stored rows, once per type: a row holding a value its type does
//! not know is corrupt, an internal error naming the table, the row and the value (logged,
//! answered as a 500), never a silently wrong default (`lots_store::stored`).

use std::fmt::Display;
use std::str::FromStr;

use lots_core::{
    Area, CaseEvent, CaseStatus, HandoffKind, HandoffStatus, PartyRole, UnknownVariant,
};
use lots_store::entity::{case_event, case_party, case_record, handoff};
use serde::Deserialize;

use crate::error::{ServiceError, ServiceResult};

/// A value of a stored row as the type it stands for; a corrupt row is an internal error.
pub fn stored<T>(table: &str, id: impl Display, value: &str) -> ServiceResult<T>
where
    T: FromStr<Err = UnknownVariant>,
{
    lots_store::stored::stored(table, id, value).map_err(|e| ServiceError::Internal(e.to_string()))
}

/// `stored` for a column that may be null.
pub fn stored_opt<T>(table: &str, id: impl Display, value: Option<&str>) -> ServiceResult<Option<T>>
where
    T: FromStr<Err = UnknownVariant>,
{
    value.map(|v| stored(table, id, v)).transpose()
}

/// The event a `case_event` row holds (`lots_store::stored::stored_event`).
pub fn stored_event(e: &case_event::Model) -> ServiceResult<CaseEvent> {
    lots_store::stored::stored_event(e).map_err(|e| ServiceError::Internal(e.to_string()))
}

/// The roles of a party row (a JSON list of `PartyRole`).
pub fn party_roles(m: &case_party::Model) -> ServiceResult<Vec<PartyRole>> {
    Vec::<PartyRole>::deserialize(&m.roles)
        .map_err(|e| ServiceError::Internal(format!("case_party {} is corrupt: roles: {e}", m.id)))
}

/// The status of a case row.
pub fn case_status(c: &case_record::Model) -> ServiceResult<CaseStatus> {
    stored("case_record", c.id, &c.status)
}

/// The area of a case row.
pub fn case_area(c: &case_record::Model) -> ServiceResult<Area> {
    stored("case_record", c.id, &c.area)
}

/// The kind of a handoff row.
pub fn handoff_kind(h: &handoff::Model) -> ServiceResult<HandoffKind> {
    stored("handoff", h.id, &h.kind)
}

/// The status of a handoff row.
pub fn handoff_status(h: &handoff::Model) -> ServiceResult<HandoffStatus> {
    stored("handoff", h.id, &h.status)
}

/// The stored forms of the open handoff statuses, to filter rows by.
pub fn open_handoff_statuses() -> impl Iterator<Item = &'static str> {
    HandoffStatus::ALL
        .iter()
        .filter(|s| s.is_open())
        .map(|s| s.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_value_is_its_type_or_an_internal_error_naming_the_row() {
        let status: CaseStatus = stored("case_record", 7, "decided").unwrap();
        assert_eq!(status, CaseStatus::Decided);
        let err = stored::<Area>("case_record", 7, "bygglov").unwrap_err();
        let ServiceError::Internal(msg) = err else {
            panic!("not internal: {err:?}")
        };
        assert!(msg.contains("case_record 7"), "{msg}");
        assert!(msg.contains("`bygglov`"), "{msg}");
        assert_eq!(stored_opt::<Area>("case_record", 7, None).unwrap(), None);
        assert!(stored_opt::<Area>("case_record", 7, Some("x")).is_err());
    }
}
