//! The `company_session` table: the logins of company representatives, who sign in with
//! e-legitimation through the companies' identity provider. The key is the SHA-256 (hex) of the
//! session's secret; the secret itself is only in the signed cookie.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "company_session")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// The representative's personnummer, `YYYYMMDD-NNNN`.
    pub personal_number: String,
    pub name: Option<String>,
    /// The CSRF token every form of this session carries.
    pub csrf: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
