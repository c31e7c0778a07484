//! lots-store: the database. Entities, connecting (SQLite pragmas, one writer; a Postgres pool),
//! transactions, and appending to the event log.

pub mod bulk;
mod by_index;
pub mod dialect;
pub mod direct;
pub mod entity;
pub mod events;
pub mod identity;
pub mod lookup;
pub mod mail;
pub mod outbox;
pub mod partitions;
pub mod prefetch;
pub mod settings;
pub mod stored;
pub mod touch;
pub mod wal;

use std::str::FromStr;
use std::time::Duration;

use sea_orm::sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
};
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    EntityTrait, QuerySelect, QueryTrait, Select, SelectTwo, SqliteTransactionMode,
    SqlxSqliteConnector, TransactionOptions, TransactionTrait,
};

pub use sea_orm;

/// Whether a connection given back to its pool holds no open transaction. A transaction
/// abandoned without a rollback queued (a future dropped at the wrong moment: a client that hung
/// up mid-request) would otherwise swallow the next user's statements, which would then never
/// commit; such a connection is closed instead of reused.
fn outside_transaction<D: sea_orm::sqlx::Database>(conn: &D::Connection) -> bool {
    use sea_orm::sqlx::Connection;
    let open = conn.is_in_transaction();
    if open {
        tracing::warn!("a connection came back to the pool inside a transaction: closed");
    }
    !open
}

/// A pooled PostgreSQL connection is checked with a round trip (`Sync`, then waiting for the
/// server's answer) before it is handed out only when it has lain idle this long. sqlx checks
/// every one by default, which doubled the round trips of a request that reads one statement
/// (a case by its id). A connection in use a moment ago is alive; one idle longer may have been
/// closed by a restarted server, a proxy or a firewall, and is replaced before anyone uses it.
/// (HikariCP skips the check for 500 ms, for the same reason.)
pub const PING_WHEN_IDLE_FOR: Duration = Duration::from_secs(1);

/// How Lots connects to PostgreSQL: `max` connections (at least `min` kept open), JIT off, and
/// the server settings given.
fn postgres_options(
    url: &str,
    max: u32,
    min: u32,
    settings: &[(&'static str, &'static str)],
) -> ConnectOptions {
    let mut options = vec![("jit", "off")];
    options.extend_from_slice(settings);
    let mut opts = ConnectOptions::new(url);
    opts.max_connections(max)
        .min_connections(min)
        .acquire_timeout(Duration::from_secs(30))
        .test_before_acquire_if_idle_for(PING_WHEN_IDLE_FOR)
        .sqlx_logging(false)
        // Lots' queries are short; JIT compiling one whose estimate is high (a search
        // walking cases one by one) took 265 ms of a 430 ms query in the soak.
        .map_sqlx_postgres_opts(move |o| o.options(options.iter().copied()))
        .map_sqlx_postgres_pool_opts(|o| {
            o.after_release(|conn, _| {
                Box::pin(async move { Ok(outside_transaction::<sea_orm::sqlx::Postgres>(conn)) })
            })
        });
    opts
}

/// The database: a writer and readers. On SQLite the writer is a single connection, so writes
/// queue in the pool instead of failing with SQLITE_BUSY, while readers run in parallel (WAL).
/// On PostgreSQL both are the same pool.
#[derive(Debug, Clone)]
pub struct Db {
    write: DatabaseConnection,
    read: DatabaseConnection,
    /// The metrics' reads (`Db::analytics`).
    analytics: DatabaseConnection,
    /// How the writer connects, for a SQLite file (bulk imports open a connection of their own).
    /// Behind an `Arc`: every service holds a `Db` and every request clones the services, and
    /// the options (a map of pragmas) cost an allocation per entry to clone.
    sqlite_file: Option<std::sync::Arc<SqliteConnectOptions>>,
    /// Reads on the calling thread, within a budget of SQLite's work, for a SQLite file
    /// (`direct`).
    direct: Option<std::sync::Arc<direct::DirectReads>>,
    /// The users and web sessions that requests check, kept in memory (`identity`).
    identities: std::sync::Arc<identity::IdentityCache>,
}

