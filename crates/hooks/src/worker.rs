//! The worker: claims outbox rows and acts on them exactly once (survey invitations, fanning an
//! event out to its webhook subscriptions), announces deadlines once per case and deadline, and
//! delivers webhooks with signatures, timeouts, per-subscription concurrency, exponential backoff
//! with jitter, and a dead letter after a configurable time. Unless private networks are
//! allowed, an attempt connects only to public addresses (see `address`).
//!
//! Coordination is only through the database, so any number of workers may share it: on
//! PostgreSQL outbox rows are claimed with `FOR UPDATE SKIP LOCKED` inside the transaction that
//! processes them (a worker that dies rolls back and frees them), and deliveries are claimed with
//! a lease that expires (a worker killed mid-delivery leaves a lease another worker takes over).
//! On SQLite the single writer serialises claims. Nothing follows a "highest id seen" cursor.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, Utc};
use lots_core::calendar::{add_working_days, working_days_between};
use lots_core::{Area, CaseStatus, Clock, Decision, TIME_ZONE};
use lots_store::Db;
use lots_store::entity::{
    case_event, case_record, company, deadline_notice, department, outbox, survey_invitation,
    webhook_attempt, webhook_delivery, webhook_subscription,
};
use lots_store::lookup::{department_code, username};
use lots_store::stored::{CorruptRow, stored, stored_event};
use sea_orm::sea_query::{LockBehavior, LockType};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, DbErr,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Set, Statement,
};
use serde_json::{Value, json};
use tokio::task::JoinHandle;

use crate::address::{PublicOnly, Refused, refuse_literal, refused_in};
use crate::signing::sign;
use crate::survey::Surveys;

#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// How often the worker looks for work.
    pub tick: StdDuration,
    /// Outbox rows per transaction.
    pub batch: u64,
    /// A receiver that has not answered by then has failed this attempt.
    pub delivery_timeout: StdDuration,
    /// A delivery still failing this long after it was created is dead-lettered.
    pub dead_letter_after: Duration,
    /// Deliveries in flight at once to one subscription, per worker.
    pub per_subscription: usize,
    /// The first retry waits this long; each next one twice as long, up to `max_backoff`.
    pub base_backoff: StdDuration,
    pub max_backoff: StdDuration,
    /// `deadline.approaching` this many working days before the due date.
    pub approaching_days: i64,
    /// How often deadlines are scanned.
    pub deadline_scan_every: StdDuration,
    /// Deliver to loopback and private addresses too (`webhook_allow_private_networks`).
    pub allow_private_networks: bool,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            tick: StdDuration::from_secs(1),
            batch: 100,
            delivery_timeout: StdDuration::from_secs(10),
            dead_letter_after: Duration::hours(24),
            per_subscription: 4,
            base_backoff: StdDuration::from_secs(5),
            max_backoff: StdDuration::from_secs(3600),
            approaching_days: 5,
            deadline_scan_every: StdDuration::from_secs(60),
            allow_private_networks: false,
        }
    }
}

#[derive(Clone)]
pub struct Worker {
    db: Db,
    clock: Arc<dyn Clock>,
    settings: WorkerSettings,
    surveys: Surveys,
    client: reqwest::Client,
    inflight: Arc<Mutex<HashMap<i64, usize>>>,
    last_scan: Arc<Mutex<Option<Instant>>>,
    /// Sends the mail outbox; without one, mails wait in it.
    mailer: Option<Arc<crate::mail::Mailer>>,
}

/// A delivery this worker holds the lease of.
#[derive(Debug, Clone)]
struct Claimed {
    id: i64,
    subscription_id: i64,
    url: String,
    secret: String,
    webhook_id: String,
    event_type: String,
    body: String,
    attempts: i32,
    dead_letter_at: DateTime<Utc>,
}

