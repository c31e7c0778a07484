//! The `bundle_case` table: which cases a bundle holds.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "bundle_case")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub bundle_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub case_id: i64,
    pub added_by: i64,
    pub added_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