impl Db {
    pub async fn connect(url: &str) -> Result<Self, DbErr> {
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .map_err(|e| {
                    DbErr::Conn(sea_orm::RuntimeErr::Internal(format!(
                        "bad SQLite URL: {e}"
                    )))
                })?
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            let connect = |max: u32, opts: SqliteConnectOptions| async move {
                SqlitePoolOptions::new()
                    .max_connections(max)
                    .min_connections(1)
                    .acquire_timeout(Duration::from_secs(30))
                    // A connection to a local file does not go stale; checking it would send
                    // a command to its worker thread and wait for the answer, every statement.
                    .test_before_acquire(false)
                    .after_release(|conn, _| {
                        Box::pin(
                            async move { Ok(outside_transaction::<sea_orm::sqlx::Sqlite>(conn)) },
                        )
                    })
                    .connect_with(opts)
                    .await
                    .map_err(|e| {
                        DbErr::Conn(sea_orm::RuntimeErr::Internal(format!(
                            "cannot open SQLite database: {e}"
                        )))
                    })
            };
            // The writer first: it creates the file (mode=rwc) and switches it to WAL.
            // The writer keeps 64 MiB of pages: index pages that a bulk import or a busy hour
            // touches again stay in memory instead of being read back from the file.
            let writer_options = options.clone().pragma("cache_size", "-65536");
            let write = connect(1, writer_options.clone()).await?;
            let read = connect(4, options.read_only(true)).await?;
            let in_memory = url.contains(":memory:") || url.contains("mode=memory");
            let read = SqlxSqliteConnector::from_sqlx_sqlite_pool(read);
            Ok(Self {
                write: SqlxSqliteConnector::from_sqlx_sqlite_pool(write),
                analytics: read.clone(),
                read,
                direct: (!in_memory).then(|| {
                    std::sync::Arc::new(direct::DirectReads::new(writer_options.get_filename()))
                }),
                sqlite_file: (!in_memory).then(|| std::sync::Arc::new(writer_options)),
                identities: std::sync::Arc::new(identity::IdentityCache::new(true)),
            })
        } else {
            let pool = Database::connect(postgres_options(url, 16, 1, &[])).await?;
            // Plans made for each query's values: a generic plan, made once for any dates and
            // area, walked a year's facts by date to find an area's sample (67 ms instead of 4).
            // And memory enough to hash a cut month's groups: with the default 4 MB the planner,
            // which cannot know that a month's 60 000 spans fall into a few hundred groups,
            // sorted them on disk (a month's handoffs at ten million cases: 100 ms instead of
            // 37).
            let analytics = Database::connect(postgres_options(
                url,
                4,
                0,
                &[
                    ("plan_cache_mode", "force_custom_plan"),
                    ("work_mem", "64MB"),
                ],
            ))
            .await?;
            Ok(Self {
                write: pool.clone(),
                read: pool,
                analytics,
                sqlite_file: None,
                direct: None,
                // Trusted once `identity::listen` hears other processes' changes.
                identities: std::sync::Arc::new(identity::IdentityCache::new(false)),
            })
        }
    }

    /// The connection for reads outside a transaction.
    pub fn reader(&self) -> &DatabaseConnection {
        &self.read
    }

    /// Every row `select` reads, outside a transaction. On a SQLite file read on the calling
    /// thread (`direct`), unless that outgrows a millisecond or two of SQLite's work: then on
    /// the readers.
    pub async fn read_all<E: EntityTrait>(&self, select: Select<E>) -> Result<Vec<E::Model>, DbErr>
    where
        E::ActiveModel: sea_orm::TryIntoModel<E::Model>,
    {
        if let Some(d) = &self.direct
            && let Some(rows) = d.all::<E>(&select.build(DbBackend::Sqlite))?
        {
            return Ok(rows);
        }
        let rows =
            sea_orm::ConnectionTrait::query_all_raw(self.reader(), select.build(self.backend()))
                .await?;
        by_index::models::<E>(&rows)
    }

    /// How many reads on the calling thread outgrew their budget and were read on the readers
    /// (`direct`); `None` where reads are not made on the calling thread.
    pub fn direct_reads_stopped(&self) -> Option<u64> {
        self.direct.as_ref().map(|d| d.stopped())
    }

    /// The rows of `E` whose column `case` is `id`, in the order of `E`'s key (oldest first),
    /// read as `read_all` reads: what a case page shows of each of its parts.
    pub async fn case_rows<E: EntityTrait>(
        &self,
        case: E::Column,
        id: i64,
    ) -> Result<Vec<E::Model>, DbErr>
    where
        E::ActiveModel: sea_orm::TryIntoModel<E::Model>,
    {
        use sea_orm::{ColumnTrait, Iterable, PrimaryKeyToColumn, QueryFilter, QueryOrder};
        let mut select = E::find().filter(case.eq(id));
        for key in E::PrimaryKey::iter() {
            select = select.order_by_asc(key.into_column());
        }
        self.read_all(select).await
    }

    /// The `N` integer columns of the first row `select` reads (counts, sums; null as `None`),
    /// as `read_all` reads; `None` when it reads no row.
    pub async fn read_integers<const N: usize, Q: QueryTrait + QuerySelect>(
        &self,
        select: Q,
    ) -> Result<Option<[Option<i64>; N]>, DbErr> {
        let stmt = select.limit(1).build(self.backend());
        if let Some(d) = &self.direct
            && let Some(first) = d.first_integers(&stmt)?
        {
            return first
                .map(|row| {
                    <[Option<i64>; N]>::try_from(row).map_err(|row| {
                        DbErr::Type(format!("{} columns read, {N} expected", row.len()))
                    })
                })
                .transpose();
        }
        use sea_orm::ConnectionTrait;
        let Some(row) = self.reader().query_one_raw(stmt).await? else {
            return Ok(None);
        };
        let mut values = [None; N];
        for (i, v) in values.iter_mut().enumerate() {
            *v = row.try_get_by_index::<Option<i64>>(i)?;
        }
        Ok(Some(values))
    }

    /// Every pair a `SelectTwo` reads (`F` absent where its columns are null), as `read_all`
    /// reads: one statement for both, where two would be one more round trip.
    pub async fn read_all_also<E: EntityTrait, F: EntityTrait>(
        &self,
        select: SelectTwo<E, F>,
    ) -> Result<Vec<direct::Pair<E, F>>, DbErr>
    where
        E::ActiveModel: sea_orm::TryIntoModel<E::Model>,
        F::ActiveModel: sea_orm::TryIntoModel<F::Model>,
    {
        let rows = self.read_all_also_with::<E, F, 0>(select).await?;
        Ok(rows.into_iter().map(|(pair, [])| pair).collect())
    }

    /// Every pair a `SelectTwo` reads, as `read_all_also`, each with the integers of the `N`
    /// columns the statement selects after the pair's (counts, flags; null as `None`).
    pub async fn read_all_also_with<E: EntityTrait, F: EntityTrait, const N: usize>(
        &self,
        select: SelectTwo<E, F>,
    ) -> Result<Vec<direct::PairWith<E, F, N>>, DbErr>
    where
        E::ActiveModel: sea_orm::TryIntoModel<E::Model>,
        F::ActiveModel: sea_orm::TryIntoModel<F::Model>,
    {
        if let Some(d) = &self.direct
            && let Some(rows) = d.all_also::<E, F, N>(&select.build(DbBackend::Sqlite))?
        {
            return Ok(rows);
        }
        let rows =
            sea_orm::ConnectionTrait::query_all_raw(self.reader(), select.build(self.backend()))
                .await?;
        by_index::pairs::<E, F, N>(&rows)
    }

    /// The connection for the metrics' reads outside a transaction. On PostgreSQL a pool of its
    /// own whose statements are planned for the values they are given each time: how many rows
    /// a date range or an area keeps varies by orders of magnitude, and a plan cached for one
    /// choice is slow for another. The everyday requests keep their cached plans. On SQLite,
    /// the readers.
    pub fn analytics(&self) -> &DatabaseConnection {
        &self.analytics
    }

    /// The connection for schema changes and one-off writes (migrations).
    pub fn writer(&self) -> &DatabaseConnection {
        &self.write
    }

    pub(crate) fn identities(&self) -> &std::sync::Arc<identity::IdentityCache> {
        &self.identities
    }

    /// The writer's connect options when the database is a SQLite file.
    pub(crate) fn bulk_options(&self) -> Option<&SqliteConnectOptions> {
        self.sqlite_file.as_deref()
    }

    pub fn backend(&self) -> DbBackend {
        self.write.get_database_backend()
    }

    /// Starts a write transaction. On SQLite it is `BEGIN IMMEDIATE`, so that the write lock is
    /// taken up front and a read-then-write can never be upgraded into a deadlock.
    pub async fn begin(&self) -> Result<DatabaseTransaction, DbErr> {
        let options = TransactionOptions {
            sqlite_transaction_mode: (self.backend() == DbBackend::Sqlite)
                .then_some(SqliteTransactionMode::Immediate),
            ..Default::default()
        };
        self.write.begin_with_options(options).await
    }

    /// Keeps the query planner's statistics current. SQLite only plans well with them (a
    /// department's open cases by status, an officer's own: measured in BENCHMARKS.md), and
    /// gathers them only when asked: `PRAGMA optimize=0x10002` analyses every table whose
    /// statistics are missing or stale, within a bounded effort. PostgreSQL's autovacuum keeps
    /// its own.
    pub async fn optimize(&self) -> Result<(), DbErr> {
        if self.backend() == DbBackend::Sqlite {
            use sea_orm::ConnectionTrait;
            self.write
                .execute_unprepared("PRAGMA optimize=0x10002")
                .await?;
        }
        Ok(())
    }

    /// Statistics after a bulk write: as [`Db::optimize`], and on PostgreSQL an `ANALYZE` now
    /// (sampled, so bounded), rather than whenever autovacuum notices the new rows: until then
    /// the planner takes an officer's thousands of cases for a few dozen and picks its plans
    /// by that (an overdue count read 12 000 rows for 211, measured in BENCHMARKS.md).
    pub async fn optimize_after_bulk(&self) -> Result<(), DbErr> {
        if self.backend() == DbBackend::Postgres {
            use sea_orm::ConnectionTrait;
            self.write.execute_unprepared("ANALYZE").await?;
        }
        self.optimize().await
    }

    /// Refreshes the planner's statistics of `tables` (names of ours) on PostgreSQL; SQLite's
    /// planner needs none of this.
    pub async fn analyze(&self, tables: &[&str]) -> Result<(), DbErr> {
        self.on_postgres_tables("ANALYZE", tables).await
    }

    /// On PostgreSQL, vacuums `tables` (names of ours): the rows a bulk drain deleted are
    /// then gone for every scan, whether autovacuum runs or not. SQLite frees them at once.
    pub async fn vacuum(&self, tables: &[&str]) -> Result<(), DbErr> {
        self.on_postgres_tables("VACUUM", tables).await
    }

    /// On PostgreSQL, vacuums `tables` and refreshes their statistics.
    pub async fn vacuum_analyze(&self, tables: &[&str]) -> Result<(), DbErr> {
        self.on_postgres_tables("VACUUM (ANALYZE)", tables).await
    }

    /// `command` over `tables` on PostgreSQL, outside any transaction; nothing on SQLite.
    async fn on_postgres_tables(&self, command: &str, tables: &[&str]) -> Result<(), DbErr> {
        if self.backend() == DbBackend::Postgres && !tables.is_empty() {
            use sea_orm::ConnectionTrait;
            self.write
                .execute_unprepared(&format!("{command} {}", tables.join(", ")))
                .await?;
        }
        Ok(())
    }

    /// Answers whether the database is reachable (for `/readyz`).
    pub async fn ping(&self) -> Result<(), DbErr> {
        self.read.ping().await?;
        self.write.ping().await
    }
}

/// Runs `round` now and then every `period` until `stop` resolves; a round that overran delays
/// the next rather than bunching them (the housekeeping of `wal` and `partitions`).
pub(crate) async fn every<F, Fut>(period: Duration, stop: impl Future<Output = ()>, mut round: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    tokio::pin!(stop);
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = &mut stop => return,
            _ = tick.tick() => {}
        }
        round().await;
    }
}
