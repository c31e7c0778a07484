//! The `reference_series` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "reference_series")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub department_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub year: i32,
    pub last_serial: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
