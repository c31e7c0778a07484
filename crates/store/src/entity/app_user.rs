//! The `app_user` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "app_user")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub role: String,
    pub department_id: Option<i64>,
    pub active: bool,
    pub created_at: DateTimeUtc,
    /// Carried by every access token as `ver`; bumped to invalidate the user's tokens.
    pub token_version: i64,
    /// `"{iss} {sub}"` of the identity provider that signed this user in; `None` for a local
    /// account. An external user's `password_hash` is `!`, which no password matches.
    pub external_subject: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
