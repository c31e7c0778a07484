//! Webhook subscriptions (admins register a URL and the event types it wants; its secret is
//! shown once) and the delivery log, with retrying a dead-lettered delivery by hand.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use lots_cases::error::require_admin;
use lots_cases::{FieldError, ServiceError, ServiceResult};
use lots_core::{Actor, Clock};
use lots_store::Db;
use lots_store::entity::{webhook_attempt, webhook_delivery, webhook_subscription};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};

use crate::address::check_url;
use crate::signing::new_secret;

/// Every event type a subscription may ask for.
pub const EVENT_TYPES: [&str; 10] = [
    "case.created",
    "case.status_changed",
    "case.decided",
    "case.closed",
    "handoff.requested",
    "handoff.completed",
    "deadline.approaching",
    "deadline.passed",
    "survey.invited",
    "survey.answered",
];

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"url": "https://enkat.example.se/hooks/lots", "events": ["survey.invited", "case.decided"], "description": "Enkätleverantören"}))]
pub struct NewWebhook {
    /// Where to POST, http or https, on the public internet (not loopback, private or
    /// link-local addresses nor `localhost`, unless the server allows private networks).
    pub url: Option<String>,
    /// Event types, or `["*"]` for all.
    pub events: Option<Vec<String>>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WebhookView {
    pub id: i64,
    pub url: String,
    pub events: Vec<String>,
    pub description: Option<String>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

/// The answer to creating a subscription: the only time its secret is shown.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CreatedWebhook {
    #[serde(flatten)]
    pub webhook: WebhookView,
    /// `whsec_…`: verify signatures with it. It is not shown again.
    pub secret: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AttemptView {
    pub attempted_at: DateTime<Utc>,
    /// Null when no response came (timeout, refused connection).
    pub status_code: Option<i32>,
    pub latency_ms: i64,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DeliveryView {
    pub id: i64,
    /// The `webhook-id` header, the same on every attempt.
    pub webhook_id: String,
    pub event_type: String,
    /// pending, succeeded or dead.
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub succeeded_at: Option<DateTime<Utc>>,
    pub dead_at: Option<DateTime<Utc>>,
    pub log: Vec<AttemptView>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryFilter {
    /// pending, succeeded or dead.
    pub status: Option<String>,
    pub limit: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Webhooks {
    db: Db,
    clock: Arc<dyn Clock>,
    dead_letter_after: Duration,
    /// Accept URLs on loopback and private networks (`webhook_allow_private_networks`).
    allow_private_networks: bool,
}

fn admin(actor: &Actor) -> ServiceResult<()> {
    require_admin(actor, "only an admin manages webhooks")
}

impl Webhooks {
    pub fn new(
        db: Db,
        clock: Arc<dyn Clock>,
        dead_letter_after: Duration,
        allow_private_networks: bool,
    ) -> Self {
        Self {
            db,
            clock,
            dead_letter_after,
            allow_private_networks,
        }
    }

    pub async fn create(&self, actor: &Actor, input: NewWebhook) -> ServiceResult<CreatedWebhook> {
        admin(actor)?;
        let mut errors = Vec::new();
        let url = input
            .url
            .as_deref()
            .map(str::trim)
            .unwrap_or_default()
            .to_string();
        if let Err(message) = check_url(&url, self.allow_private_networks) {
            errors.push(FieldError {
                field: "url".into(),
                message,
            });
        }
        let events = input.events.unwrap_or_default();
        if events.is_empty() {
            errors.push(FieldError {
                field: "events".into(),
                message: "name at least one event type, or \"*\"".into(),
            });
        }
        for e in &events {
            if e != "*" && !EVENT_TYPES.contains(&e.as_str()) {
                errors.push(FieldError {
                    field: "events".into(),
                    message: format!(
                        "unknown event type `{e}`; expected: {}",
                        EVENT_TYPES.join(", ")
                    ),
                });
            }
        }
        let description = input
            .description
            .map(|d| d.trim().to_string())
            .filter(|d| !d.is_empty());
        if description
            .as_ref()
            .is_some_and(|d| d.chars().count() > 500)
        {
            errors.push(FieldError {
                field: "description".into(),
                message: "must be at most 500 characters".into(),
            });
        }
        if !errors.is_empty() {
            return Err(ServiceError::Validation(errors));
        }
        let secret = new_secret();
        let model = webhook_subscription::ActiveModel {
            url: Set(url),
            events: Set(events.join(",")),
            description: Set(description),
            secret: Set(secret.clone()),
            active: Set(true),
            created_by: Set(actor.user_id),
            created_at: Set(self.clock.now()),
            ..Default::default()
        }
        .insert(self.db.writer())
        .await?;
        Ok(CreatedWebhook {
            webhook: view(model),
            secret,
        })
    }

    pub async fn list(&self, actor: &Actor) -> ServiceResult<Vec<WebhookView>> {
        admin(actor)?;
        let rows = webhook_subscription::Entity::find()
            .order_by_asc(webhook_subscription::Column::Id)
            .all(self.db.reader())
            .await?;
        Ok(rows.into_iter().map(view).collect())
    }

    /// Stops sending to a subscription; its deliveries stay in the log.
    pub async fn deactivate(&self, actor: &Actor, id: i64) -> ServiceResult<WebhookView> {
        admin(actor)?;
        let sub = webhook_subscription::Entity::find_by_id(id)
            .one(self.db.writer())
            .await?
            .ok_or(ServiceError::NotFound("webhook"))?;
        let mut m: webhook_subscription::ActiveModel = sub.into();
        m.active = Set(false);
        Ok(view(m.update(self.db.writer()).await?))
    }

    pub async fn deliveries(
        &self,
        actor: &Actor,
        id: i64,
        filter: DeliveryFilter,
    ) -> ServiceResult<Vec<DeliveryView>> {
        admin(actor)?;
        webhook_subscription::Entity::find_by_id(id)
            .one(self.db.reader())
            .await?
            .ok_or(ServiceError::NotFound("webhook"))?;
        let mut query = webhook_delivery::Entity::find()
            .filter(webhook_delivery::Column::SubscriptionId.eq(id));
        if let Some(s) = filter
            .status
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            if !["pending", "succeeded", "dead"].contains(&s) {
                return Err(ServiceError::invalid(
                    "status",
                    "must be pending, succeeded or dead",
                ));
            }
            query = query.filter(webhook_delivery::Column::Status.eq(s));
        }
        let limit = match filter.limit.as_deref().map(str::parse::<u64>) {
            None => 100,
            Some(Ok(n)) if (1..=500).contains(&n) => n,
            Some(_) => {
                return Err(ServiceError::invalid(
                    "limit",
                    "must be a whole number from 1 to 500",
                ));
            }
        };
        let rows = query
            .order_by_desc(webhook_delivery::Column::Id)
            .limit(limit)
            .all(self.db.reader())
            .await?;
        let ids: Vec<i64> = rows.iter().map(|d| d.id).collect();
        let mut log: HashMap<i64, Vec<AttemptView>> = HashMap::new();
        if !ids.is_empty() {
            for a in webhook_attempt::Entity::find()
                .filter(webhook_attempt::Column::DeliveryId.is_in(ids))
                .order_by_asc(webhook_attempt::Column::Id)
                .all(self.db.reader())
                .await?
            {
                log.entry(a.delivery_id).or_default().push(AttemptView {
                    attempted_at: a.attempted_at,
                    status_code: a.status_code,
                    latency_ms: a.latency_ms,
                    error: a.error,
                });
            }
        }
        Ok(rows
            .into_iter()
            .map(|d| DeliveryView {
                log: log.remove(&d.id).unwrap_or_default(),
                next_attempt_at: (d.status == "pending").then_some(d.next_attempt_at),
                id: d.id,
                webhook_id: d.webhook_id,
                event_type: d.event_type,
                status: d.status,
                attempts: d.attempts,
                created_at: d.created_at,
                succeeded_at: d.succeeded_at,
                dead_at: d.dead_at,
            })
            .collect())
    }

    /// Sends a dead-lettered (or waiting) delivery again now, with a fresh dead-letter period.
    pub async fn retry(&self, actor: &Actor, id: i64, delivery_id: i64) -> ServiceResult<()> {
        admin(actor)?;
        let now = self.clock.now();
        let d = webhook_delivery::Entity::find_by_id(delivery_id)
            .one(self.db.writer())
            .await?
            .filter(|d| d.subscription_id == id)
            .ok_or(ServiceError::NotFound("delivery"))?;
        if d.status == "succeeded" {
            return Err(ServiceError::Conflict(
                "the delivery has succeeded already".into(),
            ));
        }
        let mut m: webhook_delivery::ActiveModel = d.into();
        m.status = Set("pending".into());
        m.next_attempt_at = Set(now);
        m.dead_letter_at = Set(now + self.dead_letter_after);
        m.dead_at = Set(None);
        m.lease_until = Set(None);
        m.update(self.db.writer()).await?;
        Ok(())
    }
}

fn view(m: webhook_subscription::Model) -> WebhookView {
    WebhookView {
        id: m.id,
        url: m.url,
        events: m
            .events
            .split(',')
            .filter(|e| !e.is_empty())
            .map(str::to_string)
            .collect(),
        description: m.description,
        active: m.active,
        created_at: m.created_at,
    }
}

/// The body of every webhook delivery: `{type, timestamp, data}` (Standard Webhooks). Only the
/// parts that fit the event type are present in `data`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(example = json!({"type": "case.decided", "timestamp": "2026-11-27T10:00:00Z", "data": {
    "case": {"id": 42, "reference": "BN 2026/0042", "org_number": "556012-5790", "company_name": "Exempel AB",
             "area": "building_permit", "case_type": "permit", "department": "SBF", "status": "decided",
             "decision": "approved", "received_at": "2026-09-01T08:00:00Z", "due_date": "2026-11-10"},
    "event": {"id": 7, "kind": "status_changed", "at": "2026-11-27T10:00:00Z", "actor": "anna", "department": "SBF",
              "data": {"from": "in_progress", "to": "decided", "decision": "approved", "reason": null}}}}))]
