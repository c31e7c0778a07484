//! Ending sessions: `app_user.token_version`, which every access token carries and which a
//! password change or an admin's revocation bumps, and `web_session`, the web pages' logins kept
//! on the server so that logging out ends one at once. Only the SHA-256 of a session's secret is
//! stored; the secret itself lives in the browser's signed cookie.

use sea_orm_migration::{prelude::*, schema::*};

use crate::parts::{add_columns, drop_columns, drop_tables, fk_cascade, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        add_columns(
            m,
            "app_user",
            [big_integer("token_version").default(0).take()],
        )
        .await?;
        m.create_table(
            Table::create()
                .table("web_session")
                // The SHA-256 (hex) of the session's secret.
                .col(string_len("id", 64).primary_key())
                .col(big_integer("user_id"))
                .col(string_len("csrf", 64))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("expires_at"))
                .col(timestamp_with_time_zone_null("last_seen_at"))
                .col(string_len_null("user_agent", 200))
                .foreign_key(&mut fk_cascade("web_session", "user_id", "app_user"))
                .to_owned(),
        )
        .await?;
        for col in ["user_id", "expires_at"] {
            m.create_index(index("web_session", &[col])).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(m, &["web_session"]).await?;
        drop_columns(m, "app_user", &["token_version"]).await
    }
}
