//! Bulk writes for imports, straight on the driver: rows arrive as columns, ids are reserved up
//! front so that rows that point at each other can be built in memory, and each table is written
//! with as few statements as the backend allows. On SQLite that is a prepared multi-row
//! `INSERT … VALUES` per 30 000 bound values (under SQLite's 32 766); on PostgreSQL one
//! `INSERT … SELECT FROM UNNEST` of one array per column, in the rows' order.
//!
//! It skips the ORM on purpose: building a statement value by value through active models cost
//! four fifths of an import's time, SQLite the rest (see BENCHMARKS.md). Values are bound with the
//! same driver types the ORM binds, so what is stored reads back through the entities unchanged.

use std::fmt::Write as _;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sqlx::{
    self, Arguments, ConnectOptions, Connection, Postgres, Sqlite, SqliteConnection, Transaction,
    postgres::PgArguments, sqlite::SqliteArguments,
};
use sea_orm::{DbBackend, DbErr, RuntimeErr};

use crate::Db;

/// Bound values per SQLite statement: under its limit of 32 766.
const SQLITE_VALUES: usize = 30_000;
/// Rows per PostgreSQL statement (one array a column, so no limit on values; this bounds memory).
const PG_ROWS: usize = 20_000;

/// One column's values, a row each.
#[derive(Debug, Clone)]
pub enum Column {
    Int(Vec<i64>),
    OptInt(Vec<Option<i64>>),
    SmallInt(Vec<i16>),
    OptSmallInt(Vec<Option<i16>>),
    Float(Vec<f64>),
    OptFloat(Vec<Option<f64>>),
    Bool(Vec<bool>),
    Text(Vec<String>),
    OptText(Vec<Option<String>>),
    /// Text that repeats across rows (a status, a kind): shared, so bound without a copy.
    Code(Vec<Arc<str>>),
    OptCode(Vec<Option<Arc<str>>>),
    Time(Vec<DateTime<Utc>>),
    OptTime(Vec<Option<DateTime<Utc>>>),
    OptDate(Vec<Option<NaiveDate>>),
    /// Serialized JSON documents.
    Json(Vec<String>),
}

impl Column {
    fn len(&self) -> usize {
        match self {
            Self::Int(v) => v.len(),
            Self::OptInt(v) => v.len(),
            Self::SmallInt(v) => v.len(),
            Self::OptSmallInt(v) => v.len(),
            Self::Float(v) => v.len(),
            Self::OptFloat(v) => v.len(),
            Self::Bool(v) => v.len(),
            Self::Text(v) | Self::Json(v) => v.len(),
            Self::OptText(v) => v.len(),
            Self::Code(v) => v.len(),
            Self::OptCode(v) => v.len(),
            Self::Time(v) => v.len(),
            Self::OptTime(v) => v.len(),
            Self::OptDate(v) => v.len(),
        }
    }

