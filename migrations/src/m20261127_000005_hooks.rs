//! Satisfaction hooks: the outbox, webhook subscriptions, deliveries and their attempts, survey
//! invitations and answers, and the record of deadline notices already sent.

use sea_orm_migration::{prelude::*, schema::*};

use crate::parts::{self, drop_tables, fk, id_table};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Creates the index `parts::index` names, unique if `unique`.
async fn index(
    m: &SchemaManager<'_>,
    table: &'static str,
    cols: &[&'static str],
    unique: bool,
) -> Result<(), DbErr> {
    let mut idx = parts::index(table, cols);
    if unique {
        idx.unique();
    }
    m.create_index(idx).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        outbox(m).await?;
        webhook_subscription(m).await?;
        webhook_delivery(m).await?;
        webhook_attempt(m).await?;
        survey_invitation(m).await?;
        survey_response(m).await?;
        deadline_notice(m).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            m,
            &[
                "deadline_notice",
                "survey_response",
                "survey_invitation",
                "webhook_attempt",
                "webhook_delivery",
                "webhook_subscription",
                "outbox",
            ],
        )
        .await
    }
}

/// Written in the same transaction as the change it announces; processed exactly once.
async fn outbox(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    m.create_table(
        id_table("outbox")
            .col(string_len("event_type", 64))
            .col(big_integer_null("case_id"))
            .col(big_integer_null("case_event_id"))
            .col(json_binary("payload"))
            .col(timestamp_with_time_zone("created_at"))
            .col(timestamp_with_time_zone_null("processed_at"))
            .to_owned(),
    )
    .await?;
    index(m, "outbox", &["processed_at", "id"], false).await
}

/// Webhook subscriptions: where to send which events, signed with the secret.
async fn webhook_subscription(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    m.create_table(
        id_table("webhook_subscription")
            .col(text("url"))
            .col(text("events"))
            .col(text_null("description"))
            .col(string("secret"))
            .col(boolean("active").default(true))
            .col(big_integer("created_by"))
            .col(timestamp_with_time_zone("created_at"))
            .foreign_key(&mut fk("webhook_subscription", "created_by", "app_user"))
            .to_owned(),
    )
    .await
}

/// Deliveries of outbox rows to subscriptions, with their retry state.
async fn webhook_delivery(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    m.create_table(
        id_table("webhook_delivery")
            .col(big_integer("subscription_id"))
            .col(big_integer("outbox_id"))
            .col(string_len_uniq("webhook_id", 64))
            .col(string_len("event_type", 64))
            .col(text("body"))
            .col(string_len("status", 16))
            .col(integer("attempts"))
            .col(timestamp_with_time_zone("next_attempt_at"))
            .col(timestamp_with_time_zone_null("lease_until"))
            .col(timestamp_with_time_zone("dead_letter_at"))
            .col(timestamp_with_time_zone("created_at"))
            .col(timestamp_with_time_zone_null("succeeded_at"))
            .col(timestamp_with_time_zone_null("dead_at"))
            .col(integer_null("last_status"))
            .col(text_null("last_error"))
            .foreign_key(&mut fk(
                "webhook_delivery",
                "subscription_id",
                "webhook_subscription",
            ))
            .foreign_key(&mut fk("webhook_delivery", "outbox_id", "outbox"))
            .to_owned(),
    )
    .await?;
    index(
        m,
        "webhook_delivery",
        &["subscription_id", "outbox_id"],
        true,
    )
    .await?;
    index(m, "webhook_delivery", &["status", "next_attempt_at"], false).await
}

/// Every attempt at a delivery.
async fn webhook_attempt(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    m.create_table(
        id_table("webhook_attempt")
            .col(big_integer("delivery_id"))
            .col(timestamp_with_time_zone("attempted_at"))
            .col(integer_null("status_code"))
            .col(big_integer("latency_ms"))
            .col(text_null("error"))
            .foreign_key(&mut fk(
                "webhook_attempt",
                "delivery_id",
                "webhook_delivery",
            ))
            .to_owned(),
    )
    .await?;
    index(m, "webhook_attempt", &["delivery_id"], false).await
}

/// Survey invitations, one a case.
async fn survey_invitation(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    m.create_table(
        id_table("survey_invitation")
            .col(big_integer_uniq("case_id"))
            .col(string_len("nonce", 64))
            .col(string_len_uniq("token_hash", 64))
            .col(timestamp_with_time_zone("created_at"))
            .col(timestamp_with_time_zone("expires_at"))
            .col(timestamp_with_time_zone_null("answered_at"))
            .foreign_key(&mut fk("survey_invitation", "case_id", "case_record"))
            .to_owned(),
    )
    .await
}

/// The NKI factors, each with an answer column `f_` and an index column `i_`.
const FACTORS: [&str; 6] = [
    "information",
    "accessibility",
    "treatment",
    "competence",
    "legal_certainty",
    "efficiency",
];

/// Survey answers, one a case, with the scores computed when they came.
async fn survey_response(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    let mut response = id_table("survey_response");
    response
        .col(big_integer_uniq("case_id"))
        .col(big_integer_null("invitation_id"))
        .col(string_len("source", 16))
        .col(small_integer("q_overall"))
        .col(small_integer("q_expectations"))
        .col(small_integer("q_ideal"));
    for f in FACTORS {
        response.col(small_integer_null(format!("f_{f}")));
    }
    response.col(text_null("comment")).col(double("nki"));
    for f in FACTORS {
        response.col(double_null(format!("i_{f}")));
    }
    response
        .col(timestamp_with_time_zone("answered_at"))
        .col(timestamp_with_time_zone("created_at"))
        .foreign_key(&mut fk("survey_response", "case_id", "case_record"));
    m.create_table(response.to_owned()).await
}

/// The deadline notices already sent.
async fn deadline_notice(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    m.create_table(
        Table::create()
            .table("deadline_notice")
            .col(big_integer("case_id"))
            .col(string_len("kind", 16))
            .col(date("due_date"))
            .col(timestamp_with_time_zone("created_at"))
            .primary_key(Index::create().col("case_id").col("kind").col("due_date"))
            .foreign_key(&mut fk("deadline_notice", "case_id", "case_record"))
            .to_owned(),
    )
    .await
}
