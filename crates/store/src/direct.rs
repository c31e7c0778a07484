//! Reads from a SQLite file on the calling thread, without sqlx's worker threads.
//!
//! sqlx-sqlite runs each connection on a thread of its own: every statement is a command sent
//! to it and every row a message back, two thread switches or more a query. An officer's page
//! makes about ten short queries (a case and its events, handoffs, parties…), each a few
//! microseconds of SQLite's own work, and under load the switches were most of the process's
//! time (BENCHMARKS.md). Here the same statements, built by sea-query for SQLite, run on a
//! connection of a small pool kept for this process (read-only, `query_only`, the WAL lets them
//! read beside the writer), on the thread that asks; each row becomes the entity's model through
//! sea-orm's own `ActiveModel::try_set` (which refuses a value of the wrong type), the values
//! typed by the entity's column definitions and decoded as sqlx decodes them. Each read has a
//! budget of SQLite's work (a millisecond or two): one that outgrows it (a list whose filter
//! walks many cases) is stopped and read again on the readers, so that no request holds a
//! runtime thread for long.
//!
//! `Db::read_all`, `Db::read_all_also`, `Db::case_rows` and
//! `Db::read_integers` choose: this on a SQLite file, the readers everywhere else (PostgreSQL, an
//! in-memory database), whose rows are made models by index (`by_index`).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{
    DateTime, FixedOffset, NaiveDate, NaiveDateTime, Offset, SecondsFormat, TimeZone, Utc,
};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags};
use sea_orm::sea_query::Value;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ColumnType, DbErr, EntityTrait, IdenStatic, Iterable,
    RuntimeErr, Statement, TryIntoModel,
};

/// Connections kept idle at most; more are opened while that many threads read at once.
const KEPT: usize = 8;
/// Statements each connection keeps prepared.
const PREPARED: usize = 128;
/// SQLite's virtual machine steps between two looks at a read's budget, and how many looks it
/// gets: about 200 000 steps, a millisecond or two. A read that needs more (a list whose filter
/// walks many cases) is stopped and read again by the readers, so that no request holds a
/// runtime thread for long.
const STEPS_PER_LOOK: i32 = 1_000;
const LOOKS: u32 = 200;

/// A row of a `SelectTwo`: the model of `E`, and of `F` unless the join found none.
pub type Pair<E, F> = (<E as EntityTrait>::Model, Option<<F as EntityTrait>::Model>);

/// A pair with the integers of `N` columns read after it.
pub type PairWith<E, F, const N: usize> = (Pair<E, F>, [Option<i64>; N]);

/// A pool of read-only connections to one SQLite file.
#[derive(Debug)]
pub struct DirectReads {
    path: PathBuf,
    idle: Mutex<Vec<Reader>>,
    /// Reads stopped for their budget since the start.
    stopped: AtomicU64,
}

/// A connection, and the looks its current read has had at its budget (its progress handler,
/// set once when it is opened, counts them and stops the read past [`LOOKS`]).
struct Reader {
    conn: Connection,
    looks: Arc<AtomicU32>,
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Reader")
    }
}

/// How a column's stored value becomes a sea-query value: the column's type in the entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    BigInt,
    Int,
    SmallInt,
    Double,
    Bool,
    Text,
    DateTimeUtc,
    Date,
    Json,
}

impl Kind {
    pub(crate) fn of(column_type: &ColumnType) -> Option<Kind> {
        Some(match column_type {
            ColumnType::BigInteger => Kind::BigInt,
            ColumnType::Integer => Kind::Int,
            ColumnType::SmallInteger => Kind::SmallInt,
            ColumnType::Double | ColumnType::Float => Kind::Double,
            ColumnType::Boolean => Kind::Bool,
            ColumnType::String(_) | ColumnType::Text | ColumnType::Char(_) => Kind::Text,
            ColumnType::TimestampWithTimeZone => Kind::DateTimeUtc,
            ColumnType::Date => Kind::Date,
            ColumnType::Json | ColumnType::JsonBinary => Kind::Json,
            _ => return None,
        })
    }

