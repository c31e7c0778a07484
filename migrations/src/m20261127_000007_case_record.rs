//! The full case record: parties, premises, decisions with their legal basis, case types as
//! data, priority, labels, note visibility, attachments and confidentiality (sekretess).

use sea_orm_migration::{prelude::*, schema::*};

use crate::parts::{add_columns, drop_columns, drop_tables, fk_restrict as fk, id_table, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The case types seeded per area: (area, code, Swedish label). The first two of building are
/// the case types that existed before, so that every stored `case_type` stays valid.
pub const CASE_TYPES: &[(&str, &str, &str)] = &[
    ("building_permit", "permit", "Bygglov"),
    ("building_permit", "notification", "Anmälan"),
    ("building_permit", "new_build", "Nybyggnad"),
    ("building_permit", "extension", "Tillbyggnad"),
    ("building_permit", "change_of_use", "Ändrad användning"),
    ("building_permit", "sign", "Skylt"),
    ("building_permit", "demolition", "Rivningslov"),
    ("building_permit", "advance_notice", "Förhandsbesked"),
    (
        "building_permit",
        "attefall_notification",
        "Attefallsanmälan",
    ),
    (
        "building_permit",
        "demolition_notification",
        "Rivningsanmälan",
    ),
    (
        "food_control",
        "registration",
        "Registrering av livsmedelsanläggning",
    ),
    ("food_control", "change", "Väsentlig ändring"),
    ("food_control", "closure", "Upphörande"),
    ("serving_licence", "permanent", "Stadigvarande tillstånd"),
    (
        "serving_licence",
        "temporary_public",
        "Tillfälligt tillstånd, allmänheten",
    ),
    (
        "serving_licence",
        "temporary_private",
        "Tillfälligt tillstånd, slutet sällskap",
    ),
    ("environment_health", "notification", "Anmälan"),
    ("environment_health", "permit", "Tillstånd"),
    ("environment_health", "complaint", "Klagomål"),
    (
        "fire_safety",
        "flammable_goods",
        "Tillstånd brandfarlig vara",
    ),
    ("fire_safety", "inspection", "Tillsyn"),
    ("land_use", "outdoor_seating", "Uteservering"),
    ("land_use", "event", "Evenemang"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        new_columns(m).await?;
        case_type(m).await?;
        case_party(m).await?;
        case_premises(m).await?;
        case_decision(m).await?;
        case_attachment(m).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            m,
            &[
                "case_attachment",
                "case_decision",
                "case_premises",
                "case_party",
                "case_type",
            ],
        )
        .await?;
        drop_columns(m, "case_note", &["confidential_statute", "visibility"]).await?;
        drop_columns(
            m,
            "case_record",
            &["confidential_statute", "labels", "priority"],
        )
        .await
    }
}

/// The new columns of cases and notes (SQLite adds one column per statement).
async fn new_columns(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    add_columns(
        m,
        "case_record",
        [
            string_len("priority", 16).default("normal").take(),
            json_binary("labels").default(Expr::val("[]")).take(),
            string_len_null("confidential_statute", 80).take(),
        ],
    )
    .await?;
    add_columns(
        m,
        "case_note",
        [
            string_len("visibility", 16).default("internal").take(),
            string_len_null("confidential_statute", 80).take(),
        ],
    )
    .await
}

/// Case types as data, seeded with `CASE_TYPES`.
async fn case_type(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    m.create_table(
        id_table("case_type")
            .col(string_len("area", 32))
            .col(string_len("code", 40))
            .col(string_len("label", 200))
            .col(boolean("active"))
            .col(integer("position"))
            .col(timestamp_with_time_zone("created_at"))
            .to_owned(),
    )
    .await?;
    m.create_index(index("case_type", &["area", "code"]).unique().to_owned())
        .await?;
    let mut insert = Query::insert();
    insert.into_table("case_type").columns([
        "area",
        "code",
        "label",
        "active",
        "position",
        "created_at",
    ]);
    let epoch = sea_orm_migration::sea_orm::prelude::ChronoDateTimeUtc::UNIX_EPOCH;
    for (i, (area, code, label)) in CASE_TYPES.iter().enumerate() {
        insert.values_panic([
            (*area).into(),
            (*code).into(),
            (*label).into(),
            true.into(),
            (i as i32).into(),
            epoch.into(),
        ]);
    }
    m.exec_stmt(insert.to_owned()).await
}

