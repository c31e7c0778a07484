//! The outbox: what must follow a change (a webhook, a survey invitation) is written here in the
//! same transaction as the change, and a worker processes each row exactly once.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, Set};

use crate::entity::outbox;

/// Puts `event_type` into the outbox on `conn`, the transaction of the change it follows.
pub async fn enqueue<C: ConnectionTrait>(
    conn: &C,
    event_type: &str,
    case_id: Option<i64>,
    case_event_id: Option<i64>,
    payload: serde_json::Value,
    at: DateTime<Utc>,
) -> Result<outbox::Model, DbErr> {
    pending(event_type, case_id, case_event_id, payload, at)
        .insert(conn)
        .await
}

/// The outbox row for `event_type`, not yet processed (for a bulk insert).
pub fn pending(
    event_type: &str,
    case_id: Option<i64>,
    case_event_id: Option<i64>,
    payload: serde_json::Value,
    at: DateTime<Utc>,
) -> outbox::ActiveModel {
    outbox::ActiveModel {
        event_type: Set(event_type.to_string()),
        case_id: Set(case_id),
        case_event_id: Set(case_event_id),
        payload: Set(payload),
        created_at: Set(at),
        processed_at: Set(None),
        ..Default::default()
    }
}
