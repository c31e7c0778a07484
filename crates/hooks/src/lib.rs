//! lots-hooks: satisfaction hooks. Survey invitations and answers, webhook subscriptions and
//! deliveries (Standard Webhooks signatures, retried with backoff until they succeed or are
//! dead-lettered), and the worker that acts on the outbox.

pub mod address;
pub mod mail;
pub mod signing;
pub mod survey;
pub mod webhooks;
pub mod worker;

pub use survey::{ImportReport, SurveyAnswer, SurveyContext, SurveySettings, Surveys, TokenState};
pub use webhooks::{
    CreatedWebhook, DeliveryFilter, DeliveryView, NewWebhook, WebhookView, Webhooks,
};
pub use worker::{Worker, WorkerSettings};

/// Installs the process-wide TLS provider (ring) for HTTPS clients; safe to call repeatedly.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
