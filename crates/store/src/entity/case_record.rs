//! The `case_record` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "case_record")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub reference: String,
    pub department_id: i64,
    pub company_id: i64,
    pub area: String,
    pub case_type: Option<String>,
    pub title: String,
    pub description: String,
    pub assignee_id: Option<i64>,
    pub status: String,
    pub decision: Option<String>,
    pub received_at: DateTimeUtc,
    pub complete_at: Option<DateTimeUtc>,
    pub decided_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
    pub version: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// The clock's state, recomputed from the case's events whenever they change it.
    pub due_date: Option<Date>,
    pub deadline_paused: bool,
    pub extension_weeks: Option<i32>,
    pub decision_due_date: Option<Date>,
    /// low, normal, high, urgent.
    pub priority: String,
    /// A JSON array of strings.
    pub labels: Json,
    /// The OSL reference that makes the case confidential; `None` for a public case.
    pub confidential_statute: Option<String>,
    /// How the case came in: `officer`, `e-service` or `import`.
    pub channel: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
