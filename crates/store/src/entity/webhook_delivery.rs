//! The `webhook_delivery` table: one event for one subscription, until it succeeds or dies.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_delivery")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub subscription_id: i64,
    pub outbox_id: i64,
    /// The `webhook-id` header; the same on every retry.
    pub webhook_id: String,
    pub event_type: String,
    pub body: String,
    /// pending, succeeded or dead.
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    pub lease_until: Option<DateTimeUtc>,
    pub dead_letter_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
    pub succeeded_at: Option<DateTimeUtc>,
    pub dead_at: Option<DateTimeUtc>,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
