//! The `survey_response` table: a company's answer, with its NKI and factor indices.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "survey_response")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub case_id: i64,
    pub invitation_id: Option<i64>,
    /// `web` or `import`.
    pub source: String,
    pub q_overall: i16,
    pub q_expectations: i16,
    pub q_ideal: i16,
    pub f_information: Option<i16>,
    pub f_accessibility: Option<i16>,
    pub f_treatment: Option<i16>,
    pub f_competence: Option<i16>,
    pub f_legal_certainty: Option<i16>,
    pub f_efficiency: Option<i16>,
    pub comment: Option<String>,
    pub nki: f64,
    pub i_information: Option<f64>,
    pub i_accessibility: Option<f64>,
    pub i_treatment: Option<f64>,
    pub i_competence: Option<f64>,
    pub i_legal_certainty: Option<f64>,
    pub i_efficiency: Option<f64>,
    pub answered_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
