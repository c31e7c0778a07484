//! Appending to the event log. This module only ever inserts: no code path in Lots updates or
//! deletes a `case_event`.

use chrono::{DateTime, Utc};
use lots_core::{CaseStatus, EventKind};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, Set};

use crate::entity::case_event;

/// One event about to be appended.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub case_id: i64,
    pub at: DateTime<Utc>,
    pub kind: EventKind,
    pub actor_id: Option<i64>,
    pub department_id: Option<i64>,
    pub data: serde_json::Value,
}

/// The webhook event types a case event announces.
pub fn announced_types(kind: EventKind, data: &serde_json::Value) -> Vec<&'static str> {
    let to = data
        .get("to")
        .and_then(|v| v.as_str())
        .and_then(|s| s.parse::<CaseStatus>().ok());
    match kind {
        EventKind::Created => vec!["case.created"],
        EventKind::StatusChanged => {
            let mut types = vec!["case.status_changed"];
            match to {
                Some(CaseStatus::Decided) => types.push("case.decided"),
                Some(CaseStatus::Closed) => types.push("case.closed"),
                _ => {}
            }
            types
        }
        EventKind::HandoffRequested => vec!["handoff.requested"],
        EventKind::HandoffCompleted => vec!["handoff.completed"],
        _ => Vec::new(),
    }
}

/// Appends `event` on `conn`, which must be the transaction that makes the change it records,
/// and puts what it announces into the outbox in that same transaction: an event is announced
/// if and only if it happened.
pub async fn append<C: ConnectionTrait>(
    conn: &C,
    event: NewEvent,
) -> Result<case_event::Model, DbErr> {
    let types = announced_types(event.kind, &event.data);
    let stored = case_event::ActiveModel {
        case_id: Set(event.case_id),
        at: Set(event.at),
        kind: Set(event.kind.as_str().to_string()),
        actor_id: Set(event.actor_id),
        department_id: Set(event.department_id),
        data: Set(event.data),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    crate::touch::touch(conn, &[stored.case_id]).await?;
    for event_type in types {
        crate::outbox::enqueue(
            conn,
            event_type,
            Some(stored.case_id),
            Some(stored.id),
            serde_json::json!({}),
            stored.at,
        )
        .await?;
    }
    Ok(stored)
}