    pub(crate) fn null(self) -> Value {
        match self {
            Kind::BigInt => Value::BigInt(None),
            Kind::Int => Value::Int(None),
            Kind::SmallInt => Value::SmallInt(None),
            Kind::Double => Value::Double(None),
            Kind::Bool => Value::Bool(None),
            Kind::Text => Value::String(None),
            Kind::DateTimeUtc => Value::ChronoDateTimeUtc(None),
            Kind::Date => Value::ChronoDate(None),
            Kind::Json => Value::Json(None),
        }
    }

    /// The stored value as sqlx-sqlite would decode it into the column's Rust type.
    fn decode(self, column: &str, v: ValueRef<'_>) -> Result<Value, DbErr> {
        if let ValueRef::Null = v {
            return Ok(self.null());
        }
        let bad = || type_error(column, self, v);
        Ok(match (self, v) {
            (Kind::BigInt, ValueRef::Integer(i)) => Value::BigInt(Some(i)),
            (Kind::Int, ValueRef::Integer(i)) => {
                Value::Int(Some(i32::try_from(i).map_err(|_| bad())?))
            }
            (Kind::SmallInt, ValueRef::Integer(i)) => {
                Value::SmallInt(Some(i16::try_from(i).map_err(|_| bad())?))
            }
            (Kind::Double, ValueRef::Real(f)) => Value::Double(Some(f)),
            #[allow(clippy::cast_precision_loss)]
            (Kind::Double, ValueRef::Integer(i)) => Value::Double(Some(i as f64)),
            (Kind::Bool, ValueRef::Integer(i)) => Value::Bool(Some(i != 0)),
            (Kind::Text, ValueRef::Text(t)) => Value::String(Some(utf8(column, t)?.to_owned())),
            (Kind::DateTimeUtc, ValueRef::Text(t)) => Value::ChronoDateTimeUtc(Some(
                datetime(utf8(column, t)?)
                    .ok_or_else(bad)?
                    .with_timezone(&Utc),
            )),
            (Kind::DateTimeUtc, ValueRef::Integer(i)) => {
                Value::ChronoDateTimeUtc(Some(Utc.timestamp_opt(i, 0).single().ok_or_else(bad)?))
            }
            (Kind::Date, ValueRef::Text(t)) => Value::ChronoDate(Some(
                NaiveDate::parse_from_str(utf8(column, t)?, "%F").map_err(|_| bad())?,
            )),
            (Kind::Json, ValueRef::Text(t) | ValueRef::Blob(t)) => Value::Json(Some(Box::new(
                serde_json::from_slice(t).map_err(|_| bad())?,
            ))),
            _ => return Err(bad()),
        })
    }
}

fn type_error(column: &str, kind: Kind, v: ValueRef<'_>) -> DbErr {
    DbErr::Type(format!(
        "column {column}: a stored {:?} is not a {kind:?}",
        v.data_type()
    ))
}

fn utf8<'a>(column: &str, t: &'a [u8]) -> Result<&'a str, DbErr> {
    std::str::from_utf8(t).map_err(|_| DbErr::Type(format!("column {column}: not UTF-8")))
}

/// A stored date and time as sqlx-sqlite reads one: RFC 3339 first (how it writes them), then
/// SQLite's own formats, with or without an offset (none is UTC).
fn datetime(text: &str) -> Option<DateTime<FixedOffset>> {
    if let Ok(dt) = DateTime::parse_from_rfc3339(text) {
        return Some(dt);
    }
    const FORMATS: [&str; 12] = [
        "%F %T%.f",
        "%F %R",
        "%F %RZ",
        "%F %R%:z",
        "%F %T%.fZ",
        "%F %T%.f%:z",
        "%FT%R",
        "%FT%RZ",
        "%FT%R%:z",
        "%FT%T%.f",
        "%FT%T%.fZ",
        "%FT%T%.f%:z",
    ];
    FORMATS.iter().find_map(|f| {
        DateTime::parse_from_str(text, f).ok().or_else(|| {
            NaiveDateTime::parse_from_str(text, f)
                .ok()
                .map(|n| Utc.fix().from_utc_datetime(&n))
        })
    })
}

