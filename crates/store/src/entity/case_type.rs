//! The `case_type` table: the case types of each area, as data an admin can extend.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "case_type")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub area: String,
    pub code: String,
    pub label: String,
    pub active: bool,
    pub position: i32,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
