//! Sign-in through identity providers, and the company side: `app_user.external_subject` links a
//! user created or updated by an OpenID Connect sign-in to the provider's `iss` and `sub` (the
//! durable key; usernames can be renamed at the provider); `company_session` holds the logins of
//! company representatives, who sign in with e-legitimation and are not users of Lots;
//! `case_follow_link` the links that let whoever holds one follow one case; `case_message` the
//! messages between a case's department and its company; `mail_outbox` the e-mails to send,
//! written in the same transaction as their cause; and an index finds
//! a representative's cases by the personnummer on their parties. As with `web_session`, only
//! the SHA-256 of a session's secret or a link's token is stored.

use sea_orm_migration::{prelude::*, schema::*};

use crate::parts::{
    add_columns, drop_columns, drop_index, drop_tables, drop_unique_index, fk_cascade, id_table,
    index, unique_index,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        add_columns(m, "app_user", [string_len_null("external_subject", 600)]).await?;
        m.create_index(unique_index("app_user", &["external_subject"]))
            .await?;
        m.create_table(
            Table::create()
                .table("company_session")
                // The SHA-256 (hex) of the session's secret.
                .col(string_len("id", 64).primary_key())
                // The representative's personnummer, `YYYYMMDD-NNNN`, as `PersonalNumber` keeps it.
                .col(string_len("personal_number", 13))
                .col(string_len_null("name", 200))
                .col(string_len("csrf", 64))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("expires_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            id_table("case_follow_link")
                .col(big_integer("case_id"))
                // The SHA-256 (hex) of the link's token; the token is only in the link.
                .col(string_len_uniq("token_hash", 64))
                .col(big_integer_null("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("revoked_at"))
                .foreign_key(&mut fk_cascade(
                    "case_follow_link",
                    "case_id",
                    "case_record",
                ))
                .to_owned(),
        )
        .await?;
        m.create_table(
            id_table("case_message")
                .col(big_integer("case_id"))
                // to_company or from_company.
                .col(string_len("direction", 16))
                .col(text("text"))
                // The officer who wrote it (to_company).
                .col(big_integer_null("author_id"))
                // Who sent it from the company's side, as they signed in (from_company).
                .col(string_len_null("sender", 200))
                .col(timestamp_with_time_zone("created_at"))
                // When the department first read a message from the company.
                .col(timestamp_with_time_zone_null("read_at"))
                .foreign_key(&mut fk_cascade("case_message", "case_id", "case_record"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            id_table("mail_outbox")
                .col(string_len("to_address", 320))
                .col(string_len("subject", 300))
                .col(text("body"))
                // What the mail is about: message, supplement_request, ….
                .col(string_len("kind", 40))
                .col(big_integer_null("case_id"))
                .col(timestamp_with_time_zone("created_at"))
                .col(integer("attempts").default(0))
                .col(timestamp_with_time_zone("next_attempt_at"))
                .col(timestamp_with_time_zone_null("sent_at"))
                .col(timestamp_with_time_zone_null("failed_at"))
                .col(text_null("last_error"))
                .to_owned(),
        )
        .await?;
        for (table, col) in [
            ("mail_outbox", "next_attempt_at"),
            ("case_message", "case_id"),
            ("case_follow_link", "case_id"),
            ("case_party", "personal_number"),
            ("company_session", "expires_at"),
        ] {
            m.create_index(index(table, &[col])).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_index(m, "case_party", &["personal_number"]).await?;
        drop_tables(
            m,
            &[
                "mail_outbox",
                "case_message",
                "case_follow_link",
                "company_session",
            ],
        )
        .await?;
        drop_unique_index(m, "app_user", &["external_subject"]).await?;
        drop_columns(m, "app_user", &["external_subject"]).await
    }
}
