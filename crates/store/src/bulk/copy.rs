//! PostgreSQL's fastest way in: `COPY … FROM STDIN (FORMAT binary)`. Each value is written in
//! its column's own binary format, which the server takes without parsing; so the encoder
//! needs each column's declared type (`PgTypes`, read once per import from the catalogue) and
//! refuses a pairing it does not know (the caller then inserts the table as before).
//! Format: <https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.4>.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::DbErr;

use super::{Column, Table};

/// A column type the encoder writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PgType {
    Int8,
    Int4,
    Int2,
    Float8,
    Float4,
    Bool,
    /// `text`, `varchar`, `bpchar`: UTF-8 bytes.
    Text,
    Json,
    Jsonb,
    Timestamptz,
    Timestamp,
    Date,
}

impl PgType {
    fn of(udt_name: &str) -> Option<Self> {
        Some(match udt_name {
            "int8" => Self::Int8,
            "int4" => Self::Int4,
            "int2" => Self::Int2,
            "float8" => Self::Float8,
            "float4" => Self::Float4,
            "bool" => Self::Bool,
            "text" | "varchar" | "bpchar" => Self::Text,
            "json" => Self::Json,
            "jsonb" => Self::Jsonb,
            "timestamptz" => Self::Timestamptz,
            "timestamp" => Self::Timestamp,
            "date" => Self::Date,
            _ => return None,
        })
    }
}

/// What the encoder needs of the schema: the declared type of each column, the single-column
/// foreign keys, which tables have triggers that fire on insert, and whether this role may turn
/// the foreign-key triggers off for a statement (see `Reference`).
#[derive(Debug, Clone, Default)]
pub struct PgTypes {
    types: HashMap<(String, String), PgType>,
    /// (table, column) → (referenced table, referenced column).
    foreign_keys: HashMap<(String, String), (String, String)>,
    /// Tables with a foreign key over several columns, or a trigger of their own that fires on
    /// insert: their rows are always checked by the server.
    server_checked: HashSet<String>,
    may_skip_triggers: bool,
}

impl PgTypes {
    /// From `(table, column, udt_name)` rows of `information_schema.columns`; types the
    /// encoder does not write are left out.
    pub fn from_rows(rows: impl IntoIterator<Item = (String, String, String)>) -> Self {
        Self {
            types: rows
                .into_iter()
                .filter_map(|(t, c, udt)| PgType::of(&udt).map(|ty| ((t, c), ty)))
                .collect(),
            ..Self::default()
        }
    }

    /// With the schema's foreign keys as `(table, columns, referenced table, referenced
    /// columns)`, the tables with insert triggers of their own, and whether this role may
    /// set `session_replication_role`.
    pub fn with_references(
        mut self,
        keys: impl IntoIterator<Item = (String, Vec<String>, String, Vec<String>)>,
        triggered: impl IntoIterator<Item = String>,
        may_skip_triggers: bool,
    ) -> Self {
        for (table, columns, referenced, ref_columns) in keys {
            match (columns.as_slice(), ref_columns.as_slice()) {
                ([c], [r]) => {
                    self.foreign_keys
                        .insert((table, c.clone()), (referenced, r.clone()));
                }
                _ => {
                    self.server_checked.insert(table);
                }
            }
        }
        self.server_checked.extend(triggered);
        self.may_skip_triggers = may_skip_triggers;
        self
    }

    fn get(&self, table: &str, column: &str) -> Option<PgType> {
        self.types
            .get(&(table.to_string(), column.to_string()))
            .copied()
    }

    fn references(&self, table: &str, column: &str) -> Option<&(String, String)> {
        self.foreign_keys
            .get(&(table.to_string(), column.to_string()))
    }
}

/// The rows a copied table's column points at, to be checked once per distinct id (with the
/// lock a foreign-key check takes) instead of by a trigger per row: on PostgreSQL the triggers
/// cost an import about two thirds of its time.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    pub column: &'static str,
    pub table: String,
    pub key: String,
    pub ids: Vec<i64>,
}