/// The parties of a case: companies and people, with their roles.
async fn case_party(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    m.create_table(
        id_table("case_party")
            .col(big_integer("case_id"))
            .col(string_len("kind", 16))
            .col(string_len_null("org_number", 11))
            .col(string_len_null("personal_number", 13))
            .col(string_len("name", 200))
            .col(json_binary("roles"))
            .col(string_len_null("email", 254))
            .col(string_len_null("phone", 40))
            .col(string_len_null("address", 400))
            .col(big_integer("version"))
            .col(timestamp_with_time_zone("created_at"))
            .col(timestamp_with_time_zone("updated_at"))
            .foreign_key(&mut fk("case_party", "case_id", "case_record"))
            .to_owned(),
    )
    .await?;
    m.create_index(index("case_party", &["case_id"])).await?;
    m.create_index(index("case_party", &["org_number"])).await
}

/// The premises a case is about.
async fn case_premises(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    m.create_table(
        id_table("case_premises")
            .col(big_integer("case_id"))
            .col(string_len("property_designation", 120))
            .col(string_len_null("address", 400))
            .col(string_len_null("sign_name", 200))
            .col(string_len_null("premises_type", 32))
            .col(boolean("main"))
            .col(big_integer("version"))
            .col(timestamp_with_time_zone("created_at"))
            .col(timestamp_with_time_zone("updated_at"))
            .foreign_key(&mut fk("case_premises", "case_id", "case_record"))
            .to_owned(),
    )
    .await?;
    m.create_index(index("case_premises", &["case_id"])).await?;
    m.create_index(index("case_premises", &["property_designation"]))
        .await
}

/// Decisions with their legal basis; a correction points at the decision it corrects.
async fn case_decision(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    m.create_table(
        id_table("case_decision")
            .col(big_integer("case_id"))
            .col(string_len("outcome", 16))
            .col(json_binary("legal_basis"))
            .col(text("text"))
            .col(date_null("valid_from"))
            .col(date_null("valid_to"))
            .col(big_integer("decided_by"))
            .col(timestamp_with_time_zone("decided_at"))
            .col(big_integer_null("corrects_id"))
            .col(text_null("correction_reason"))
            .foreign_key(&mut fk("case_decision", "case_id", "case_record"))
            .foreign_key(&mut fk("case_decision", "decided_by", "app_user"))
            .foreign_key(&mut fk("case_decision", "corrects_id", "case_decision"))
            .to_owned(),
    )
    .await?;
    m.create_index(index("case_decision", &["case_id", "id"]))
        .await
}

/// Attachments: their content lies outside the database, by its SHA-256.
async fn case_attachment(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    m.create_table(
        id_table("case_attachment")
            .col(big_integer("case_id"))
            .col(string_len("name", 255))
            .col(string_len("category", 32))
            .col(string_len("content_type", 128))
            .col(big_integer("size"))
            .col(string_len("sha256", 64))
            .col(string_len_null("confidential_statute", 80))
            .col(big_integer("created_by"))
            .col(timestamp_with_time_zone("created_at"))
            .col(big_integer_null("deleted_by"))
            .col(timestamp_with_time_zone_null("deleted_at"))
            .col(text_null("delete_reason"))
            .foreign_key(&mut fk("case_attachment", "case_id", "case_record"))
            .foreign_key(&mut fk("case_attachment", "created_by", "app_user"))
            .to_owned(),
    )
    .await?;
    m.create_index(index("case_attachment", &["case_id", "sha256"]))
        .await
}
