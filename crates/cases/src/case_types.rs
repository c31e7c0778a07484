//! Case types per area as data: seeded by the migration, listed to everyone, added and
//! deactivated by admins. A deactivated type stays valid on the cases that have it.

use std::sync::Arc;

use lots_core::{Actor, Area, Clock};
use lots_store::Db;
use lots_store::entity::case_type;
use lots_store::identity::Change;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::{Deserialize, Serialize};

use crate::error::{Problems, ServiceError, ServiceResult, conflict_if_duplicate, require_admin};
use crate::stored::stored;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseTypeView {
    pub id: i64,
    pub area: Area,
    pub code: String,
    /// The Swedish name shown to users.
    pub label: String,
    /// Inactive types are refused for new cases.
    pub active: bool,
}

/// `POST /api/v1/case-types` (admin).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"area": "building_permit", "code": "solar_panels", "label": "Solceller"}))]
pub struct NewCaseType {
    pub area: Option<String>,
    /// Lower-case letters, digits and `_`, 2–40 characters.
    pub code: Option<String>,
    pub label: Option<String>,
}

/// `PATCH /api/v1/case-types/{id}` (admin).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseTypePatch {
    pub active: Option<bool>,
    pub label: Option<String>,
}

fn view(m: case_type::Model) -> ServiceResult<CaseTypeView> {
    Ok(CaseTypeView {
        id: m.id,
        area: stored("case_type", m.id, &m.area)?,
        code: m.code,
        label: m.label,
        active: m.active,
    })
}

/// The active case types of `area`, in their order (the first is the default where one is).
/// Read from memory (`Db::case_types`): every registration asks.
pub async fn active_types(db: &Db, area: Area) -> ServiceResult<Vec<String>> {
    Ok(db
        .case_types()
        .await?
        .iter()
        .filter(|t| t.active && t.area == area.as_str())
        .map(|t| t.code.clone())
        .collect())
}

fn admin(actor: &Actor) -> ServiceResult<()> {
    require_admin(actor, "only an admin manages case types")
}

/// The case types: listed to everyone, added and changed by admins.
#[derive(Debug, Clone)]
pub struct CaseTypes {
    db: Db,
    clock: Arc<dyn Clock>,
}

impl CaseTypes {
    pub fn new(db: Db, clock: Arc<dyn Clock>) -> Self {
        Self { db, clock }
    }

    pub async fn case_types(&self, area: Option<&str>) -> ServiceResult<Vec<CaseTypeView>> {
        let mut q = case_type::Entity::find();
        if let Some(a) = area.map(str::trim).filter(|a| !a.is_empty()) {
            let area = a
                .parse::<Area>()
                .map_err(|e| ServiceError::invalid("area", e.to_string()))?;
            q = q.filter(case_type::Column::Area.eq(area.as_str()));
        }
        q.order_by_asc(case_type::Column::Area)
            .order_by_asc(case_type::Column::Position)
            .order_by_asc(case_type::Column::Id)
            .all(self.db.reader())
            .await?
            .into_iter()
            .map(view)
            .collect()
    }

    pub async fn add_case_type(
        &self,
        actor: &Actor,
        input: NewCaseType,
    ) -> ServiceResult<CaseTypeView> {
        admin(actor)?;
        let mut p = Problems::default();
        let area = match input.area.as_deref() {
            None => {
                p.add("area", "is required");
                None
            }
            Some(a) => p.check("area", a.trim().parse::<Area>()),
        };
        let code = match input.code.as_deref().map(str::trim) {
            None => {
                p.add("code", "is required");
                None
            }
            Some(c)
                if (2..=40).contains(&c.len())
                    && c.chars()
                        .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_')
                    && c.starts_with(|ch: char| ch.is_ascii_lowercase()) =>
            {
                Some(c.to_string())
            }
            Some(_) => {
                p.add(
                    "code",
                    "must be 2–40 lower-case letters, digits or `_`, starting with a letter",
                );
                None
            }
        };
        let label = p.text("label", input.label.as_deref(), 1, 200);
        p.finish()?;
        let (Some(area), Some(code), Some(label)) = (area, code, label) else {
            return Err(ServiceError::Internal("validated fields missing".into()));
        };
        let position = case_type::Entity::find()
            .filter(case_type::Column::Area.eq(area.as_str()))
            .all(self.db.reader())
            .await?
            .iter()
            .map(|t| t.position)
            .max()
            .map_or(0, |m| m + 1);
        let row = case_type::ActiveModel {
            area: Set(area.as_str().to_string()),
            code: Set(code),
            label: Set(label),
            active: Set(true),
            position: Set(position),
            created_at: Set(self.clock.now()),
            ..Default::default()
        }
        .insert(self.db.writer())
        .await
        .map_err(conflict_if_duplicate(
            "the area already has a case type with this code",
        ))?;
        self.db.forget(&Change::CaseTypes);
        view(row)
    }

    pub async fn update_case_type(
        &self,
        actor: &Actor,
        id: i64,
        patch: CaseTypePatch,
    ) -> ServiceResult<CaseTypeView> {
        admin(actor)?;
        let mut p = Problems::default();
        let label = patch
            .label
            .as_deref()
            .and_then(|l| p.text("label", Some(l), 1, 200));
        if patch.active.is_none() && patch.label.is_none() {
            p.add("body", "names no field to change (active, label)");
        }
        p.finish()?;
        let row = case_type::Entity::find_by_id(id)
            .one(self.db.reader())
            .await?
            .ok_or(ServiceError::NotFound("case type"))?;
        let mut m: case_type::ActiveModel = row.into();
        if let Some(a) = patch.active {
            m.active = Set(a);
        }
        if let Some(l) = label {
            m.label = Set(l);
        }
        let row = m.update(self.db.writer()).await?;
        self.db.forget(&Change::CaseTypes);
        view(row)
    }
}