impl Worker {
    pub fn new(
        db: Db,
        clock: Arc<dyn Clock>,
        settings: WorkerSettings,
        surveys: Surveys,
    ) -> Result<Self, String> {
        crate::install_tls_provider();
        let mut builder = reqwest::Client::builder()
            .timeout(settings.delivery_timeout)
            .connect_timeout(settings.delivery_timeout)
            // A redirect would lead past the address check: never follow one.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("Lots-Webhooks/", env!("CARGO_PKG_VERSION")));
        if !settings.allow_private_networks {
            // Every name is resolved by the checking resolver and connected to directly: a
            // proxy from the environment would be resolved instead of the receiver (and is
            // itself usually on a private network).
            builder = builder.dns_resolver(PublicOnly).no_proxy();
        }
        let client = builder
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Self {
            db,
            clock,
            settings,
            surveys,
            client,
            inflight: Arc::default(),
            last_scan: Arc::default(),
            mailer: None,
        })
    }

    /// The worker, sending the mail outbox through `mailer` too.
    pub fn with_mailer(mut self, mailer: Arc<crate::mail::Mailer>) -> Self {
        self.mailer = Some(mailer);
        self
    }

    /// Sends the mails that are due; how many were sent.
    pub async fn send_mail(&self) -> Result<usize, DbErr> {
        match &self.mailer {
            Some(m) => m.deliver(&self.db, self.clock.now()).await,
            None => Ok(0),
        }
    }

    /// Runs until `shutdown` resolves. Deliveries in flight at shutdown keep their lease and are
    /// retried by whichever worker runs next.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        tracing::info!("the worker is running");
        loop {
            if let Err(e) = self.step().await {
                tracing::warn!(error = %e, "worker step failed; retrying");
            }
            tokio::select! {
                _ = &mut shutdown => break,
                _ = tokio::time::sleep(self.settings.tick) => {}
            }
        }
        tracing::info!("the worker stopped");
    }

    /// One round: the outbox, deadlines when due, and deliveries (not awaited).
    pub async fn step(&self) -> Result<(), DbErr> {
        while self.process_outbox().await? > 0 {}
        let scan_due = {
            let last = self.last_scan.lock().unwrap_or_else(|p| p.into_inner());
            last.is_none_or(|t| t.elapsed() >= self.settings.deadline_scan_every)
        };
        if scan_due {
            self.scan_deadlines().await?;
            *self.last_scan.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
        }
        self.dispatch().await?;
        self.send_mail().await?;
        Ok(())
    }

    /// Everything pending right now, and waits for the deliveries it started (for tests and
    /// `lots worker --once`).
    pub async fn drain(&self) -> Result<(), DbErr> {
        while self.process_outbox().await? > 0 {}
        self.scan_deadlines().await?;
        while self.process_outbox().await? > 0 {}
        for handle in self.dispatch().await? {
            let _ = handle.await;
        }
        self.send_mail().await?;
        Ok(())
    }

    /// Processes one batch of outbox rows in one transaction; returns how many.
    pub async fn process_outbox(&self) -> Result<usize, DbErr> {
        let tx = self.db.begin().await?;
        let mut query = outbox::Entity::find()
            .filter(outbox::Column::ProcessedAt.is_null())
            .order_by_asc(outbox::Column::Id)
            .limit(self.settings.batch);
        if self.db.backend() == DbBackend::Postgres {
            query = query.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
        }
        let rows = query.all(&tx).await?;
        let now = self.clock.now();
        let subscriptions = webhook_subscription::Entity::find()
            .filter(webhook_subscription::Column::Active.eq(true))
            .all(&tx)
            .await?;
        for row in &rows {
            if row.event_type == "case.decided"
                && let Some(case_id) = row.case_id
            {
                let invited = self
                    .surveys
                    .invite(&tx, case_id, now)
                    .await
                    .map_err(into_db)?;
                if let Some(inv) = invited {
                    let payload = json!({"invitation_id": inv.id, "expires_at": inv.expires_at});
                    lots_store::outbox::enqueue(
                        &tx,
                        "survey.invited",
                        Some(case_id),
                        None,
                        payload,
                        now,
                    )
                    .await?;
                }
            }
            let wanted: Vec<&webhook_subscription::Model> = subscriptions
                .iter()
                .filter(|s| s.events.split(',').any(|e| e == "*" || e == row.event_type))
                .collect();
            let body = if wanted.is_empty() {
                None
            } else {
                match self.body(&tx, row).await? {
                    Ok(body) => Some(body),
                    Err(corrupt) => {
                        // Announcing what the row does not hold would be worse than not
                        // announcing it; the row is passed so that it does not stop the rest.
                        tracing::error!(outbox_id = row.id, "not announced: {corrupt}");
                        None
                    }
                }
            };
            if let Some(body) = body {
                for sub in wanted {
                    webhook_delivery::ActiveModel {
                        subscription_id: Set(sub.id),
                        outbox_id: Set(row.id),
                        webhook_id: Set(format!("msg_{}", uuid::Uuid::new_v4().simple())),
                        event_type: Set(row.event_type.clone()),
                        body: Set(body.clone()),
                        status: Set("pending".into()),
                        attempts: Set(0),
                        next_attempt_at: Set(now),
                        lease_until: Set(None),
                        dead_letter_at: Set(now + self.settings.dead_letter_after),
                        created_at: Set(now),
                        succeeded_at: Set(None),
                        dead_at: Set(None),
                        last_status: Set(None),
                        last_error: Set(None),
                        ..Default::default()
                    }
                    .insert(&tx)
                    .await?;
                }
            }
            let mut m: outbox::ActiveModel = row.clone().into();
            m.processed_at = Set(Some(now));
            m.update(&tx).await?;
        }
        tx.commit().await?;
        Ok(rows.len())
    }

    /// The webhook body of an outbox row: `{type, timestamp, data}` per Standard Webhooks. Its
    /// case and event are read as their types (an unknown status or event data that does not
    /// fit its kind is a corrupt row, returned as such) and pass the one redaction step.
    async fn body(
        &self,
        tx: &DatabaseTransaction,
        row: &outbox::Model,
    ) -> Result<Result<String, CorruptRow>, DbErr> {
        let mut data = serde_json::Map::new();
        let mut confidential = false;
        if let Some(case_id) = row.case_id
            && let Some(c) = case_record::Entity::find_by_id(case_id).one(tx).await?
        {
            let (area, status, decision) = match (
                stored::<Area>("case_record", c.id, &c.area),
                stored::<CaseStatus>("case_record", c.id, &c.status),
                c.decision
                    .as_deref()
                    .map(|d| stored::<Decision>("case_record", c.id, d))
                    .transpose(),
            ) {
                (Ok(a), Ok(s), Ok(d)) => (a, s, d),
                (Err(e), ..) | (_, Err(e), _) | (.., Err(e)) => return Ok(Err(e)),
            };
            let co = company::Entity::find_by_id(c.company_id).one(tx).await?;
            let dep = department::Entity::find_by_id(c.department_id)
                .one(tx)
                .await?;
            confidential = c.confidential_statute.is_some();
            // A receiver outside the municipality sees no confidential case's company and no
            // sole trader's personnummer.
            let (org_number, company_name) = lots_cases::redact::outside_company(
                confidential,
                co.as_ref().map(|x| x.org_number.as_str()),
                co.as_ref().map(|x| x.name.as_str()),
            );
            data.insert(
                "case".into(),
                json!({
                    "confidential": confidential,
                    "id": c.id,
                    "reference": c.reference,
                    "org_number": org_number,
                    "company_name": company_name,
                    "area": area,
                    "case_type": c.case_type,
                    "department": dep.as_ref().map(|d| &d.code),
                    "status": status,
                    "decision": decision,
                    "received_at": c.received_at,
                    "due_date": c.due_date,
                }),
            );
        }
        if let Some(event_id) = row.case_event_id
            && let Some(e) = case_event::Entity::find_by_id(event_id)
                // Its case too, where known: the log is partitioned by case on PostgreSQL.
                .apply_if(row.case_id, |q, case| {
                    q.filter(case_event::Column::CaseId.eq(case))
                })
                .one(tx)
                .await?
        {
            let actor = username(tx, e.actor_id).await?;
            let dep = department_code(tx, e.department_id).await?;
            // A receiver outside the municipality gets the redacted form: no personal data, and
            // nothing of a confidential case's content.
            let event = match stored_event(&e) {
                Ok(event) => event,
                Err(corrupt) => return Ok(Err(corrupt)),
            };
            let event_data = lots_cases::redact::outside_event_data(&event, confidential);
            data.insert("event".into(), json!({"id": e.id, "kind": event.kind(), "at": e.at, "actor": actor, "department": dep, "data": event_data}));
        }
        if row.event_type == "survey.invited" {
            // The token is filled in when the delivery is sent: it is never stored.
            data.insert(
                "invitation".into(),
                json!({"id": row.payload.get("invitation_id"), "expires_at": row.payload.get("expires_at"), "token": null, "url": null}),
            );
        } else if let Some(extra) = row.payload.as_object() {
            for (k, v) in extra {
                data.insert(k.clone(), v.clone());
            }
        }
        let body = json!({"type": row.event_type, "timestamp": row.created_at, "data": data});
        Ok(Ok(body.to_string()))
    }

    /// Announces `deadline.approaching` and `deadline.passed`, each once per case and due date.
    pub async fn scan_deadlines(&self) -> Result<usize, DbErr> {
        let now = self.clock.now();
        let today = now.with_timezone(&TIME_ZONE).date_naive();
        let horizon = add_working_days(today, self.settings.approaching_days);
        let open: Vec<&str> = CaseStatus::ALL
            .iter()
            .filter(|s| s.is_open())
            .map(|s| s.as_str())
            .collect();
        let cases = case_record::Entity::find()
            .filter(case_record::Column::Status.is_in(open))
            .filter(case_record::Column::DueDate.is_not_null())
            .filter(case_record::Column::DueDate.lte(horizon))
            .all(self.db.reader())
            .await?;
        let mut announced = 0;
        for c in cases {
            let Some(due) = c.due_date else { continue };
            let kind = if today > due { "passed" } else { "approaching" };
            let exists = deadline_notice::Entity::find_by_id((c.id, kind.to_string(), due))
                .one(self.db.reader())
                .await?;
            if exists.is_some() {
                continue;
            }
            let tx = self.db.begin().await?;
            let inserted = deadline_notice::ActiveModel {
                case_id: Set(c.id),
                kind: Set(kind.into()),
                due_date: Set(due),
                created_at: Set(now),
            }
            .insert(&tx)
            .await;
            match inserted {
                Ok(_) => {
                    let payload = json!({"deadline": {"due_date": due, "working_days_left": working_days_between(today, due)}});
                    lots_store::outbox::enqueue(
                        &tx,
                        &format!("deadline.{kind}"),
                        Some(c.id),
                        None,
                        payload,
                        now,
                    )
                    .await?;
                    tx.commit().await?;
                    announced += 1;
                }
                // Another worker announced it first.
                Err(e)
                    if matches!(
                        e.sql_err(),
                        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
                    ) =>
                {
                    tx.rollback().await?
                }
                Err(e) => return Err(e),
            }
        }
        Ok(announced)
    }

    /// Claims due deliveries for each subscription with room, and sends them concurrently.
    pub async fn dispatch(&self) -> Result<Vec<JoinHandle<()>>, DbErr> {
        let subs = webhook_subscription::Entity::find()
            .filter(webhook_subscription::Column::Active.eq(true))
            .all(self.db.reader())
            .await?;
        let mut handles = Vec::new();
        for sub in subs {
            let room = {
                let inflight = self.inflight.lock().unwrap_or_else(|p| p.into_inner());
                self.settings
                    .per_subscription
                    .saturating_sub(*inflight.get(&sub.id).unwrap_or(&0))
            };
            if room == 0 {
                continue;
            }
            for claimed in self.claim(&sub, room as u64).await? {
                *self
                    .inflight
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .entry(sub.id)
                    .or_default() += 1;
                let worker = self.clone();
                handles.push(tokio::spawn(async move {
                    let sub_id = claimed.subscription_id;
                    if let Err(e) = worker.deliver(claimed).await {
                        tracing::warn!(error = %e, "recording a delivery failed");
                    }
                    if let Some(n) = worker
                        .inflight
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .get_mut(&sub_id)
                    {
                        *n = n.saturating_sub(1);
                    }
                }));
            }
        }
        Ok(handles)
    }

    /// Takes the lease of up to `limit` due deliveries of `sub`.
    async fn claim(
        &self,
        sub: &webhook_subscription::Model,
        limit: u64,
    ) -> Result<Vec<Claimed>, DbErr> {
        let now = self.clock.now();
        // Long enough for the attempt and recording it; a worker killed meanwhile loses it.
        let lease = now
            + Duration::from_std(self.settings.delivery_timeout * 3)
                .unwrap_or(Duration::seconds(60));
        let backend = self.db.backend();
        let sql = match backend {
            DbBackend::Postgres => {
                "UPDATE webhook_delivery SET lease_until = $1, attempts = attempts + 1 WHERE id IN (\
                 SELECT id FROM webhook_delivery WHERE subscription_id = $2 AND status = 'pending' \
                 AND next_attempt_at <= $3 AND (lease_until IS NULL OR lease_until < $3) \
                 ORDER BY id LIMIT $4 FOR UPDATE SKIP LOCKED) \
                 RETURNING id, webhook_id, event_type, body, attempts, dead_letter_at"
            }
            _ => {
                "UPDATE webhook_delivery SET lease_until = $1, attempts = attempts + 1 WHERE id IN (\
                 SELECT id FROM webhook_delivery WHERE subscription_id = $2 AND status = 'pending' \
                 AND next_attempt_at <= $3 AND (lease_until IS NULL OR lease_until < $3) \
                 ORDER BY id LIMIT $4) \
                 RETURNING id, webhook_id, event_type, body, attempts, dead_letter_at"
            }
        };
        let stmt = Statement::from_sql_and_values(
            backend,
            sql,
            [
                lease.into(),
                sub.id.into(),
                now.into(),
                (limit as i64).into(),
            ],
        );
        let tx = self.db.begin().await?;
        let rows = tx.query_all_raw(stmt).await?;
        tx.commit().await?;
        rows.into_iter()
            .map(|r| {
                Ok(Claimed {
                    id: r.try_get("", "id")?,
                    subscription_id: sub.id,
                    url: sub.url.clone(),
                    secret: sub.secret.clone(),
                    webhook_id: r.try_get("", "webhook_id")?,
                    event_type: r.try_get("", "event_type")?,
                    body: r.try_get("", "body")?,
                    attempts: r.try_get("", "attempts")?,
                    dead_letter_at: r.try_get("", "dead_letter_at")?,
                })
            })
            .collect()
    }

    /// Sends one attempt and records it: success, a retry later, or the dead letter.
    async fn deliver(&self, d: Claimed) -> Result<(), DbErr> {
        let body = self.final_body(&d).await?;
        let sent_at = self.clock.now();
        let timestamp = sent_at.timestamp();
        let signature = sign(&d.secret, &d.webhook_id, timestamp, &body).unwrap_or_default();
        let started = Instant::now();
        // An IP literal is connected to without a lookup, so the resolver never sees it.
        let refused = if self.settings.allow_private_networks {
            None
        } else {
            refuse_literal(&d.url)
        };
        let result = match refused {
            Some(refused) => Err(Failure::Refused(refused)),
            None => self
                .client
                .post(&d.url)
                .header("content-type", "application/json")
                .header("webhook-id", &d.webhook_id)
                .header("webhook-timestamp", timestamp.to_string())
                .header("webhook-signature", signature)
                .body(body)
                .send()
                .await
                .map_err(|e| match refused_in(&e) {
                    // The resolver refused the name.
                    Some(refused) => Failure::Refused(refused.clone()),
                    None => Failure::Http(e),
                }),
        };
        let latency_ms = started.elapsed().as_millis() as i64;
        let (status_code, error) = match &result {
            Ok(r) if r.status().is_success() => (Some(i32::from(r.status().as_u16())), None),
            Ok(r) => (
                Some(i32::from(r.status().as_u16())),
                Some(format!("the receiver answered {}", r.status())),
            ),
            Err(Failure::Refused(refused)) => (None, Some(refused.to_string())),
            Err(Failure::Http(e)) if e.is_timeout() => (
                None,
                Some(format!(
                    "no answer within {} s",
                    self.settings.delivery_timeout.as_secs()
                )),
            ),
            Err(Failure::Http(e)) if e.is_connect() => {
                (None, Some("could not connect".to_string()))
            }
            Err(Failure::Http(_)) => (None, Some("the request failed".to_string())),
        };
        let now = self.clock.now();
        let tx = self.db.begin().await?;
        webhook_attempt::ActiveModel {
            delivery_id: Set(d.id),
            attempted_at: Set(sent_at),
            status_code: Set(status_code),
            latency_ms: Set(latency_ms),
            error: Set(error.clone()),
            ..Default::default()
        }
        .insert(&tx)
        .await?;
        let Some(row) = webhook_delivery::Entity::find_by_id(d.id).one(&tx).await? else {
            return tx.commit().await;
        };
        let mut m: webhook_delivery::ActiveModel = row.into();
        m.lease_until = Set(None);
        m.last_status = Set(status_code);
        m.last_error = Set(error.clone());
        if error.is_none() {
            m.status = Set("succeeded".into());
            m.succeeded_at = Set(Some(now));
        } else if now >= d.dead_letter_at {
            m.status = Set("dead".into());
            m.dead_at = Set(Some(now));
            tracing::warn!(delivery = d.id, event = %d.event_type, "webhook delivery dead-lettered");
        } else {
            m.next_attempt_at = Set(now + backoff(&self.settings, d.attempts));
        }
        m.update(&tx).await?;
        tx.commit().await
    }

    /// The body as sent: for `survey.invited`, with the invitation's token and link filled in.
    async fn final_body(&self, d: &Claimed) -> Result<String, DbErr> {
        if d.event_type != "survey.invited" {
            return Ok(d.body.clone());
        }
        let mut body: Value = serde_json::from_str(&d.body).unwrap_or(Value::Null);
        let id = body["data"]["invitation"]["id"].as_i64();
        if let Some(id) = id {
            let inv = survey_invitation::Entity::find_by_id(id)
                .one(self.db.reader())
                .await?;
            if let Some(inv) = inv {
                let token = self.surveys.token(&inv.nonce);
                body["data"]["invitation"]["url"] = Value::String(self.surveys.url(&token));
                body["data"]["invitation"]["token"] = Value::String(token);
            }
        }
        Ok(body.to_string())
    }
}

