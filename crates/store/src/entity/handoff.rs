//! The `handoff` table: a contact from one department to another about a case.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "handoff")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub case_id: i64,
    pub kind: String,
    pub status: String,
    pub from_department_id: i64,
    pub to_department_id: i64,
    pub message: String,
    pub response: Option<String>,
    pub decline_reason: Option<String>,
    pub due_date: Option<Date>,
    pub requested_by: i64,
    pub requested_at: DateTimeUtc,
    pub accepted_by: Option<i64>,
    pub accepted_at: Option<DateTimeUtc>,
    pub completed_by: Option<i64>,
    pub completed_at: Option<DateTimeUtc>,
    /// Who declined or cancelled it, and when.
    pub closed_by: Option<i64>,
    pub closed_at: Option<DateTimeUtc>,
    pub version: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
