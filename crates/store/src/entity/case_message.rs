//! The `case_message` table: messages between a case's department and its company, each also
//! an event in the case's history.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "case_message")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub case_id: i64,
    /// to_company or from_company.
    pub direction: String,
    pub text: String,
    /// The officer who wrote it (to_company).
    pub author_id: Option<i64>,
    /// Who sent it from the company's side (from_company).
    pub sender: Option<String>,
    pub created_at: DateTimeUtc,
    /// When the department first read a message from the company.
    pub read_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