impl Reference {
    /// The query that locks the referenced rows as a foreign-key check does and answers
    /// those that exist.
    pub fn check_sql(&self) -> String {
        format!(
            "SELECT {key} FROM {table} WHERE {key} = ANY($1) FOR KEY SHARE",
            key = self.key,
            table = self.table
        )
    }
}

fn plain_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Microseconds from the Unix epoch to PostgreSQL's, 2000-01-01.
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;

fn pg_epoch_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default()
}

fn out_of_range(table: &str, column: &str) -> DbErr {
    DbErr::Custom(format!(
        "bulk COPY into {table}: a value of {column} does not fit its column"
    ))
}

/// One value on its way out: what a `Column` holds at a row.
enum Value<'a> {
    Null,
    Int(i64),
    Float(f64),
    Bool(bool),
    Text(&'a str),
    Time(DateTime<Utc>),
    Date(NaiveDate),
}

impl Column {
    fn value(&self, row: usize) -> Value<'_> {
        fn opt<T>(v: Option<T>, f: impl FnOnce(T) -> Value<'static>) -> Value<'static> {
            v.map_or(Value::Null, f)
        }
        match self {
            Self::Int(v) => Value::Int(v[row]),
            Self::OptInt(v) => opt(v[row], Value::Int),
            Self::SmallInt(v) => Value::Int(i64::from(v[row])),
            Self::OptSmallInt(v) => opt(v[row].map(i64::from), Value::Int),
            Self::Float(v) => Value::Float(v[row]),
            Self::OptFloat(v) => opt(v[row], Value::Float),
            Self::Bool(v) => Value::Bool(v[row]),
            Self::Text(v) | Self::Json(v) => Value::Text(&v[row]),
            Self::OptText(v) => v[row].as_deref().map_or(Value::Null, Value::Text),
            Self::Code(v) => Value::Text(&v[row]),
            Self::OptCode(v) => v[row].as_deref().map_or(Value::Null, Value::Text),
            Self::Time(v) => Value::Time(v[row]),
            Self::OptTime(v) => opt(v[row], Value::Time),
            Self::OptDate(v) => opt(v[row], Value::Date),
        }
    }
}

/// Appends one field: its length and bytes, or -1 for NULL. `None` when the value cannot be
/// written in the column's type.
fn put(out: &mut Vec<u8>, ty: PgType, v: Value<'_>) -> Option<()> {
    fn field(out: &mut Vec<u8>, bytes: &[u8]) -> Option<()> {
        out.extend_from_slice(&i32::try_from(bytes.len()).ok()?.to_be_bytes());
        out.extend_from_slice(bytes);
        Some(())
    }
    match (ty, v) {
        (_, Value::Null) => out.extend_from_slice(&(-1_i32).to_be_bytes()),
        (PgType::Int8, Value::Int(i)) => field(out, &i.to_be_bytes())?,
        (PgType::Int4, Value::Int(i)) => field(out, &i32::try_from(i).ok()?.to_be_bytes())?,
        (PgType::Int2, Value::Int(i)) => field(out, &i16::try_from(i).ok()?.to_be_bytes())?,
        (PgType::Float8, Value::Float(f)) => field(out, &f.to_be_bytes())?,
        (PgType::Float4, Value::Float(f)) => field(out, &(f as f32).to_be_bytes())?,
        (PgType::Bool, Value::Bool(b)) => field(out, &[u8::from(b)])?,
        (PgType::Text | PgType::Json, Value::Text(s)) => field(out, s.as_bytes())?,
        (PgType::Jsonb, Value::Text(s)) => {
            // jsonb's binary form: a version byte, then the text.
            let len = i32::try_from(s.len() + 1).ok()?;
            out.extend_from_slice(&len.to_be_bytes());
            out.push(1);
            out.extend_from_slice(s.as_bytes());
        }
        (PgType::Timestamptz | PgType::Timestamp, Value::Time(t)) => {
            field(out, &(t.timestamp_micros() - PG_EPOCH_MICROS).to_be_bytes())?;
        }
        (PgType::Date, Value::Date(d)) => {
            let days = i32::try_from((d - pg_epoch_date()).num_days()).ok()?;
            field(out, &days.to_be_bytes())?;
        }
        _ => return None,
    }
    Some(())
}

