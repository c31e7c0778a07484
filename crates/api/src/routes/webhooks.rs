//! Webhook subscriptions and their delivery log (admins).

use axum::Json;
use axum::extract::Path;
use axum::http::StatusCode;
use lots_hooks::{CreatedWebhook, DeliveryFilter, DeliveryView, NewWebhook, WebhookView};
use serde::Serialize;

use super::created;
use super::problems::{InvalidFilter, NotAdmin, NotLoggedIn};
use crate::auth::Caller;
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, Id};

#[derive(Serialize, utoipa::ToSchema)]
pub struct WebhookList {
    pub items: Vec<WebhookView>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DeliveryList {
    /// Newest first, each with its attempts.
    pub items: Vec<DeliveryView>,
}

/// Register a webhook. Its secret is in this answer and never again. Deliveries are POSTed as
/// JSON `{type, timestamp, data}` with the Standard Webhooks headers `webhook-id`,
/// `webhook-timestamp` and `webhook-signature` (`v1,` + base64 HMAC-SHA256 of
/// `{id}.{timestamp}.{body}` keyed with the secret's base64 part). Event types: case.created,
/// case.status_changed, case.decided, case.closed, handoff.requested, handoff.completed,
/// deadline.approaching, deadline.passed, survey.invited (with the survey token and link),
/// survey.answered.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks",
    request_body = NewWebhook,
    responses(
        (status = 201, description = "Registered; the secret is shown only now", body = CreatedWebhook),
        NotLoggedIn, NotAdmin,
        (status = 422, description = "Invalid URL (not http or https, with credentials, or leading to a loopback, private, link-local or other non-public address or `localhost`) or event types", body = Problem, content_type = "application/problem+json")))]
pub async fn create_webhook(
    Caller { state, actor }: Caller,
    ApiJson(input): ApiJson<NewWebhook>,
) -> ApiResult<(StatusCode, Json<CreatedWebhook>)> {
    Ok(created(state.webhooks.create(&actor, input).await?))
}

/// Every webhook subscription (without secrets).
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks",
    responses(
        (status = 200, description = "The subscriptions", body = WebhookList),
        NotLoggedIn, NotAdmin))]
pub async fn list_webhooks(Caller { state, actor }: Caller) -> ApiResult<Json<WebhookList>> {
    Ok(Json(WebhookList {
        items: state.webhooks.list(&actor).await?,
    }))
}

/// Stop sending to a webhook; its delivery log stays.
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "webhooks",
    params(("id" = i64, Path, description = "The subscription id")),
    responses(
        (status = 200, description = "Deactivated", body = WebhookView),
        NotLoggedIn, NotAdmin,
        (status = 404, description = "No such webhook", body = Problem, content_type = "application/problem+json")))]
pub async fn delete_webhook(
    Caller { state, actor }: Caller,
    Id(id): Id,
) -> ApiResult<Json<WebhookView>> {
    Ok(Json(state.webhooks.deactivate(&actor, id).await?))
}

/// The delivery log: every delivery with each attempt's time, status code, latency and error.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "webhooks",
    params(("id" = i64, Path, description = "The subscription id"), DeliveryFilter),
    responses(
        (status = 200, description = "Deliveries", body = DeliveryList),
        NotLoggedIn, NotAdmin, InvalidFilter,
        (status = 404, description = "No such webhook", body = Problem, content_type = "application/problem+json")))]
pub async fn list_deliveries(
    Caller { state, actor }: Caller,
    Id(id): Id,
    ApiQuery(filter): ApiQuery<DeliveryFilter>,
) -> ApiResult<Json<DeliveryList>> {
    Ok(Json(DeliveryList {
        items: state.webhooks.deliveries(&actor, id, filter).await?,
    }))
}

/// Send a dead-lettered delivery again, now (same `webhook-id`).
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/deliveries/{delivery_id}/retry", tag = "webhooks",
    params(("id" = i64, Path, description = "The subscription id"), ("delivery_id" = i64, Path, description = "The delivery id")),
    responses(
        (status = 202, description = "Queued for sending"),
        NotLoggedIn, NotAdmin,
        (status = 404, description = "No such delivery", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "It succeeded already", body = Problem, content_type = "application/problem+json")))]
pub async fn retry_delivery(
    Caller { state, actor }: Caller,
    Path((id, delivery_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let (id, delivery_id) = super::ids(&id, &delivery_id)?;
    state.webhooks.retry(&actor, id, delivery_id).await?;
    Ok(StatusCode::ACCEPTED)
}
