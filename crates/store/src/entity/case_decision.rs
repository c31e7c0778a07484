//! The `case_decision` table: registered decisions. A row is never changed: a correction is a
//! new row that names the one it corrects.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "case_decision")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub case_id: i64,
    pub outcome: String,
    /// A JSON array of `{sfs, chapter, section}`.
    pub legal_basis: Json,
    pub text: String,
    pub valid_from: Option<Date>,
    pub valid_to: Option<Date>,
    pub decided_by: i64,
    pub decided_at: DateTimeUtc,
    pub corrects_id: Option<i64>,
    pub correction_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