/// One binary `COPY` of a table's rows: the statement, its data, and, where the references
/// can be checked set-wise, the rows they point at (the copy then runs without the per-row
/// foreign-key triggers).
#[derive(Debug)]
pub struct Copy {
    pub sql: String,
    pub data: Vec<u8>,
    pub references: Option<Vec<Reference>>,
    /// The table and the `id`s its rows are written with, where they are given.
    pub keys: Option<(&'static str, Vec<i64>)>,
}

impl Table {
    /// The `COPY` of rows `start..end`, or `None` when the table cannot be copied (an `ON
    /// CONFLICT` clause, or a column of a type the encoder does not write): the caller inserts
    /// it instead. A value that does not fit its column is an error.
    pub(super) fn copy(
        &self,
        types: &PgTypes,
        start: usize,
        end: usize,
    ) -> Result<Option<Copy>, DbErr> {
        if self.on_conflict.is_some() {
            return Ok(None);
        }
        let Some(kinds) = self
            .columns
            .iter()
            .map(|(name, _)| types.get(self.name, name))
            .collect::<Option<Vec<PgType>>>()
        else {
            return Ok(None);
        };
        let width = i16::try_from(self.columns.len())
            .map_err(|_| DbErr::Custom("too many columns to copy".into()))?;
        let mut out = Vec::with_capacity((end - start) * (2 + 24 * self.columns.len()) + 21);
        out.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
        out.extend_from_slice(&0_i32.to_be_bytes()); // flags
        out.extend_from_slice(&0_i32.to_be_bytes()); // header extension
        for row in start..end {
            out.extend_from_slice(&width.to_be_bytes());
            for ((name, column), ty) in self.columns.iter().zip(&kinds) {
                if put(&mut out, *ty, column.value(row)).is_none() {
                    return Err(out_of_range(self.name, name));
                }
            }
        }
        out.extend_from_slice(&(-1_i16).to_be_bytes());
        let names: Vec<&str> = self.columns.iter().map(|(n, _)| *n).collect();
        Ok(Some(Copy {
            sql: format!(
                "COPY {} ({}) FROM STDIN (FORMAT binary)",
                self.name,
                names.join(", ")
            ),
            data: out,
            references: self.references(types, start, end),
            keys: self.columns.iter().find_map(|(name, column)| match column {
                Column::Int(ids) if *name == "id" => Some((self.name, ids[start..end].to_vec())),
                _ => None,
            }),
        }))
    }

    /// The rows `start..end` point at, per foreign key; `None` when they cannot all be checked
    /// so (the role may not skip triggers, the table has triggers or keys over several columns,
    /// a key column that is not an integer, a name that is not plain).
    fn references(&self, types: &PgTypes, start: usize, end: usize) -> Option<Vec<Reference>> {
        if !types.may_skip_triggers || types.server_checked.contains(self.name) {
            return None;
        }
        let mut out = Vec::new();
        for (name, column) in &self.columns {
            let Some((table, key)) = types.references(self.name, name) else {
                continue;
            };
            if !plain_name(table) || !plain_name(key) {
                return None;
            }
            let ids: BTreeSet<i64> = match column {
                Column::Int(v) => v[start..end].iter().copied().collect(),
                Column::OptInt(v) => v[start..end].iter().flatten().copied().collect(),
                _ => return None,
            };
            out.push(Reference {
                column: name,
                table: table.clone(),
                key: key.clone(),
                ids: ids.into_iter().collect(),
            });
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn types() -> PgTypes {
        PgTypes::from_rows(
            [
                ("t", "id", "int8"),
                ("t", "n", "int4"),
                ("t", "at", "timestamptz"),
                ("t", "on", "date"),
                ("t", "doc", "jsonb"),
                ("t", "name", "varchar"),
                ("t", "shape", "geometry"),
            ]
            .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string())),
        )
    }

