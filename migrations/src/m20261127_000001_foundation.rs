//! Departments, users, companies, cases, the diary series, the event log, notes and settings.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn fk(
    from_table: &'static str,
    from_col: &'static str,
    to_table: &'static str,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{from_table}_{from_col}"))
        .from(from_table, from_col)
        .to(to_table, "id")
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

fn index(table: &'static str, cols: &[&'static str]) -> IndexCreateStatement {
    let mut idx = Index::create();
    idx.name(format!("ix_{table}_{}", cols.join("_")))
        .table(table);
    for c in cols {
        idx.col(*c);
    }
    idx.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("setting")
                .col(string("key").primary_key())
                .col(text("value"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("department")
                .col(big_pk_auto("id"))
                .col(string_len_uniq("code", 16))
                .col(string_len("name", 200))
                .col(string_len_uniq("diary_prefix", 16))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("app_user")
                .col(big_pk_auto("id"))
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
        .await?;

        m.create_table(
            Table::create()
                .table("company")
                .col(big_pk_auto("id"))
                .col(string_len_uniq("org_number", 11))
                .col(string_len("name", 200))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await?;

        // The last serial handed out per department and diary year. Incremented inside the
        // transaction that registers the case, so a rolled-back registration leaves no gap.
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
        .await?;

        m.create_table(
            Table::create()
                .table("case_record")
                .col(big_pk_auto("id"))
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

        // The event log: appended in the same transaction as every change, never updated.
        m.create_table(
            Table::create()
                .table("case_event")
                .col(big_pk_auto("id"))
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
            .await?;

        m.create_table(
            Table::create()
                .table("case_note")
                .col(big_pk_auto("id"))
                .col(big_integer("case_id"))
                .col(big_integer("author_id"))
                .col(text("text"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("case_note", "case_id", "case_record"))
                .foreign_key(&mut fk("case_note", "author_id", "app_user"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("case_note", &["case_id", "id"]))
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "case_note",
            "case_event",
            "case_record",
            "reference_series",
            "company",
            "app_user",
            "department",
            "setting",
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
