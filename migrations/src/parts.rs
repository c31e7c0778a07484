//! Pieces the migrations share. Each builds the very statement the migrations wrote out before
//! they shared it, so a database they create has the same schema.

use sea_orm_migration::prelude::*;

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

/// An index named `ix_{table}_{cols joined by _}` on those columns of `table`.
pub(crate) fn index(table: &'static str, cols: &[&'static str]) -> IndexCreateStatement {
    let mut idx = Index::create();
    idx.name(format!("ix_{table}_{}", cols.join("_")))
        .table(table);
    for c in cols {
        idx.col(*c);
    }
    idx.to_owned()
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
