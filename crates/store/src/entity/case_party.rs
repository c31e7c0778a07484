//! The `case_party` table: organisations and people on a case (intressenter), in roles.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "case_party")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub case_id: i64,
    /// organisation or person.
    pub kind: String,
    pub org_number: Option<String>,
    /// Personal data: `YYYYMMDD-NNNN`.
    pub personal_number: Option<String>,
    pub name: String,
    /// A JSON array of roles.
    pub roles: Json,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub version: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
