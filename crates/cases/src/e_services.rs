//! The e-service catalogue: what a company can apply for or notify, each with its form as data.
//! Lots ships its first forms (`lots_core::e_service::builtin`) and writes those it does not
//! have yet at start; an admin changes them, or adds new ones, through the API without a
//! release. An e-service is published (in the public catalogue, open for applications) when it
//! is active and has a department to receive what is sent.

use chrono::{DateTime, Utc};
use lots_core::e_service::{Form, builtin, is_slug};
use lots_core::{Actor, Area};
use lots_store::entity::e_service;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};

use crate::cases::Cases;
use crate::error::{Problems, ServiceError, ServiceResult, require_admin};
use crate::stored::stored;

/// An e-service as the public catalogue shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EServiceView {
    pub slug: String,
    pub area: Area,
    pub case_type: Option<String>,
    pub title: String,
    pub title_en: Option<String>,
    pub summary: String,
    pub summary_en: Option<String>,
    /// The name of the department that receives the applications.
    pub department_name: Option<String>,
    pub form: Form,
}

/// An e-service as an admin manages it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EServiceAdminView {
    #[serde(flatten)]
    pub service: EServiceView,
    /// The code of the department that receives the applications.
    pub department: Option<String>,
    pub active: bool,
    /// Active and with a department: in the catalogue and open for applications.
    pub published: bool,
    pub position: i32,
    pub updated_at: DateTime<Utc>,
}

/// `PUT /api/v1/e-services/{slug}` (admin): the whole e-service, created or replaced.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EServiceInput {
    pub area: Option<String>,
    pub case_type: Option<String>,
    /// A department code; without one the e-service is not published.
    pub department: Option<String>,
    pub title: Option<String>,
    pub title_en: Option<String>,
    pub summary: Option<String>,
    pub summary_en: Option<String>,
    pub form: Option<Form>,
    /// Default true.
    pub active: Option<bool>,
    /// The order in the catalogue, lowest first; default 0.
    pub position: Option<i32>,
}

/// A published e-service, as the intake needs it.
#[derive(Debug, Clone)]
pub struct Published {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub area: Area,
    pub case_type: Option<String>,
    pub department_id: i64,
    pub form: Form,
}

fn form_of(m: &e_service::Model) -> ServiceResult<Form> {
    serde_json::from_value(m.form.clone())
        .map_err(|e| ServiceError::Internal(format!("e_service {}: stored form: {e}", m.id)))
}

/// The e-services companies apply through: their definitions (an admin's) and the published
/// forms, a service of their own over the cases the applications become.
#[derive(Debug, Clone)]
pub struct EServices {
    cases: Cases,
}

impl EServices {
    pub fn new(cases: Cases) -> Self {
        Self { cases }
    }
    /// Writes the shipped e-services this database does not have yet (none is overwritten, so
    /// an admin's changes stay). Returns how many were added.
    pub async fn add_builtin_e_services(&self) -> ServiceResult<usize> {
        let now = self.cases.clock.now();
        let have: Vec<String> = e_service::Entity::find()
            .all(self.cases.db.writer())
            .await?
            .into_iter()
            .map(|m| m.slug)
            .collect();
        let mut added = 0;
        let shipped = builtin()
            .map_err(|e| ServiceError::Internal(format!("the shipped e-services: {e}")))?;
        for (i, b) in shipped.into_iter().enumerate() {
            if have.contains(&b.slug) {
                continue;
            }
            let form = serde_json::to_value(&b.form)
                .map_err(|e| ServiceError::Internal(format!("builtin form: {e}")))?;
            e_service::ActiveModel {
                slug: Set(b.slug),
                area: Set(b.area.as_str().into()),
                case_type: Set(b.case_type),
                department_id: Set(None),
                title: Set(b.title),
                title_en: Set(Some(b.title_en)),
                summary: Set(b.summary),
                summary_en: Set(Some(b.summary_en)),
                form: Set(form),
                active: Set(true),
                position: Set(i32::try_from(i).unwrap_or(0) * 10),
                updated_at: Set(now),
                updated_by: Set(None),
                ..Default::default()
            }
            .insert(self.cases.db.writer())
            .await?;
            added += 1;
        }
        Ok(added)
    }

    async fn e_service_view(&self, m: &e_service::Model) -> ServiceResult<EServiceView> {
        let departments = self.cases.db.departments().await?;
        Ok(EServiceView {
            slug: m.slug.clone(),
            area: stored("e_service", m.id, &m.area)?,
            case_type: m.case_type.clone(),
            title: m.title.clone(),
            title_en: m.title_en.clone(),
            summary: m.summary.clone(),
            summary_en: m.summary_en.clone(),
            department_name: m
                .department_id
                .and_then(|d| departments.get(&d))
                .map(|d| d.name.clone()),
            form: form_of(m)?,
        })
    }

    async fn admin_view(&self, m: &e_service::Model) -> ServiceResult<EServiceAdminView> {
        let departments = self.cases.db.departments().await?;
        Ok(EServiceAdminView {
            service: self.e_service_view(m).await?,
            department: m
                .department_id
                .and_then(|d| departments.get(&d))
                .map(|d| d.code.clone()),
            active: m.active,
            published: m.active && m.department_id.is_some(),
            position: m.position,
            updated_at: m.updated_at,
        })
    }

    fn published_query() -> sea_orm::Select<e_service::Entity> {
        e_service::Entity::find()
            .filter(e_service::Column::Active.eq(true))
            .filter(e_service::Column::DepartmentId.is_not_null())
            .order_by_asc(e_service::Column::Position)
            .order_by_asc(e_service::Column::Id)
    }

