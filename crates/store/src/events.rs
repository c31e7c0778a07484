//! Appending to the event log. This module only ever inserts: no code path in Lots updates or
//! deletes a `case_event`.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, Set};

use crate::entity::case_event;

/// One event about to be appended.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub case_id: i64,
    pub at: DateTime<Utc>,
    pub kind: &'static str,
    pub actor_id: Option<i64>,
    pub department_id: Option<i64>,
    pub data: serde_json::Value,
}

/// Appends `event` on `conn`, which must be the transaction that makes the change it records.
pub async fn append<C: ConnectionTrait>(
    conn: &C,
    event: NewEvent,
) -> Result<case_event::Model, DbErr> {
    case_event::ActiveModel {
        case_id: Set(event.case_id),
        at: Set(event.at),
        kind: Set(event.kind.to_string()),
        actor_id: Set(event.actor_id),
        department_id: Set(event.department_id),
        data: Set(event.data),
        ..Default::default()
    }
    .insert(conn)
    .await
}