    #[test]
    fn a_row_is_written_in_each_columns_binary_format() {
        let at = Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 1).unwrap();
        let t = Table::new("t")
            .column("id", Column::Int(vec![258]))
            .column("n", Column::OptInt(vec![None]))
            .column("at", Column::Time(vec![at]))
            .column(
                "on",
                Column::OptDate(vec![NaiveDate::from_ymd_opt(2000, 1, 3)]),
            )
            .column("doc", Column::Json(vec!["{}".into()]))
            .column("name", Column::Text(vec!["å".into()]));
        let copy = t.copy(&types(), 0, 1).unwrap().unwrap();
        let (sql, data) = (copy.sql, copy.data);
        assert_eq!(
            sql,
            "COPY t (id, n, at, on, doc, name) FROM STDIN (FORMAT binary)"
        );
        assert_eq!(copy.references, None, "this role may not skip triggers");
        let mut want: Vec<u8> = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0".to_vec();
        want.extend([0, 6]); // six fields
        want.extend([0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 1, 2]); // 258
        want.extend([0xff, 0xff, 0xff, 0xff]); // NULL
        want.extend([0, 0, 0, 8, 0, 0, 0, 0, 0, 0x0f, 0x42, 0x40]); // 1 000 000 µs
        want.extend([0, 0, 0, 4, 0, 0, 0, 2]); // two days
        want.extend([0, 0, 0, 3, 1, b'{', b'}']); // jsonb version 1
        want.extend([0, 0, 0, 2, 0xc3, 0xa5]); // "å"
        want.extend([0xff, 0xff]);
        assert_eq!(data, want);
    }

    #[test]
    fn the_rows_a_copy_points_at_are_listed_once_each_where_the_role_may_skip_triggers() {
        let keys = |multi: bool| {
            let mut k = vec![(
                "e".to_string(),
                vec!["case_id".to_string()],
                "case_record".to_string(),
                vec!["id".to_string()],
            )];
            if multi {
                k.push((
                    "e".into(),
                    vec!["a".into(), "b".into()],
                    "x".into(),
                    vec!["a".into(), "b".into()],
                ));
            }
            k
        };
        let schema = |multi: bool, triggered: Vec<String>, may: bool| {
            PgTypes::from_rows(
                [("e", "case_id", "int8"), ("e", "actor_id", "int8")]
                    .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string())),
            )
            .with_references(keys(multi), triggered, may)
        };
        let t = || {
            Table::new("e")
                .column("case_id", Column::Int(vec![7, 3, 7, 9]))
                .column("actor_id", Column::OptInt(vec![None, None, None, None]))
        };
        let copy = t()
            .copy(&schema(false, vec![], true), 0, 3)
            .unwrap()
            .unwrap();
        let refs = copy.references.unwrap();
        assert_eq!(refs.len(), 1);
        assert_eq!(
            (refs[0].column, refs[0].ids.as_slice()),
            ("case_id", &[3, 7][..])
        );
        assert_eq!(
            refs[0].check_sql(),
            "SELECT id FROM case_record WHERE id = ANY($1) FOR KEY SHARE"
        );
        // The server checks where the role may not skip triggers, the table has triggers of its
        // own, or a key spans columns.
        for server_checks in [
            schema(false, vec![], false),
            schema(false, vec!["e".into()], true),
            schema(true, vec![], true),
        ] {
            let copy = t().copy(&server_checks, 0, 3).unwrap().unwrap();
            assert!(copy.references.is_none());
        }
    }

    #[test]
    fn a_table_it_cannot_write_is_left_to_the_insert_and_a_value_too_big_is_an_error() {
        let shape = Table::new("t").column("shape", Column::Text(vec!["x".into()]));
        assert!(shape.copy(&types(), 0, 1).unwrap().is_none());
        let conflict = Table::new("t")
            .column("id", Column::Int(vec![1]))
            .on_conflict("ON CONFLICT (id) DO NOTHING");
        assert!(conflict.copy(&types(), 0, 1).unwrap().is_none());
        let big = Table::new("t").column("n", Column::Int(vec![i64::MAX]));
        assert!(big.copy(&types(), 0, 1).is_err());
        let mismatch = Table::new("t").column("at", Column::Int(vec![1]));
        assert!(mismatch.copy(&types(), 0, 1).is_err());
    }
}
