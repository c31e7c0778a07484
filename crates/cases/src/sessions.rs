//! Logins that can be ended: the web pages' sessions, kept as `web_session` rows so that logging
//! out (or an admin, or a password change) ends one at once, and `revoke`, which ends every
//! session of a user and invalidates their access tokens by bumping `token_version`.
//!
//! A session's secret (32 random bytes) is only ever in the browser's signed cookie; the row's
//! key is its SHA-256, so a copy of the table opens nothing.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use lots_core::{Actor, Clock, Role};
use lots_store::Db;
use lots_store::entity::{app_user, web_session};
use lots_store::identity::Change;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{ServiceError, ServiceResult, require_admin};
use crate::stored::stored;

/// A session's `last_seen_at` is written at most this often, so that browsing is not a write
/// per page.
const TOUCH_EVERY_SECONDS: i64 = 300;
/// How much of a browser's `User-Agent` is kept.
const USER_AGENT_CHARS: usize = 200;
/// How much of a session's key an admin sees: enough to tell sessions apart, too little to use.
const ID_PREFIX_CHARS: usize = 12;

/// A session just started: the secret goes into the cookie and is never stored.
#[derive(Clone)]
pub struct NewSession {
    pub secret: String,
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for NewSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewSession")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// A live session and who it belongs to, as the user's row says now.
#[derive(Debug, Clone)]
pub struct LiveSession {
    /// The row's key (the SHA-256 of the secret).
    pub id: String,
    pub csrf: String,
    pub expires_at: DateTime<Utc>,
    pub actor: Actor,
    pub display_name: String,
    /// The user's department code.
    pub department: Option<String>,
}

/// A web session as an admin sees it: never its secret, only the start of its key.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(example = json!({"id": "3f9a0c12b7e4", "created_at": "2026-11-27T08:02:11Z", "expires_at": "2026-11-27T16:02:11Z", "last_seen_at": "2026-11-27T09:15:40Z", "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"}))]
pub struct SessionView {
    /// The first characters of the session's key (the SHA-256 of its secret).
    pub id: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// When the session was last used (to within five minutes).
    pub last_seen_at: Option<DateTime<Utc>>,
    /// The browser's `User-Agent` when it logged in, shortened.
    pub user_agent: Option<String>,
}

/// The key a session's row is stored under.
pub fn session_id(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Ends every web session of `user_id` and invalidates every access token issued to them, in
/// the caller's transaction.
pub async fn revoke<C: ConnectionTrait>(conn: &C, user_id: i64) -> ServiceResult<()> {
    app_user::Entity::update_many()
        .col_expr(
            app_user::Column::TokenVersion,
            Expr::col(app_user::Column::TokenVersion).add(1),
        )
        .filter(app_user::Column::Id.eq(user_id))
        .exec(conn)
        .await?;
    web_session::Entity::delete_many()
        .filter(web_session::Column::UserId.eq(user_id))
        .exec(conn)
        .await?;
    Ok(())
}

/// The web sessions: started at login, looked up on every request, ended at logout.
#[derive(Debug, Clone)]
pub struct Sessions {
    db: Db,
    clock: Arc<dyn Clock>,
}

impl Sessions {
    pub fn new(db: Db, clock: Arc<dyn Clock>) -> Self {
        Self { db, clock }
    }

    /// Starts a session of `ttl` for `user_id` (who has just proved their password), with a
    /// fresh CSRF token. Expired sessions of everyone are cleared out on the way.
    pub async fn start(
        &self,
        user_id: i64,
        user_agent: Option<&str>,
        ttl: Duration,
    ) -> ServiceResult<NewSession> {
        let now = self.clock.now();
        let secret = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
        let csrf = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 24]>());
        let expires_at = now + ttl;
        web_session::Entity::delete_many()
            .filter(web_session::Column::ExpiresAt.lt(now))
            .exec(self.db.writer())
            .await?;
        web_session::ActiveModel {
            id: Set(session_id(&secret)),
            user_id: Set(user_id),
            csrf: Set(csrf),
            created_at: Set(now),
            expires_at: Set(expires_at),
            last_seen_at: Set(Some(now)),
            user_agent: Set(user_agent
                .map(|ua| ua.chars().take(USER_AGENT_CHARS).collect::<String>())
                .filter(|ua| !ua.trim().is_empty())),
        }
        .insert(self.db.writer())
        .await?;
        Ok(NewSession { secret, expires_at })
    }