/// A bound value as sqlx-sqlite would bind it (dates and times as the text it writes).
fn bind(v: &Value) -> Result<ToSqlOutput<'_>, DbErr> {
    use rusqlite::types::Value as Owned;
    let out = |o: Option<Owned>| ToSqlOutput::Owned(o.unwrap_or(Owned::Null));
    Ok(match v {
        Value::Bool(b) => out(b.map(|b| Owned::Integer(i64::from(b)))),
        Value::TinyInt(i) => out(i.map(|i| Owned::Integer(i.into()))),
        Value::SmallInt(i) => out(i.map(|i| Owned::Integer(i.into()))),
        Value::Int(i) => out(i.map(|i| Owned::Integer(i.into()))),
        Value::BigInt(i) => out(i.map(Owned::Integer)),
        Value::TinyUnsigned(i) => out(i.map(|i| Owned::Integer(i.into()))),
        Value::SmallUnsigned(i) => out(i.map(|i| Owned::Integer(i.into()))),
        Value::Unsigned(i) => out(i.map(|i| Owned::Integer(i.into()))),
        Value::BigUnsigned(i) => out(i
            .map(|i| i64::try_from(i).map(Owned::Integer))
            .transpose()
            .map_err(|_| DbErr::Type("a bound integer beyond i64".into()))?),
        Value::Float(f) => out(f.map(|f| Owned::Real(f.into()))),
        Value::Double(f) => out(f.map(Owned::Real)),
        Value::String(Some(s)) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
        Value::String(None) => out(None),
        Value::Char(c) => out(c.map(|c| Owned::Text(c.to_string()))),
        Value::Bytes(Some(b)) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
        Value::Bytes(None) => out(None),
        Value::Json(j) => out(j.as_ref().map(|j| Owned::Text(j.to_string()))),
        Value::ChronoDate(d) => out(d.map(|d| Owned::Text(d.format("%F").to_string()))),
        Value::ChronoDateTime(t) => out(t.map(|t| Owned::Text(t.format("%F %T%.f").to_string()))),
        Value::ChronoDateTimeUtc(t) => {
            out(t.map(|t| Owned::Text(t.to_rfc3339_opts(SecondsFormat::AutoSi, false))))
        }
        Value::ChronoDateTimeWithTimeZone(t) => {
            out(t.map(|t| Owned::Text(t.to_rfc3339_opts(SecondsFormat::AutoSi, false))))
        }
        other => return Err(DbErr::Type(format!("cannot bind {other:?} here"))),
    })
}

fn sqlite_err(e: rusqlite::Error) -> DbErr {
    DbErr::Query(RuntimeErr::Internal(format!("SQLite: {e}")))
}

/// Where each column of a result goes: the entity's column and how its value is decoded.
pub(crate) struct Slot<C> {
    pub(crate) column: C,
    pub(crate) kind: Kind,
}

/// The slots of `E`'s columns named `prefix` + name in `names` (the result's columns), in
/// their order; `None` for a result column of the other entity of a pair.
pub(crate) fn slots<E: EntityTrait>(
    prefix: &str,
    names: &[&str],
) -> Result<Vec<Option<Slot<E::Column>>>, DbErr> {
    let mut slots: Vec<Option<Slot<E::Column>>> = names.iter().map(|_| None).collect();
    let named = |i: usize, c: &E::Column| {
        names
            .get(i)
            .is_some_and(|n| n.strip_prefix(prefix) == Some(c.as_str()))
    };
    // sea-orm selects an entity's columns in their order, so the next result column is
    // looked at first; the others only where that is not the one.
    let mut next = names
        .iter()
        .position(|n| n.starts_with(prefix))
        .unwrap_or(0);
    for c in E::Column::iter() {
        let kind = Kind::of(c.def().get_column_type()).ok_or_else(|| {
            DbErr::Type(format!(
                "{}.{}: a column type the direct reads do not decode",
                E::default().table_name(),
                c.as_str()
            ))
        })?;
        let i = match named(next, &c) {
            true => next,
            false => (0..names.len())
                .find(|&i| named(i, &c))
                .ok_or_else(|| DbErr::Type(format!("column {prefix}{} not read", c.as_str())))?,
        };
        slots[i] = Some(Slot { column: c, kind });
        next = i + 1;
    }
    Ok(slots)
}

