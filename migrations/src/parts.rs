//! Pieces the migrations share. Each builds the very statement the migrations wrote out before
//! they shared it, so a database they create has the same schema.

use sea_orm_migration::{prelude::*, schema::big_pk_auto};

/// `CREATE TABLE name` with its first column, `id`, an auto-incremented `bigint` primary key.
pub(crate) fn id_table(name: &'static str) -> TableCreateStatement {
    Table::create()
        .table(name)
        .col(big_pk_auto("id"))
        .to_owned()
}

/// A foreign key named `fk_{table}_{col}` from `table.col` to `to.id`.
pub(crate) fn fk(
    table: &'static str,
    col: &'static str,
    to: &'static str,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_{col}"))
        .from(table, col)
        .to(to, "id")
        .to_owned()
}

/// A foreign key as `fk`, that refuses to let the row it points at be deleted.
pub(crate) fn fk_restrict(
    table: &'static str,
    col: &'static str,
    to: &'static str,
) -> ForeignKeyCreateStatement {
    fk(table, col, to)
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

/// A foreign key as `fk`, whose rows are deleted with the row they point at.
pub(crate) fn fk_cascade(
    table: &'static str,
    col: &'static str,
    to: &'static str,
) -> ForeignKeyCreateStatement {
    fk(table, col, to)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

/// An index named `name` on those columns of `table`.
pub(crate) fn named_index(
    name: impl Into<String>,
    table: &'static str,
    cols: &[&'static str],
) -> IndexCreateStatement {
    let mut idx = Index::create();
    idx.name(name).table(table);
    for c in cols {
        idx.col(*c);
    }
    idx.to_owned()
}

/// The name `index` gives: `ix_{table}_{cols joined by _}`.
fn index_name(table: &str, cols: &[&str]) -> String {
    format!("ix_{table}_{}", cols.join("_"))
}

/// The name `unique_index` gives: `ux_{table}_{cols joined by _}`.
fn unique_index_name(table: &str, cols: &[&str]) -> String {
    format!("ux_{table}_{}", cols.join("_"))
}

/// An index named `ix_{table}_{cols joined by _}` on those columns of `table`.
pub(crate) fn index(table: &'static str, cols: &[&'static str]) -> IndexCreateStatement {
    named_index(index_name(table, cols), table, cols)
}

/// A unique index named `ux_{table}_{cols joined by _}` on those columns of `table`.
pub(crate) fn unique_index(table: &'static str, cols: &[&'static str]) -> IndexCreateStatement {
    named_index(unique_index_name(table, cols), table, cols)
        .unique()
        .to_owned()
}

/// Drops the index `index` names.
pub(crate) async fn drop_index(
    m: &SchemaManager<'_>,
    table: &'static str,
    cols: &[&'static str],
) -> Result<(), DbErr> {
    drop_named_index(m, index_name(table, cols), table).await
}

/// Drops the index `unique_index` names.
pub(crate) async fn drop_unique_index(
    m: &SchemaManager<'_>,
    table: &'static str,
    cols: &[&'static str],
) -> Result<(), DbErr> {
    drop_named_index(m, unique_index_name(table, cols), table).await
}

async fn drop_named_index(
    m: &SchemaManager<'_>,
    name: String,
    table: &'static str,
) -> Result<(), DbErr> {
    m.drop_index(Index::drop().name(name).table(table).to_owned())
        .await
}

/// Adds the columns to `table`, one statement each (SQLite alters one column per statement).
pub(crate) async fn add_columns(
    m: &SchemaManager<'_>,
    table: &'static str,
    cols: impl IntoIterator<Item = ColumnDef>,
) -> Result<(), DbErr> {
    for col in cols {
        m.alter_table(Table::alter().table(table).add_column(col).to_owned())
            .await?;
    }
    Ok(())
}

/// Drops the columns of `table` in the order given, one statement each.
pub(crate) async fn drop_columns(
    m: &SchemaManager<'_>,
    table: &'static str,
    cols: &[&'static str],
) -> Result<(), DbErr> {
    for col in cols {
        m.alter_table(Table::alter().table(table).drop_column(*col).to_owned())
            .await?;
    }
    Ok(())
}

/// Drops the tables in the order given.
pub(crate) async fn drop_tables(
    m: &SchemaManager<'_>,
    tables: &[&'static str],
) -> Result<(), DbErr> {
    for t in tables {
        m.drop_table(Table::drop().table(*t).to_owned()).await?;
    }
    Ok(())
}

/// Makes `cols` the table's primary key.
pub(crate) fn primary(table: &mut TableCreateStatement, cols: &[&str]) {
    let mut key = Index::create();
    for c in cols {
        key.col(Alias::new(*c));
    }
    table.primary_key(&mut key);
}

/// Queues every existing case for the rollup worker: what a migration that adds to the rollups
/// does, so that an existing database's fill in the background.
pub(crate) async fn queue_every_case(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    m.get_connection()
        .execute_unprepared(
            "INSERT INTO rollup_queue (case_id) SELECT id FROM case_record ORDER BY id",
        )
        .await
        .map(|_| ())
}

/// `CREATE TABLE name` with a rollup's first key columns: department, area, channel.
pub(crate) fn rollup_table(name: &'static str) -> TableCreateStatement {
    use sea_orm_migration::schema::string_len;
    Table::create()
        .table(name)
        .col(string_len("department", 64))
        .col(string_len("area", 64))
        .col(string_len("channel", 32))
        .to_owned()
}

/// Runs `statements` in order on PostgreSQL; nothing on SQLite (for what only PostgreSQL has:
/// notifications, partitions).
pub(crate) async fn on_postgres(m: &SchemaManager<'_>, statements: &[&str]) -> Result<(), DbErr> {
    if m.get_database_backend() != sea_orm_migration::sea_orm::DbBackend::Postgres {
        return Ok(());
    }
    run_all(m, statements).await
}

/// Runs `statements` in order, on either engine (SQL both understand).
pub(crate) async fn run_all(m: &SchemaManager<'_>, statements: &[&str]) -> Result<(), DbErr> {
    let db = m.get_connection();
    for sql in statements {
        db.execute_unprepared(sql).await?;
    }
    Ok(())
}
