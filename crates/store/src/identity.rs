//! Who is signed in, kept in memory: the `app_user` rows (with their department's code) and the
//! `web_session` rows that every authenticated request checks, so that checking the caller costs
//! no query in the common case, and a change still refuses a token or a cookie at once.
//!
//! How a change reaches every reader:
//! - In the process that makes it: the writer calls [`Db::forget`] once the change to a user or
//!   the end of a session has committed. A lookup that read the database before the change cannot
//!   put the old row back afterwards: every forget moves a generation counter, and a row read
//!   under an older generation is handed out but not kept.
//! - In other processes on the same PostgreSQL database: a trigger on `app_user` (update,
//!   delete) and `web_session` (delete) sends `NOTIFY lots_identity` in the changing transaction
//!   (migration `m20261201_000009_identity_notify`), so it is delivered exactly when the change
//!   commits, whoever makes it; each process listens ([`listen`]) and forgets what it names.
//!   While the listener is not connected (at start, after a lost connection) the cache is not
//!   trusted: every lookup reads the database, and everything cached is dropped when the
//!   listener is back.
//! - SQLite is one `lots serve` process's database: the cache is trusted from the start, and a
//!   change made beside Lots (a SQL prompt) is seen only for rows not yet kept.
//!
//! Nothing here decides anything: the directory and the sessions compare what they get with the
//! token or the cookie, as they did when they read the rows themselves.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use sea_orm::{ColumnTrait, DbBackend, DbErr, EntityTrait, QueryFilter, QueryOrder};

use crate::Db;
use crate::entity::{app_user, case_type, department, web_session};

/// The PostgreSQL channel that carries identity changes between processes.
pub const CHANNEL: &str = "lots_identity";

/// More cached sessions than this and the session cache starts over (expired sessions are only
/// dropped when they are looked up).
const MAX_SESSIONS: usize = 100_000;

/// A user's row as a request checks it, with the code of their department.
#[derive(Debug, Clone, PartialEq)]
pub struct UserRow {
    pub user: app_user::Model,
    pub department: Option<String>,
}

/// What changed, for [`Db::forget`] (and as the triggers name it in their notifications).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A user's row (role, department, password, activity, token version, name): their cached
    /// row and every cached session of theirs go.
    User(i64),
    /// One web session (by its key) ended.
    Session(String),
    /// A department was added (departments are never changed or removed).
    Departments,
    /// A case type was added or changed.
    CaseTypes,
}

impl Change {
    #[cfg(test)]
    fn payload(&self) -> String {
        match self {
            Change::User(id) => format!("user:{id}"),
            Change::Session(id) => format!("session:{id}"),
            Change::Departments => "departments".to_string(),
            Change::CaseTypes => "case_types".to_string(),
        }
    }

    fn parse(payload: &str) -> Option<Change> {
        match payload {
            "departments" => return Some(Change::Departments),
            "case_types" => return Some(Change::CaseTypes),
            _ => {}
        }
        match payload.split_once(':')? {
            ("user", id) => id.parse().ok().map(Change::User),
            ("session", id) => Some(Change::Session(id.to_string())),
            _ => None,
        }
    }
}

/// The cache itself; one per [`Db`] (its clones share it).
#[derive(Debug)]
pub struct IdentityCache {
    generation: AtomicU64,
    trusted: AtomicBool,
    users: RwLock<HashMap<i64, Arc<UserRow>>>,
    sessions: RwLock<HashMap<String, Arc<web_session::Model>>>,
    departments: RwLock<Option<Arc<HashMap<i64, department::Model>>>>,
    /// Every case type (a short list an admin keeps), in the order they are offered.
    case_types: RwLock<Option<Arc<Vec<case_type::Model>>>>,
}

impl IdentityCache {
    pub(crate) fn new(trusted: bool) -> Self {
        Self {
            generation: AtomicU64::new(0),
            trusted: AtomicBool::new(trusted),
            users: RwLock::default(),
            sessions: RwLock::default(),
            departments: RwLock::default(),
            case_types: RwLock::default(),
        }
    }

