//! The `case_follow_link` table: links that let whoever holds one follow one case, sent to the
//! company (in the receipt e-mail, or by the officer). Only the SHA-256 of a link's token is
//! stored; a revoked link opens nothing.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "case_follow_link")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub case_id: i64,
    #[sea_orm(unique)]
    pub token_hash: String,
    /// The officer who made it; `None` for one made by the e-service itself.
    pub created_by: Option<i64>,
    pub created_at: DateTimeUtc,
    pub revoked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
