//! The `kolada_value` table: one imported Kolada value.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "kolada_value")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub kpi: String,
    /// SCB's four-digit kommunkod.
    pub municipality: String,
    pub period: i32,
    /// T (total), K, M.
    pub gender: String,
    /// `None` when Kolada flags the value (see `status`).
    pub value: Option<f64>,
    pub status: Option<String>,
    pub count: Option<i32>,
    pub imported_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
