//! The `e_service` table: one e-service of the company's side, its form as data.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "e_service")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub slug: String,
    pub area: String,
    pub case_type: Option<String>,
    /// The department that receives the applications; unpublished without one.
    pub department_id: Option<i64>,
    pub title: String,
    pub title_en: Option<String>,
    pub summary: String,
    pub summary_en: Option<String>,
    /// The form: `lots_core::e_service::Form` as JSON.
    pub form: Json,
    pub active: bool,
    pub position: i32,
    pub updated_at: DateTimeUtc,
    pub updated_by: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