    /// PostgreSQL's array type for the column's values.
    fn pg_array(&self) -> &'static str {
        match self {
            Self::Int(_) | Self::OptInt(_) => "int8[]",
            Self::SmallInt(_) | Self::OptSmallInt(_) => "int2[]",
            Self::Float(_) | Self::OptFloat(_) => "float8[]",
            Self::Bool(_) => "bool[]",
            Self::Text(_) | Self::OptText(_) | Self::Code(_) | Self::OptCode(_) | Self::Json(_) => {
                "text[]"
            }
            Self::Time(_) | Self::OptTime(_) => "timestamptz[]",
            Self::OptDate(_) => "date[]",
        }
    }

    /// The rows `start..end` as one PostgreSQL array argument.
    fn add_pg(&self, args: &mut PgArguments, start: usize, end: usize) -> Result<(), DbErr> {
        let r = match self {
            Self::Int(v) => args.add(&v[start..end]),
            Self::OptInt(v) => args.add(&v[start..end]),
            Self::SmallInt(v) => args.add(&v[start..end]),
            Self::OptSmallInt(v) => args.add(&v[start..end]),
            Self::Float(v) => args.add(&v[start..end]),
            Self::OptFloat(v) => args.add(&v[start..end]),
            Self::Bool(v) => args.add(&v[start..end]),
            Self::Text(v) | Self::Json(v) => args.add(&v[start..end]),
            Self::OptText(v) => args.add(&v[start..end]),
            Self::Code(v) => args.add(v[start..end].iter().map(|s| &**s).collect::<Vec<&str>>()),
            Self::OptCode(v) => args.add(
                v[start..end]
                    .iter()
                    .map(|s| s.as_deref())
                    .collect::<Vec<Option<&str>>>(),
            ),
            Self::Time(v) => args.add(&v[start..end]),
            Self::OptTime(v) => args.add(&v[start..end]),
            Self::OptDate(v) => args.add(&v[start..end]),
        };
        r.map_err(|e| DbErr::Custom(format!("cannot bind an array: {e}")))
    }

    /// A cursor that hands the values out one row at a time, moving text instead of copying it.
    fn into_values(self) -> Values {
        match self {
            Self::Int(v) => Values::Int(v.into_iter()),
            Self::OptInt(v) => Values::OptInt(v.into_iter()),
            Self::SmallInt(v) => Values::SmallInt(v.into_iter()),
            Self::OptSmallInt(v) => Values::OptSmallInt(v.into_iter()),
            Self::Float(v) => Values::Float(v.into_iter()),
            Self::OptFloat(v) => Values::OptFloat(v.into_iter()),
            Self::Bool(v) => Values::Bool(v.into_iter()),
            Self::Text(v) | Self::Json(v) => Values::Text(v.into_iter()),
            Self::OptText(v) => Values::OptText(v.into_iter()),
            Self::Code(v) => Values::Code(v.into_iter()),
            Self::OptCode(v) => Values::OptCode(v.into_iter()),
            Self::Time(v) => Values::Time(v.into_iter()),
            Self::OptTime(v) => Values::OptTime(v.into_iter()),
            Self::OptDate(v) => Values::OptDate(v.into_iter()),
        }
    }
}

enum Values {
    Int(std::vec::IntoIter<i64>),
    OptInt(std::vec::IntoIter<Option<i64>>),
    SmallInt(std::vec::IntoIter<i16>),
    OptSmallInt(std::vec::IntoIter<Option<i16>>),
    Float(std::vec::IntoIter<f64>),
    OptFloat(std::vec::IntoIter<Option<f64>>),
    Bool(std::vec::IntoIter<bool>),
    Text(std::vec::IntoIter<String>),
    OptText(std::vec::IntoIter<Option<String>>),
    Code(std::vec::IntoIter<Arc<str>>),
    OptCode(std::vec::IntoIter<Option<Arc<str>>>),
    Time(std::vec::IntoIter<DateTime<Utc>>),
    OptTime(std::vec::IntoIter<Option<DateTime<Utc>>>),
    OptDate(std::vec::IntoIter<Option<NaiveDate>>),
}

impl Values {
    /// Binds the next row's value; the columns all have the table's length, so there is one.
    fn add_next(&mut self, args: &mut SqliteArguments) -> Result<(), DbErr> {
        fn add<T>(args: &mut SqliteArguments, v: Option<T>) -> Result<(), DbErr>
        where
            T: for<'q> sqlx::Encode<'q, Sqlite> + sqlx::Type<Sqlite>,
        {
            let v =
                v.ok_or_else(|| DbErr::Custom("a bulk column is shorter than its table".into()))?;
            args.add(v)
                .map_err(|e| DbErr::Custom(format!("cannot bind a value: {e}")))
        }
        match self {
            Self::Int(v) => add(args, v.next()),
            Self::OptInt(v) => add(args, v.next()),
            Self::SmallInt(v) => add(args, v.next()),
            Self::OptSmallInt(v) => add(args, v.next()),
            Self::Float(v) => add(args, v.next()),
            Self::OptFloat(v) => add(args, v.next()),
            Self::Bool(v) => add(args, v.next()),
            Self::Text(v) => add(args, v.next()),
            Self::OptText(v) => add(args, v.next()),
            Self::Code(v) => add(args, v.next()),
            Self::OptCode(v) => add(args, v.next()),
            Self::Time(v) => add(args, v.next()),
            Self::OptTime(v) => add(args, v.next()),
            Self::OptDate(v) => add(args, v.next()),
        }
    }
}