    /// The public catalogue: the published e-services in their order.
    pub async fn e_services(&self) -> ServiceResult<Vec<EServiceView>> {
        let rows = Self::published_query().all(self.cases.db.reader()).await?;
        let mut out = Vec::with_capacity(rows.len());
        for m in &rows {
            out.push(self.e_service_view(m).await?);
        }
        Ok(out)
    }

    /// The row of published e-service `slug`; an unpublished one is not found.
    async fn published_row(&self, slug: &str) -> ServiceResult<e_service::Model> {
        Self::published_query()
            .filter(e_service::Column::Slug.eq(slug.trim()))
            .one(self.cases.db.reader())
            .await?
            .ok_or(ServiceError::NotFound("e-service"))
    }

    fn published_of(m: &e_service::Model) -> ServiceResult<Published> {
        Ok(Published {
            id: m.id,
            area: stored("e_service", m.id, &m.area)?,
            form: form_of(m)?,
            department_id: m.department_id.ok_or(ServiceError::NotFound("e-service"))?,
            slug: m.slug.clone(),
            title: m.title.clone(),
            case_type: m.case_type.clone(),
        })
    }

    /// One published e-service; an unpublished one is not found.
    pub async fn e_service(&self, slug: &str) -> ServiceResult<EServiceView> {
        self.e_service_view(&self.published_row(slug).await?).await
    }

    /// One published e-service as the intake needs it.
    pub async fn published_e_service(&self, slug: &str) -> ServiceResult<Published> {
        Self::published_of(&self.published_row(slug).await?)
    }

    /// One published e-service as the intake needs it and as its pages show it, from one read.
    pub async fn published_e_service_with_view(
        &self,
        slug: &str,
    ) -> ServiceResult<(Published, EServiceView)> {
        let m = self.published_row(slug).await?;
        Ok((Self::published_of(&m)?, self.e_service_view(&m).await?))
    }

    /// Every e-service, published or not (admin).
    pub async fn e_services_admin(&self, actor: &Actor) -> ServiceResult<Vec<EServiceAdminView>> {
        require_admin(actor, "only an admin manages e-services")?;
        let rows = e_service::Entity::find()
            .order_by_asc(e_service::Column::Position)
            .order_by_asc(e_service::Column::Id)
            .all(self.cases.db.reader())
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for m in &rows {
            out.push(self.admin_view(m).await?);
        }
        Ok(out)
    }

    /// Creates or replaces e-service `slug` (admin); `true` when it was created. Every problem
    /// of the input and its form is named at once, and nothing is written.
    pub async fn put_e_service(
        &self,
        actor: &Actor,
        slug: &str,
        input: EServiceInput,
    ) -> ServiceResult<(EServiceAdminView, bool)> {
        require_admin(actor, "only an admin manages e-services")?;
        let now = self.cases.clock.now();
        let mut p = Problems::default();
        if !is_slug(slug) {
            p.add(
                "slug",
                "must be 2 to 60 of a-z, 0-9 and single hyphens, e.g. `bygglov`",
            );
        }
        let area = match input.area.as_deref() {
            None => {
                p.add("area", "is required");
                None
            }
            Some(a) => p.check("area", a.trim().parse::<Area>()),
        };
        let case_type = match area {
            Some(a) => {
                self.cases
                    .check_case_type(&mut p, a, input.case_type.as_deref())
                    .await?
            }
            None => None,
        };
        let department = match input.department.as_deref() {
            None => Some(None),
            Some(code) => match self.cases.db.department_by_code(code.trim()).await? {
                None => {
                    p.add("department", "no such department");
                    None
                }
                Some(d) => Some(Some(d.id)),
            },
        };
        let title = p.text("title", input.title.as_deref(), 1, 200);
        let summary = p.text("summary", input.summary.as_deref().or(Some("")), 0, 2000);
        let title_en = input
            .title_en
            .as_deref()
            .and_then(|t| p.text("title_en", Some(t), 1, 200));
        let summary_en = input
            .summary_en
            .as_deref()
            .and_then(|t| p.text("summary_en", Some(t), 0, 2000));
        match &input.form {
            None => p.add("form", "is required"),
            Some(f) => {
                for (path, message) in f.check() {
                    p.add(&path, message);
                }
            }
        }
        p.finish()?;
        let (Some(area), Some(case_type), Some(department), Some(title), Some(summary), Some(form)) =
            (area, case_type, department, title, summary, input.form)
        else {
            return Err(ServiceError::Internal("validated fields missing".into()));
        };
        let form = serde_json::to_value(&form)
            .map_err(|e| ServiceError::Internal(format!("form: {e}")))?;
        let existing = e_service::Entity::find()
            .filter(e_service::Column::Slug.eq(slug))
            .one(self.cases.db.writer())
            .await?;
        let created = existing.is_none();
        let mut m = match existing {
            Some(e) => e.into_active_model(),
            None => e_service::ActiveModel {
                slug: Set(slug.to_string()),
                ..Default::default()
            },
        };
        m.area = Set(area.as_str().to_string());
        m.case_type = Set(case_type);
        m.department_id = Set(department);
        m.title = Set(title);
        m.title_en = Set(title_en);
        m.summary = Set(summary);
        m.summary_en = Set(summary_en);
        m.form = Set(form);
        m.active = Set(input.active.unwrap_or(true));
        m.position = Set(input.position.unwrap_or(0));
        m.updated_at = Set(now);
        m.updated_by = Set(Some(actor.user_id));
        let row = if created {
            m.insert(self.cases.db.writer()).await?
        } else {
            m.update(self.cases.db.writer()).await?
        };
        Ok((self.admin_view(&row).await?, created))
    }
}