/// The model a row holds in `slots` (`value` gives the one at an index, as its column's type),
/// or `None` where `optional` and every one of them is null (the absent side of a left join).
pub(crate) fn model_of<E: EntityTrait>(
    slots: &[Option<Slot<E::Column>>],
    optional: bool,
    mut value: impl FnMut(usize, &Slot<E::Column>) -> Result<Value, DbErr>,
) -> Result<Option<E::Model>, DbErr>
where
    E::ActiveModel: TryIntoModel<E::Model>,
{
    let mut am = <E::ActiveModel as ActiveModelTrait>::default();
    let mut all_null = true;
    for (i, slot) in slots.iter().enumerate() {
        let Some(slot) = slot else { continue };
        let v = value(i, slot)?;
        all_null &= is_null(&v);
        am.try_set(slot.column, v)?;
    }
    if optional && all_null {
        return Ok(None);
    }
    am.try_into_model().map(Some)
}

/// Whether `v` is a null of one of the kinds read.
fn is_null(v: &Value) -> bool {
    matches!(
        v,
        Value::BigInt(None)
            | Value::Int(None)
            | Value::SmallInt(None)
            | Value::Double(None)
            | Value::Bool(None)
            | Value::String(None)
            | Value::ChronoDateTimeUtc(None)
            | Value::ChronoDate(None)
            | Value::Json(None)
    )
}

/// The model a SQLite row holds in `slots` (`model_of`).
fn model<E: EntityTrait>(
    row: &rusqlite::Row<'_>,
    slots: &[Option<Slot<E::Column>>],
    optional: bool,
) -> Result<Option<E::Model>, DbErr>
where
    E::ActiveModel: TryIntoModel<E::Model>,
{
    model_of::<E>(slots, optional, |i, slot| {
        let v = row.get_ref(i).map_err(sqlite_err)?;
        slot.kind.decode(slot.column.as_str(), v)
    })
}

impl DirectReads {
    pub(crate) fn new(path: &Path) -> Self {
        Self {
            path: path.to_path_buf(),
            idle: Mutex::new(Vec::new()),
            stopped: AtomicU64::new(0),
        }
    }

    /// How many reads were stopped for their budget (and read on the readers) since the start.
    pub fn stopped(&self) -> u64 {
        self.stopped.load(Ordering::Relaxed)
    }