/// Rows for one table, column by column.
#[derive(Debug, Clone)]
pub struct Table {
    name: &'static str,
    columns: Vec<(&'static str, Column)>,
    /// An `ON CONFLICT …` clause, in the SQL both backends share.
    on_conflict: Option<&'static str>,
}

impl Table {
    pub fn new(name: &'static str) -> Self {
        debug_assert!(name.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
        Self {
            name,
            columns: Vec::new(),
            on_conflict: None,
        }
    }

    #[must_use]
    pub fn column(mut self, name: &'static str, values: Column) -> Self {
        debug_assert!(name.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
        self.columns.push((name, values));
        self
    }

    /// What to do with a row whose key exists, e.g.
    /// `ON CONFLICT (org_number) DO UPDATE SET name = excluded.name`.
    #[must_use]
    pub fn on_conflict(mut self, clause: &'static str) -> Self {
        self.on_conflict = Some(clause);
        self
    }

    fn rows(&self) -> Result<usize, DbErr> {
        let n = self.columns.first().map_or(0, |(_, c)| c.len());
        match self.columns.iter().find(|(_, c)| c.len() != n) {
            Some((name, _)) => Err(DbErr::Custom(format!(
                "bulk insert into {}: column {name} has a different number of rows",
                self.name
            ))),
            None => Ok(n),
        }
    }

    fn head(&self) -> String {
        let names: Vec<&str> = self.columns.iter().map(|(n, _)| *n).collect();
        format!("INSERT INTO {} ({}) ", self.name, names.join(", "))
    }

    /// The pieces of SQLite's `INSERT … VALUES (?, …), …`, to cut into statements of any length.
    fn sqlite_parts(&self, returning: Option<&str>) -> SqliteInsert {
        let mut tail = String::new();
        self.tail(&mut tail, returning);
        SqliteInsert {
            head: self.head(),
            row: format!("({})", vec!["?"; self.columns.len()].join(", ")),
            tail,
        }
    }

    fn pg_sql(&self, returning: Option<&str>) -> String {
        let mut sql = self.head();
        let names: Vec<String> = (1..=self.columns.len()).map(|i| format!("c{i}")).collect();
        let select: Vec<String> = self
            .columns
            .iter()
            .zip(&names)
            .map(|((_, c), n)| match c {
                Column::Json(_) => format!("{n}::jsonb"),
                _ => n.clone(),
            })
            .collect();
        let arrays: Vec<String> = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, (_, c))| format!("${}::{}", i + 1, c.pg_array()))
            .collect();
        // The rows' order is kept, so that ids from the sequence follow it.
        let _ = write!(
            sql,
            "SELECT {} FROM UNNEST({}) WITH ORDINALITY AS u({}, ord) ORDER BY ord",
            select.join(", "),
            arrays.join(", "),
            names.join(", ")
        );
        self.tail(&mut sql, returning);
        sql
    }

    fn tail(&self, sql: &mut String, returning: Option<&str>) {
        if let Some(clause) = self.on_conflict {
            sql.push(' ');
            sql.push_str(clause);
        }
        if let Some(r) = returning {
            sql.push_str(" RETURNING ");
            sql.push_str(r);
        }
    }
}

fn exec_err(e: sqlx::Error) -> DbErr {
    DbErr::Exec(RuntimeErr::SqlxError(Arc::new(e)))
}

fn query_err(e: sqlx::Error) -> DbErr {
    DbErr::Query(RuntimeErr::SqlxError(Arc::new(e)))
}

/// Where bulk transactions run. On a SQLite file it is a connection of its own, opened without
/// foreign-key enforcement: half of SQLite's time in an import went to checking references
/// that the import has already checked (every department, user, company and case id it writes
/// was looked up or reserved in the same transaction), and the pragma cannot change inside a
/// transaction or on the shared writer without the risk of handing it back unenforced. Its
/// transactions take the write lock with `BEGIN IMMEDIATE`, so they queue with the shared
/// writer's. Elsewhere (PostgreSQL, an in-memory SQLite) transactions run on the shared writer.
pub enum BulkWriter {
    Own(SqliteConnection),
    Shared(Box<Db>),
}

impl BulkWriter {
    pub async fn open(db: &Db) -> Result<Self, DbErr> {
        match db.bulk_options() {
            Some(options) => Ok(Self::Own(
                options
                    .clone()
                    .foreign_keys(false)
                    // 256 MiB of pages, and the log copied back into the file every 80 MB
                    // instead of every 4: an import rewrites the same index pages batch
                    // after batch, and each checkpoint writes a page once however often it
                    // changed.
                    .pragma("cache_size", "-262144")
                    .pragma("wal_autocheckpoint", "20000")
                    .connect()
                    .await
                    .map_err(|e| DbErr::Conn(RuntimeErr::SqlxError(Arc::new(e))))?,
            )),
            None => Ok(Self::Shared(Box::new(db.clone()))),
        }
    }