    fn forget(&self, change: &Change) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        match change {
            Change::User(id) => {
                write(&self.users).remove(id);
                write(&self.sessions).retain(|_, s| s.user_id != *id);
            }
            Change::Session(id) => {
                write(&self.sessions).remove(id);
            }
            Change::Departments => *write(&self.departments) = None,
            Change::CaseTypes => *write(&self.case_types) = None,
        }
    }

    fn forget_all(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        write(&self.users).clear();
        write(&self.sessions).clear();
        *write(&self.departments) = None;
        *write(&self.case_types) = None;
    }

    fn set_trusted(&self, trusted: bool) {
        self.trusted.store(trusted, Ordering::SeqCst);
        self.forget_all();
    }

    /// The generation to read under, or `None` when the cache must not be used.
    fn reading(&self) -> Option<u64> {
        self.trusted
            .load(Ordering::SeqCst)
            .then(|| self.generation.load(Ordering::SeqCst))
    }

    /// Keeps what was read under `generation` unless something was forgotten since.
    fn keep<K: std::hash::Hash + Eq, V>(
        &self,
        map: &RwLock<HashMap<K, Arc<V>>>,
        generation: u64,
        key: K,
        value: Arc<V>,
    ) {
        let mut map = write(map);
        if self.generation.load(Ordering::SeqCst) == generation {
            map.insert(key, value);
        }
    }

    /// What a whole list's `slot` holds, when the cache may be read (`generation` is some).
    fn held<T>(&self, slot: &RwLock<Option<Arc<T>>>, generation: Option<u64>) -> Option<Arc<T>> {
        generation.and_then(|_| read(slot).clone())
    }

    /// Keeps a whole list read under `generation` unless something was forgotten since.
    fn keep_all<T>(&self, slot: &RwLock<Option<Arc<T>>>, generation: u64, all: Arc<T>) {
        let mut kept = write(slot);
        if self.generation.load(Ordering::SeqCst) == generation {
            *kept = Some(all);
        }
    }
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|p| p.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|p| p.into_inner())
}

impl Db {
    /// User `id`'s row and department code, from memory when it is there.
    pub async fn user_row(&self, id: i64) -> Result<Option<Arc<UserRow>>, DbErr> {
        Ok(self.user_rows([id]).await?.remove(&id))
    }

    /// The rows of users `ids` that exist: those in memory from there, the rest in one query.
    pub async fn user_rows(
        &self,
        ids: impl IntoIterator<Item = i64>,
    ) -> Result<HashMap<i64, Arc<UserRow>>, DbErr> {
        let cache = self.identities();
        let generation = cache.reading();
        let mut found = HashMap::new();
        let mut missing = Vec::new();
        {
            let users = read(&cache.users);
            for id in ids {
                match users.get(&id).filter(|_| generation.is_some()) {
                    Some(row) => {
                        found.insert(id, row.clone());
                    }
                    None => missing.push(id),
                }
            }
        }
        if missing.is_empty() {
            return Ok(found);
        }
        let departments = self.departments().await?;
        let loaded = crate::lookup::by_ids::<app_user::Entity, _>(
            self.reader(),
            app_user::Column::Id,
            missing,
            |u| u.id,
        )
        .await?;
        for (id, mut user) in loaded {
            // No request check needs the password's hash: it is not kept in memory.
            user.password_hash = String::new();
            let department = user
                .department_id
                .and_then(|d| departments.get(&d))
                .map(|d| d.code.clone());
            let row = Arc::new(UserRow { user, department });
            if let Some(g) = generation {
                cache.keep(&cache.users, g, id, row.clone());
            }
            found.insert(id, row);
        }
        Ok(found)
    }

    /// The web session with key `id`, from memory when it is there.
    pub async fn session_row(&self, id: &str) -> Result<Option<Arc<web_session::Model>>, DbErr> {
        let cache = self.identities();
        let generation = cache.reading();
        if generation.is_some()
            && let Some(row) = read(&cache.sessions).get(id)
        {
            return Ok(Some(row.clone()));
        }
        let Some(session) = web_session::Entity::find_by_id(id.to_string())
            .one(self.reader())
            .await?
        else {
            return Ok(None);
        };
        let row = Arc::new(session);
        if let Some(g) = generation {
            if read(&cache.sessions).len() >= MAX_SESSIONS {
                write(&cache.sessions).clear();
            }
            cache.keep(&cache.sessions, g, id.to_string(), row.clone());
        }
        Ok(Some(row))
    }

    /// Every department by id, from memory when it is there.
    pub async fn departments(&self) -> Result<Arc<HashMap<i64, department::Model>>, DbErr> {
        let cache = self.identities();
        let generation = cache.reading();
        if let Some(all) = cache.held(&cache.departments, generation) {
            return Ok(all);
        }
        let all = Arc::new(
            crate::lookup::all_by::<department::Entity, _, _>(self.reader(), |d| (d.id, d)).await?,
        );
        if let Some(g) = generation {
            cache.keep_all(&cache.departments, g, all.clone());
        }
        Ok(all)
    }