    fn open(&self) -> Result<Reader, DbErr> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
                | OpenFlags::SQLITE_OPEN_URI,
        )
        .map_err(sqlite_err)?;
        conn.busy_timeout(Duration::from_secs(10))
            .map_err(sqlite_err)?;
        conn.pragma_update(None, "query_only", true)
            .map_err(sqlite_err)?;
        conn.set_prepared_statement_cache_capacity(PREPARED);
        let looks = Arc::new(AtomicU32::new(0));
        let seen = looks.clone();
        conn.progress_handler(
            STEPS_PER_LOOK,
            Some(move || seen.fetch_add(1, Ordering::Relaxed) >= LOOKS),
        )
        .map_err(sqlite_err)?;
        Ok(Reader { conn, looks })
    }

    /// Runs `f` on an idle connection (or a new one), and keeps the connection for the next.
    fn with<R>(&self, f: impl FnOnce(&Reader) -> Result<R, DbErr>) -> Result<R, DbErr> {
        let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let reader = match idle {
            Some(r) => r,
            None => self.open()?,
        };
        let result = f(&reader);
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < KEPT {
            idle.push(reader);
        }
        result
    }

    /// Runs `stmt` and gives each row to `each`, with the result's column names first; `false`
    /// when the read outgrew its budget and was stopped (what `each` was given is then partial).
    fn query<R>(
        &self,
        stmt: &Statement,
        prepare: impl FnOnce(&[&str]) -> Result<R, DbErr>,
        mut each: impl FnMut(&R, &rusqlite::Row<'_>) -> Result<(), DbErr>,
    ) -> Result<bool, DbErr> {
        let values = stmt.values.as_ref().map(|v| v.0.as_slice()).unwrap_or(&[]);
        let bound = values.iter().map(bind).collect::<Result<Vec<_>, _>>()?;
        self.with(|reader| {
            reader.looks.store(0, Ordering::Relaxed);
            let read = (|| {
                let mut st = reader.conn.prepare_cached(&stmt.sql).map_err(sqlite_err)?;
                let plan = prepare(&st.column_names())?;
                let mut rows = st
                    .query(rusqlite::params_from_iter(bound.iter()))
                    .map_err(sqlite_err)?;
                while let Some(row) = rows.next().map_err(sqlite_err)? {
                    each(&plan, row)?;
                }
                Ok(())
            })();
            match read {
                Err(_) if reader.looks.load(Ordering::Relaxed) > LOOKS => {
                    self.stopped.fetch_add(1, Ordering::Relaxed);
                    Ok(false)
                }
                other => other.map(|()| true),
            }
        })
    }

    /// Every model `stmt` (a `SELECT` of `E`'s columns) reads; `None` when that outgrew the
    /// budget (read it on the readers).
    pub(crate) fn all<E: EntityTrait>(
        &self,
        stmt: &Statement,
    ) -> Result<Option<Vec<E::Model>>, DbErr>
    where
        E::ActiveModel: TryIntoModel<E::Model>,
    {
        let mut out = Vec::new();
        let whole = self.query(
            stmt,
            |names| slots::<E>("", names),
            |slots, row| {
                out.extend(model::<E>(row, slots, false)?);
                Ok(())
            },
        )?;
        Ok(whole.then_some(out))
    }

    /// The integers (or nulls) of the first row `stmt` reads, `Some(None)` when it reads none;
    /// `None` when that outgrew the budget.
    pub(crate) fn first_integers(
        &self,
        stmt: &Statement,
    ) -> Result<Option<Option<Vec<Option<i64>>>>, DbErr> {
        let mut first = None;
        let whole = self.query(
            stmt,
            |names| Ok(names.len()),
            |columns, row| {
                if first.is_none() {
                    first = Some(
                        (0..*columns)
                            .map(|i| integer(row, i))
                            .collect::<Result<_, _>>()?,
                    );
                }
                Ok(())
            },
        )?;
        Ok(whole.then_some(first))
    }

    /// The pairs a `SelectTwo` of `E` and `F` reads (`F` absent where its columns are null).
    pub(crate) fn all_also<E: EntityTrait, F: EntityTrait, const N: usize>(
        &self,
        stmt: &Statement,
    ) -> Result<Option<Vec<PairWith<E, F, N>>>, DbErr>
    where
        E::ActiveModel: TryIntoModel<E::Model>,
        F::ActiveModel: TryIntoModel<F::Model>,
    {
        let mut out = Vec::new();
        let whole = self.query(
            stmt,
            |names| {
                let extra = trailing::<N>(names.len())?;
                Ok((slots::<E>("A_", names)?, slots::<F>("B_", names)?, extra))
            },
            |(a, b, extra), row| {
                let e =
                    model::<E>(row, a, false)?.ok_or_else(|| DbErr::Type("an empty row".into()))?;
                let mut ints = [None; N];
                for (v, i) in ints.iter_mut().zip(extra.clone()) {
                    *v = integer(row, i)?;
                }
                out.push(((e, model::<F>(row, b, true)?), ints));
                Ok(())
            },
        )?;
        Ok(whole.then_some(out))
    }
}

/// The integer in `row`'s column `i` (null as `None`).
fn integer(row: &rusqlite::Row<'_>, i: usize) -> Result<Option<i64>, DbErr> {
    match row.get_ref(i).map_err(sqlite_err)? {
        ValueRef::Null => Ok(None),
        ValueRef::Integer(n) => Ok(Some(n)),
        other => Err(type_error(&i.to_string(), Kind::BigInt, other)),
    }
}

/// The indexes of the last `N` of `columns` columns.
pub(crate) fn trailing<const N: usize>(columns: usize) -> Result<std::ops::Range<usize>, DbErr> {
    columns
        .checked_sub(N)
        .map(|first| first..columns)
        .ok_or_else(|| DbErr::Type(format!("{columns} columns read, {N} more expected")))
}