/// Why an attempt got no answer.
enum Failure {
    /// Not sent: the receiver is not on the public internet.
    Refused(Refused),
    Http(reqwest::Error),
}

/// Exponential backoff with ±20 % jitter: base, 2 × base, 4 × base, … up to the maximum.
fn backoff(s: &WorkerSettings, attempts: i32) -> Duration {
    let exp = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(0)
        .min(20);
    let raw = s
        .base_backoff
        .saturating_mul(2u32.saturating_pow(exp))
        .min(s.max_backoff);
    let jitter = 0.8 + rand::random::<f64>() * 0.4;
    Duration::milliseconds((raw.as_millis() as f64 * jitter) as i64)
}

fn into_db(e: lots_cases::ServiceError) -> DbErr {
    match e {
        lots_cases::ServiceError::Database(d) => d,
        other => DbErr::Custom(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_stops_at_the_maximum() {
        let s = WorkerSettings {
            base_backoff: StdDuration::from_secs(10),
            max_backoff: StdDuration::from_secs(100),
            ..Default::default()
        };
        for (attempt, base) in [
            (1, 10_000),
            (2, 20_000),
            (3, 40_000),
            (4, 80_000),
            (5, 100_000),
            (30, 100_000),
        ] {
            let b = backoff(&s, attempt).num_milliseconds();
            assert!(
                (base * 8 / 10..=base * 12 / 10).contains(&b),
                "attempt {attempt}: {b}"
            );
        }
    }
}
