//! What every handler can reach: the configuration, the services and the token keys.

use std::sync::Arc;

use lots_cases::{
    Attachments, CaseTypes, Cases, Companies, CompanySide, Directory, Drafts, EServices, Messages,
    Record, Sessions, Supplements,
};
use lots_handoff::Handoffs;
use lots_hooks::{Surveys, Webhooks};
use lots_store::Db;

use crate::auth::JwtKeys;
use crate::config::Config;
use crate::ops::HttpMetrics;

/// Shared by every request: cloning it (axum does, for each middleware and handler) is one
/// reference count, however many services it holds.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Services>);

impl AppState {
    pub fn from_services(services: Services) -> Self {
        Self(Arc::new(services))
    }
}

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

#[derive(Debug)]
pub struct Services {
    pub config: Arc<Config>,
    pub db: Db,
    pub directory: Directory,
    /// The web pages' logins.
    pub sessions: Sessions,
    /// Registration, the lifecycle, notes, the history and the lists.
    pub cases: Cases,
    /// Supplement requests, extensions and requests for a decision: the statutory clock.
    pub supplements: Supplements,
    /// Messages between the officers and the company of a case.
    pub messages: Messages,
    /// The drafts of applications made through the e-services.
    pub drafts: Drafts,
    /// What companies see of their cases, and the follow links.
    pub company_side: CompanySide,
    /// The company view and bundles.
    pub companies: Companies,
    /// The case types of each area.
    pub case_types: CaseTypes,
    /// Each case's parties and premises.
    pub record: Record,
    /// The e-services companies apply through.
    pub e_services: EServices,
    pub attachments: Attachments,
    pub handoffs: Handoffs,
    pub surveys: Surveys,
    pub webhooks: Webhooks,
    pub clock: Arc<dyn lots_core::Clock>,
    pub jwt: Arc<JwtKeys>,
    pub metrics: Arc<HttpMetrics>,
    pub logins: Arc<crate::auth::LoginThrottle>,
    /// The rollups in the database that every metric and the dashboards read, and this
    /// process's turn at bringing them up to date.
    pub rollups: Arc<lots_metrics::Rollups>,
    /// Signs the web pages' session cookies.
    pub session: Arc<crate::web::session::SessionKey>,
    /// The identity providers.
    pub oidc: Arc<crate::oidc::Oidc>,
    /// The logins of company representatives.
    pub representatives: lots_cases::representatives::Representatives,
    /// What companies send from their side, per follow link or login.
    pub company_posts: Arc<crate::auth::RateLimit>,
    /// Applications sent through the e-services, per address or login.
    pub applications: Arc<crate::auth::RateLimit>,
    /// The steps and documents sent to application drafts, per address or login.
    pub draft_posts: Arc<crate::auth::RateLimit>,
}
