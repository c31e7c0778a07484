//! Departments, users, companies, cases, the diary series, the event log, notes and settings.

use sea_orm_migration::{prelude::*, schema::*};

use crate::parts::{drop_tables, fk_restrict as fk, id_table, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        setting(m).await?;
        department(m).await?;
        app_user(m).await?;
        company(m).await?;
        reference_series(m).await?;
        case_record(m).await?;
        case_event(m).await?;
        case_note(m).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            m,
            &[
                "case_note",
                "case_event",
                "case_record",
                "reference_series",
                "company",
                "app_user",
                "department",
                "setting",
            ],
        )
        .await
    }
}

/// Settings, a value by key.
async fn setting(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    m.create_table(
        Table::create()
            .table("setting")
            .col(string("key").primary_key())
            .col(text("value"))
            .col(timestamp_with_time_zone("updated_at"))
            .to_owned(),
    )
    .await
}

/// The departments, each with its diary prefix.
async fn department(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    m.create_table(
        id_table("department")
            .col(string_len_uniq("code", 16))
            .col(string_len("name", 200))
            .col(string_len_uniq("diary_prefix", 16))
            .col(timestamp_with_time_zone("created_at"))
            .to_owned(),
    )
    .await
}

/// The people who log in.
async fn app_user(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    m.create_table(
        id_table("app_user")
            .col(string_len_uniq("username", 64))
            .col(string_len("display_name", 200))
            .col(string("password_hash"))
            .col(string_len("role", 16))
            .col(big_integer_null("department_id"))
            .col(boolean("active").default(true))
            .col(timestamp_with_time_zone("created_at"))
            .foreign_key(&mut fk("app_user", "department_id", "department"))
            .to_owned(),
    )
    .await
}

/// The companies the cases are about, by org number.
async fn company(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    m.create_table(
        id_table("company")
            .col(string_len_uniq("org_number", 11))
            .col(string_len("name", 200))
            .col(timestamp_with_time_zone("created_at"))
            .col(timestamp_with_time_zone("updated_at"))
            .to_owned(),
    )
    .await
}

/// The last serial handed out per department and diary year. Incremented inside the
/// transaction that registers the case, so a rolled-back registration leaves no gap.
async fn reference_series(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    m.create_table(
        Table::create()
            .table("reference_series")
            .col(big_integer("department_id"))
            .col(integer("year"))
            .col(big_integer("last_serial"))
            .primary_key(Index::create().col("department_id").col("year"))
            .foreign_key(&mut fk("reference_series", "department_id", "department"))
            .to_owned(),
    )
    .await
}

/// The cases, and their indexes.
async fn case_record(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    m.create_table(
        id_table("case_record")
            .col(string_len_uniq("reference", 32))
            .col(big_integer("department_id"))
            .col(big_integer("company_id"))
            .col(string_len("area", 32))
            .col(string_len_null("case_type", 32))
            .col(string_len("title", 200))
            .col(text("description"))
            .col(big_integer_null("assignee_id"))
            .col(string_len("status", 32))
            .col(string_len_null("decision", 32))
            .col(timestamp_with_time_zone("received_at"))
            .col(timestamp_with_time_zone_null("complete_at"))
            .col(timestamp_with_time_zone_null("decided_at"))
            .col(timestamp_with_time_zone_null("closed_at"))
            .col(big_integer("version"))
            .col(timestamp_with_time_zone("created_at"))
            .col(timestamp_with_time_zone("updated_at"))
            .foreign_key(&mut fk("case_record", "department_id", "department"))
            .foreign_key(&mut fk("case_record", "company_id", "company"))
            .foreign_key(&mut fk("case_record", "assignee_id", "app_user"))
            .to_owned(),
    )
    .await?;
    for cols in [
        &["department_id", "id"][..],
        &["company_id"],
        &["assignee_id"],
        &["status"],
        &["received_at"],
    ] {
        m.create_index(index("case_record", cols)).await?;
    }
    Ok(())
}

/// The event log: appended in the same transaction as every change, never updated.
async fn case_event(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    m.create_table(
        id_table("case_event")
            .col(big_integer("case_id"))
            .col(timestamp_with_time_zone("at"))
            .col(string_len("kind", 64))
            .col(big_integer_null("actor_id"))
            .col(big_integer_null("department_id"))
            .col(json_binary("data"))
            .foreign_key(&mut fk("case_event", "case_id", "case_record"))
            .foreign_key(&mut fk("case_event", "actor_id", "app_user"))
            .foreign_key(&mut fk("case_event", "department_id", "department"))
            .to_owned(),
    )
    .await?;
    m.create_index(index("case_event", &["case_id", "id"]))
        .await
}

/// Notes on cases.
async fn case_note(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    m.create_table(
        id_table("case_note")
            .col(big_integer("case_id"))
            .col(big_integer("author_id"))
            .col(text("text"))
            .col(timestamp_with_time_zone("created_at"))
            .foreign_key(&mut fk("case_note", "case_id", "case_record"))
            .foreign_key(&mut fk("case_note", "author_id", "app_user"))
            .to_owned(),
    )
    .await?;
    m.create_index(index("case_note", &["case_id", "id"])).await
}