pub struct WebhookPayload {
    /// One of the event types of `POST /api/v1/webhooks`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// When the event happened.
    pub timestamp: DateTime<Utc>,
    pub data: WebhookData,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WebhookData {
    /// Every event: the case it concerns (id, reference, org_number, company_name, area,
    /// case_type, department, status, decision, received_at, due_date, confidential). The
    /// event's data is the redacted form: personal data masked, and for a confidential case its
    /// content (title, reason, text) replaced by `[sekretess]`.
    #[schema(value_type = Option<Object>)]
    pub case: Option<serde_json::Value>,
    /// case.* and handoff.*: the history entry (id, kind, at, actor, department, data); for a
    /// handoff its data holds handoff_id, handoff_kind, from_department, to_department.
    #[schema(value_type = Option<Object>)]
    pub event: Option<serde_json::Value>,
    /// survey.invited: `{id, expires_at, token, url}`; the only place the token is sent.
    #[schema(value_type = Option<Object>)]
    pub invitation: Option<serde_json::Value>,
    /// deadline.approaching and deadline.passed: `{due_date, working_days_left}`.
    #[schema(value_type = Option<Object>)]
    pub deadline: Option<serde_json::Value>,
    /// survey.answered: `web` or `import` (never the answers themselves).
    pub source: Option<String>,
    /// survey.answered.
    pub answered_at: Option<DateTime<Utc>>,
}