    pub async fn begin(&mut self) -> Result<BulkTx<'_>, DbErr> {
        Ok(match self {
            Self::Own(conn) => {
                BulkTx::Sqlite(conn.begin_with("BEGIN IMMEDIATE").await.map_err(exec_err)?)
            }
            Self::Shared(db) if db.backend() == DbBackend::Postgres => BulkTx::Postgres(
                db.writer()
                    .get_postgres_connection_pool()
                    .begin()
                    .await
                    .map_err(exec_err)?,
            ),
            Self::Shared(db) => BulkTx::Sqlite(
                db.writer()
                    .get_sqlite_connection_pool()
                    .begin_with("BEGIN IMMEDIATE")
                    .await
                    .map_err(exec_err)?,
            ),
        })
    }

    pub async fn close(self) -> Result<(), DbErr> {
        match self {
            Self::Own(conn) => conn.close().await.map_err(exec_err),
            Self::Shared(_) => Ok(()),
        }
    }
}

/// A bulk write transaction on the driver itself; it rolls back when dropped without a commit.
pub enum BulkTx<'c> {
    Sqlite(Transaction<'c, Sqlite>),
    Postgres(Transaction<'c, Postgres>),
}

impl BulkTx<'_> {
    pub async fn commit(self) -> Result<(), DbErr> {
        match self {
            Self::Sqlite(tx) => tx.commit().await,
            Self::Postgres(tx) => tx.commit().await,
        }
        .map_err(exec_err)
    }

    /// Reserves `n` fresh ids of `table` (whose primary key is an auto-incremented `id`) for
    /// rows inserted later with explicit ids, in this or later transactions: no other writer takes
    /// them once this transaction commits. On SQLite the block after the highest id in use is
    /// claimed by moving AUTOINCREMENT's mark (`sqlite_sequence`) past it; on PostgreSQL the ids
    /// are drawn from the column's sequence. Ids reserved and never used leave a gap, as a
    /// rolled-back insert does.
    pub async fn reserve_ids(&mut self, table: &str, n: usize) -> Result<Vec<i64>, DbErr> {
        if n == 0 {
            return Ok(Vec::new());
        }
        debug_assert!(table.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
        let count = i64::try_from(n).map_err(|_| DbErr::Custom("too many ids".into()))?;
        match self {
            Self::Postgres(tx) => {
                let sql = format!(
                    "SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, $1)"
                );
                sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql))
                    .bind(count)
                    .fetch_all(&mut **tx)
                    .await
                    .map_err(query_err)
            }
            Self::Sqlite(tx) => {
                // The mark can lie above the highest id left in the table.
                let sql = format!(
                    "SELECT MAX(COALESCE((SELECT MAX(id) FROM {table}), 0), \
                     COALESCE((SELECT seq FROM sqlite_sequence WHERE name = '{table}'), 0))"
                );
                let top: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                    .fetch_one(&mut **tx)
                    .await
                    .map_err(query_err)?;
                let moved = sqlx::query("UPDATE sqlite_sequence SET seq = ? WHERE name = ?")
                    .bind(top + count)
                    .bind(table.to_string())
                    .execute(&mut **tx)
                    .await
                    .map_err(exec_err)?;
                if moved.rows_affected() == 0 {
                    sqlx::query("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)")
                        .bind(table.to_string())
                        .bind(top + count)
                        .execute(&mut **tx)
                        .await
                        .map_err(exec_err)?;
                }
                Ok((1..=count).map(|i| top + i).collect())
            }
        }
    }

    /// The database's clock, in milliseconds since the Unix epoch (as `touch::now_ms`).
    pub async fn now_ms(&mut self) -> Result<i64, DbErr> {
        let sql = format!("SELECT {}", crate::touch::now_sql(self.backend()));
        match self {
            Self::Postgres(tx) => {
                sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                    .fetch_one(&mut **tx)
                    .await
            }
            Self::Sqlite(tx) => {
                sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                    .fetch_one(&mut **tx)
                    .await
            }
        }
        .map_err(query_err)
    }

    fn backend(&self) -> DbBackend {
        match self {
            Self::Sqlite(_) => DbBackend::Sqlite,
            Self::Postgres(_) => DbBackend::Postgres,
        }
    }

    /// Inserts every row of the table.
    pub async fn insert(&mut self, table: Table) -> Result<(), DbErr> {
        for statement in table.prepare(self.backend(), None)? {
            self.execute(statement).await?;
        }
        Ok(())
    }

    /// Inserts every row and answers the text key and id of each row written (`RETURNING key,
    /// id`; with an `ON CONFLICT … DO UPDATE`, the updated rows too).
    pub async fn insert_returning(
        &mut self,
        table: Table,
        key: &'static str,
    ) -> Result<Vec<(String, i64)>, DbErr> {
        debug_assert!(key.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
        let returning = format!("{key}, id");
        let mut out = Vec::new();
        for statement in table.prepare(self.backend(), Some(&returning))? {
            out.extend(
                match (&mut *self, statement) {
                    (Self::Sqlite(tx), Prepared::Sqlite(sql, args)) => {
                        sqlx::query_as_with::<_, (String, i64), _>(sqlx::AssertSqlSafe(sql), args)
                            .fetch_all(&mut **tx)
                            .await
                    }
                    (Self::Postgres(tx), Prepared::Postgres(sql, args)) => {
                        sqlx::query_as_with::<_, (String, i64), _>(sqlx::AssertSqlSafe(sql), args)
                            .fetch_all(&mut **tx)
                            .await
                    }
                    _ => return Err(mismatch()),
                }
                .map_err(exec_err)?,
            );
        }
        Ok(out)
    }

    /// Runs a statement that `Table::prepare` made for this backend.
    pub async fn execute(&mut self, statement: Prepared) -> Result<(), DbErr> {
        match (self, statement) {
            (Self::Sqlite(tx), Prepared::Sqlite(sql, args)) => {
                sqlx::query_with(sqlx::AssertSqlSafe(sql), args)
                    .execute(&mut **tx)
                    .await
                    .map(drop)
            }
            (Self::Postgres(tx), Prepared::Postgres(sql, args)) => {
                sqlx::query_with(sqlx::AssertSqlSafe(sql), args)
                    .execute(&mut **tx)
                    .await
                    .map(drop)
            }
            _ => return Err(mismatch()),
        }
        .map_err(exec_err)
    }
}