    /// The session whose secret is `secret`, if its row exists, it has not expired and its user
    /// is active; the actor is built from the user's row as it is now.
    pub async fn resolve(&self, secret: &str) -> ServiceResult<Option<LiveSession>> {
        let now = self.clock.now();
        let Some(row) = self.db.session_row(&session_id(secret)).await? else {
            return Ok(None);
        };
        if row.expires_at <= now {
            return Ok(None);
        }
        let Some(user) = self.db.user_row(row.user_id).await? else {
            return Ok(None);
        };
        if !user.user.active {
            return Ok(None);
        }
        let role: Role = stored("app_user", user.user.id, &user.user.role)?;
        if row
            .last_seen_at
            .is_none_or(|t| (now - t).num_seconds() >= TOUCH_EVERY_SECONDS)
        {
            self.touch(&row, now).await;
        }
        Ok(Some(LiveSession {
            id: row.id.clone(),
            csrf: row.csrf.clone(),
            expires_at: row.expires_at,
            actor: Actor {
                user_id: user.user.id,
                username: user.user.username.clone(),
                role,
                department_id: user.user.department_id,
            },
            display_name: user.user.display_name.clone(),
            department: user.department.clone(),
        }))
    }

    /// Notes that a session was used; a failure only costs the note, never the request.
    async fn touch(&self, row: &web_session::Model, now: DateTime<Utc>) {
        let result = web_session::Entity::update_many()
            .col_expr(web_session::Column::LastSeenAt, Expr::value(now))
            .filter(web_session::Column::Id.eq(&row.id))
            .exec(self.db.writer())
            .await;
        match result {
            Ok(_) => self.db.session_noted(web_session::Model {
                last_seen_at: Some(now),
                ..row.clone()
            }),
            Err(e) => tracing::warn!(error = %e, "cannot note when a web session was last used"),
        }
    }

    /// Ends the session with key `id` (logging out).
    pub async fn end(&self, id: &str) -> ServiceResult<()> {
        web_session::Entity::delete_by_id(id.to_string())
            .exec(self.db.writer())
            .await?;
        self.db.forget(&Change::Session(id.to_string()));
        Ok(())
    }

    /// The live web sessions of user `user_id`, newest first (admin).
    pub async fn list(&self, actor: &Actor, user_id: i64) -> ServiceResult<Vec<SessionView>> {
        self.admin_on_user(actor, user_id).await?;
        self.views(user_id).await
    }

    /// The caller's own live web sessions, newest first.
    pub async fn list_own(&self, actor: &Actor) -> ServiceResult<Vec<SessionView>> {
        self.views(actor.user_id).await
    }

    /// Ends one of the caller's own web sessions, named by the `id` its listing shows. Another
    /// user's session is "not found", as is one that has ended.
    pub async fn end_own(&self, actor: &Actor, id: &str) -> ServiceResult<()> {
        self.end_of(actor.user_id, id).await
    }

    /// Ends one web session of user `user_id`, by the `id` its listing shows (admin). Their
    /// other sessions and their tokens go on working.
    pub async fn end_one(&self, actor: &Actor, user_id: i64, id: &str) -> ServiceResult<()> {
        self.admin_on_user(actor, user_id).await?;
        self.end_of(user_id, id).await
    }

    async fn end_of(&self, user_id: i64, id: &str) -> ServiceResult<()> {
        if id.len() != ID_PREFIX_CHARS || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ServiceError::NotFound("session"));
        }
        let mine = web_session::Entity::find()
            .filter(web_session::Column::UserId.eq(user_id))
            .filter(web_session::Column::Id.starts_with(id.to_ascii_lowercase()))
            .all(self.db.writer())
            .await?;
        if mine.is_empty() {
            return Err(ServiceError::NotFound("session"));
        }
        for s in mine {
            self.end(&s.id).await?;
        }
        Ok(())
    }

    async fn views(&self, user_id: i64) -> ServiceResult<Vec<SessionView>> {
        let now = self.clock.now();
        Ok(web_session::Entity::find()
            .filter(web_session::Column::UserId.eq(user_id))
            .order_by_desc(web_session::Column::CreatedAt)
            .all(self.db.reader())
            .await?
            .into_iter()
            .filter(|s| s.expires_at > now)
            .map(|s| SessionView {
                id: s.id.chars().take(ID_PREFIX_CHARS).collect(),
                created_at: s.created_at,
                expires_at: s.expires_at,
                last_seen_at: s.last_seen_at,
                user_agent: s.user_agent,
            })
            .collect())
    }

    /// Ends every web session of user `user_id` and invalidates their access tokens (admin).
    pub async fn end_all(&self, actor: &Actor, user_id: i64) -> ServiceResult<()> {
        self.admin_on_user(actor, user_id).await?;
        let tx = self.db.begin().await?;
        revoke(&tx, user_id).await?;
        tx.commit().await?;
        self.db.forget(&Change::User(user_id));
        Ok(())
    }

    async fn admin_on_user(&self, actor: &Actor, user_id: i64) -> ServiceResult<()> {
        require_admin(actor, "only an admin manages other people's sessions")?;
        app_user::Entity::find_by_id(user_id)
            .one(self.db.reader())
            .await?
            .ok_or(ServiceError::NotFound("user"))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_key_is_the_sha256_of_the_secret_in_hex() {
        assert_eq!(
            super::session_id("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
