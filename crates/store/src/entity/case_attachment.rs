//! The `case_attachment` table: a document's metadata. The bytes live on disk under their
//! SHA-256; a deleted attachment keeps its row (who deleted it, when, why).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "case_attachment")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub case_id: i64,
    pub name: String,
    pub category: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub confidential_statute: Option<String>,
    /// The user who added it; `None` for a document the company sent from its side.
    pub created_by: Option<i64>,
    pub created_at: DateTimeUtc,
    pub deleted_by: Option<i64>,
    pub deleted_at: Option<DateTimeUtc>,
    pub delete_reason: Option<String>,
    /// Who sent it from the company's side (as they signed in, or "via följlänk").
    pub sent_by: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
