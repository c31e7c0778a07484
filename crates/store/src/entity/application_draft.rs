//! The `application_draft` table: an application between the steps of its form.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "application_draft")]
pub struct Model {
    /// The SHA-256 (hex) of the draft's token.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub e_service_id: i64,
    /// The signed-in representative's personnummer, so they can go on later.
    pub personal_number: Option<String>,
    /// The answers so far: field name to text.
    pub answers: Json,
    /// The documents so far: `[{field, name, content_type, size, sha256}]`, kept in the store.
    pub files: Json,
    pub step: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
