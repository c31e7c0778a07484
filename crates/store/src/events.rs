//! Appending to the event log. This module only ever inserts: no code path in Lots updates or
//! deletes a `case_event`.

use chrono::{DateTime, Utc};
use lots_core::CaseEvent;
use lots_core::CaseStatus;
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, Set};

use crate::entity::{case_event, outbox};

/// One event about to be appended.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub case_id: i64,
    pub at: DateTime<Utc>,
    pub actor_id: Option<i64>,
    pub department_id: Option<i64>,
    /// What happened, with what it carries: its kind and its data.
    pub event: CaseEvent,
}

/// The webhook event types a case event announces.
pub fn announced_types(event: &CaseEvent) -> Vec<&'static str> {
    match event {
        CaseEvent::Created(_) => vec!["case.created"],
        CaseEvent::StatusChanged(change) => {
            let mut types = vec!["case.status_changed"];
            match change.to {
                CaseStatus::Decided => types.push("case.decided"),
                CaseStatus::Closed => types.push("case.closed"),
                _ => {}
            }
            types
        }
        CaseEvent::HandoffRequested(_) => vec!["handoff.requested"],
        CaseEvent::HandoffCompleted(_) => vec!["handoff.completed"],
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
    append_all(conn, vec![event])
        .await?
        .pop()
        .ok_or_else(|| DbErr::Custom("an event was not appended".into()))
}

/// Appends `events` as [`append`] does each, with one statement a table whatever their number.
/// Returns the stored events in the order given.
pub async fn append_all<C: ConnectionTrait>(
    conn: &C,
    events: Vec<NewEvent>,
) -> Result<Vec<case_event::Model>, DbErr> {
    let announced: Vec<Vec<&'static str>> =
        events.iter().map(|e| announced_types(&e.event)).collect();
    let rows = events.into_iter().map(|e| case_event::ActiveModel {
        case_id: Set(e.case_id),
        at: Set(e.at),
        kind: Set(e.event.kind().as_str().to_string()),
        actor_id: Set(e.actor_id),
        department_id: Set(e.department_id),
        data: Set(e.event.data()),
        ..Default::default()
    });
    let mut stored = case_event::Entity::insert_many(rows)
        .exec_with_returning(conn)
        .await?;
    // RETURNING comes in the database's order (SQLite's is documented as arbitrary); ids are
    // given in the order of the rows.
    stored.sort_by_key(|e| e.id);
    if stored.len() != announced.len() {
        return Err(DbErr::Custom("not every event was appended".into()));
    }
    let mut touched: Vec<i64> = stored.iter().map(|e| e.case_id).collect();
    touched.sort_unstable();
    touched.dedup();
    crate::touch::touch(conn, &touched).await?;
    let announcements = stored.iter().zip(announced).flat_map(|(e, types)| {
        types.into_iter().map(|event_type| {
            crate::outbox::pending(
                event_type,
                Some(e.case_id),
                Some(e.id),
                serde_json::json!({}),
                e.at,
            )
        })
    });
    outbox::Entity::insert_many(announcements)
        .exec_without_returning(conn)
        .await?;
    Ok(stored)
}