    /// Every case type in the order they are offered (position, then id), from memory when it
    /// is there.
    pub async fn case_types(&self) -> Result<Arc<Vec<case_type::Model>>, DbErr> {
        let cache = self.identities();
        let generation = cache.reading();
        if let Some(all) = cache.held(&cache.case_types, generation) {
            return Ok(all);
        }
        let all = Arc::new(
            case_type::Entity::find()
                .order_by_asc(case_type::Column::Position)
                .order_by_asc(case_type::Column::Id)
                .all(self.reader())
                .await?,
        );
        if let Some(g) = generation {
            cache.keep_all(&cache.case_types, g, all.clone());
        }
        Ok(all)
    }

    /// The department with `code`, from memory when it is there (a code not in memory is read:
    /// another process may just have added it).
    pub async fn department_by_code(&self, code: &str) -> Result<Option<department::Model>, DbErr> {
        if let Some(d) = self.departments().await?.values().find(|d| d.code == code) {
            return Ok(Some(d.clone()));
        }
        department::Entity::find()
            .filter(department::Column::Code.eq(code))
            .one(self.reader())
            .await
    }

    /// Replaces a cached session's row after a write that only notes its use (`last_seen_at`).
    pub fn session_noted(&self, row: web_session::Model) {
        let cache = self.identities();
        let mut sessions = write(&cache.sessions);
        if let Some(cached) = sessions.get_mut(&row.id) {
            *cached = Arc::new(row);
        }
    }

    /// Drops what `change` names from this process's cache. Call it once the change has
    /// committed.
    pub fn forget(&self, change: &Change) {
        self.identities().forget(change);
    }
}

/// Listens for other processes' changes until `stop` resolves (PostgreSQL; returns at once on
/// SQLite). The cache is trusted only while the listener is connected.
pub async fn listen(db: Db, stop: impl std::future::Future<Output = ()>) {
    if db.backend() != DbBackend::Postgres {
        return;
    }
    let cache = db.identities().clone();
    let pool = db.reader().get_postgres_connection_pool().clone();
    tokio::pin!(stop);
    loop {
        let connected = async {
            let mut listener = sea_orm::sqlx::postgres::PgListener::connect_with(&pool).await?;
            listener.listen(CHANNEL).await?;
            Ok::<_, sea_orm::sqlx::Error>(listener)
        };
        let mut listener = tokio::select! {
            _ = &mut stop => return,
            l = connected => match l {
                Ok(l) => l,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for identity changes; reading every login from the database");
                    tokio::select! {
                        _ = &mut stop => return,
                        _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => continue,
                    }
                }
            },
        };
        cache.set_trusted(true);
        loop {
            let next = tokio::select! {
                _ = &mut stop => return,
                n = listener.try_recv() => n,
            };
            match next {
                Ok(Some(n)) => match Change::parse(n.payload()) {
                    Some(change) => cache.forget(&change),
                    None => cache.forget_all(),
                },
                // The connection was lost: changes may have been missed.
                Ok(None) | Err(_) => {
                    cache.set_trusted(false);
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_survives_its_notification_payload() {
        for change in [
            Change::User(42),
            Change::Session("ab12".into()),
            Change::Departments,
            Change::CaseTypes,
        ] {
            assert_eq!(Change::parse(&change.payload()), Some(change));
        }
        assert_eq!(Change::parse("user:x"), None);
        assert_eq!(Change::parse("group:1"), None);
    }

    #[test]
    fn a_row_read_before_a_change_is_not_kept_after_it() {
        let cache = IdentityCache::new(true);
        let g = cache.reading().unwrap();
        cache.forget(&Change::User(1));
        cache.keep(
            &cache.users,
            g,
            1,
            Arc::new(UserRow {
                user: app_user::Model {
                    id: 1,
                    username: "anna".into(),
                    display_name: "Anna".into(),
                    password_hash: String::new(),
                    role: "officer".into(),
                    department_id: None,
                    active: true,
                    created_at: chrono::Utc::now(),
                    token_version: 0,
                    external_subject: None,
                },
                department: None,
            }),
        );
        assert!(read(&cache.users).is_empty());
    }

    #[test]
    fn an_untrusted_cache_is_not_read() {
        let cache = IdentityCache::new(false);
        assert_eq!(cache.reading(), None);
        cache.set_trusted(true);
        assert!(cache.reading().is_some());
    }
}