fn mismatch() -> DbErr {
    DbErr::Custom("a bulk statement prepared for another backend".into())
}

/// A statement with its values bound, ready to run: preparing can happen on another thread
/// while the database runs the statements before.
pub enum Prepared {
    Sqlite(String, SqliteArguments),
    Postgres(String, PgArguments),
}

impl Table {
    /// The statements that insert every row, with their values bound.
    pub fn prepare(
        self,
        backend: DbBackend,
        returning: Option<&str>,
    ) -> Result<Vec<Prepared>, DbErr> {
        let rows = self.rows()?;
        let mut out = Vec::new();
        if rows == 0 || self.columns.is_empty() {
            return Ok(out);
        }
        if backend == DbBackend::Postgres {
            let sql = self.pg_sql(returning);
            let mut start = 0;
            while start < rows {
                let end = (start + PG_ROWS).min(rows);
                let mut args = PgArguments::default();
                for (_, c) in &self.columns {
                    c.add_pg(&mut args, start, end)?;
                }
                out.push(Prepared::Postgres(sql.clone(), args));
                start = end;
            }
            return Ok(out);
        }
        let width = self.columns.len();
        let per_statement = (SQLITE_VALUES / width).max(1);
        let parts = self.sqlite_parts(returning);
        let full = parts.sql(per_statement.min(rows));
        let mut values: Vec<Values> = self
            .columns
            .into_iter()
            .map(|(_, c)| c.into_values())
            .collect();
        let mut start = 0;
        while start < rows {
            let n = per_statement.min(rows - start);
            // Full statements share one text, so the driver prepares it once.
            let sql = if n == per_statement.min(rows) {
                full.clone()
            } else {
                parts.sql(n)
            };
            let mut args = SqliteArguments::default();
            args.reserve(n * width, 0);
            for _ in 0..n {
                for v in &mut values {
                    v.add_next(&mut args)?;
                }
            }
            out.push(Prepared::Sqlite(sql, args));
            start += n;
        }
        Ok(out)
    }
}

struct SqliteInsert {
    head: String,
    row: String,
    tail: String,
}

impl SqliteInsert {
    fn sql(&self, rows: usize) -> String {
        let mut sql = String::with_capacity(self.head.len() + rows * (self.row.len() + 2) + 8);
        sql.push_str(&self.head);
        sql.push_str("VALUES ");
        for i in 0..rows {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&self.row);
        }
        sql.push_str(&self.tail);
        sql
    }
}
