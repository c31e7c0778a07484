//! Ending sessions: `app_user.token_version`, which every access token carries and which a
//! password change or an admin's revocation bumps, and `web_session`, the web pages' logins kept
//! on the server so that logging out ends one at once. Only the SHA-256 of a session's secret is
//! stored; the secret itself lives in the browser's signed cookie.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("app_user")
                .add_column(big_integer("token_version").default(0))
                .to_owned(),
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
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_web_session_user_id")
                        .from("web_session", "user_id")
                        .to("app_user", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        for col in ["user_id", "expires_at"] {
            m.create_index(
                Index::create()
                    .name(format!("ix_web_session_{col}"))
                    .table("web_session")
                    .col(col)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("web_session").to_owned())
            .await?;
        m.alter_table(
            Table::alter()
                .table("app_user")
                .drop_column("token_version")
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}
