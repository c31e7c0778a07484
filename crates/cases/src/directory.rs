//! Departments and users: who works where, in what role, checking their passwords, and
//! changing them. Passwords are hashed with argon2id on the blocking pool, never on the async
//! runtime. A change that should end a user's logins (a new password, deactivation, another role
//! or department) revokes them in the same transaction (`sessions::revoke`).

use std::collections::HashMap;
use std::sync::Arc;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{DateTime, Utc};
use lots_core::reference::validate_prefix;
use lots_core::{Actor, Clock, Role};
use lots_store::Db;
use lots_store::entity::{app_user, department};
use lots_store::identity::Change;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::{Deserialize, Serialize};

use crate::cases::present;
use crate::error::{Problems, ServiceError, ServiceResult, conflict_if_duplicate, require_admin};
use crate::external::NO_PASSWORD;
use crate::password;
pub use crate::password::MIN_PASSWORD_LEN;
use crate::sessions::revoke;
use crate::stored::stored;

/// A department as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(example = json!({"id": 1, "code": "SBF", "name": "Samhällsbyggnadsförvaltningen", "diary_prefix": "BN"}))]
pub struct DepartmentView {
    pub id: i64,
    /// Short code used in the API (`SBF`).
    pub code: String,
    pub name: String,
    /// The prefix of its diarienummer (`BN` in `BN 2026/0042`).
    pub diary_prefix: String,
}

impl From<department::Model> for DepartmentView {
    fn from(d: department::Model) -> Self {
        Self {
            id: d.id,
            code: d.code,
            name: d.name,
            diary_prefix: d.diary_prefix,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"code": "SBF", "name": "Samhällsbyggnadsförvaltningen", "diary_prefix": "BN"}))]
pub struct NewDepartment {
    pub code: Option<String>,
    pub name: Option<String>,
    pub diary_prefix: Option<String>,
}

/// A user as the API shows it; never the password hash.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(example = json!({"id": 2, "username": "anna", "display_name": "Anna Lindqvist", "role": "officer", "department": "SBF", "active": true}))]
pub struct UserView {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    /// The department's code; null for an admin without one.
    pub department: Option<String>,
    /// An inactive user cannot log in.
    pub active: bool,
}

/// A user who has just proved their password, and the token version their tokens carry.
#[derive(Debug, Clone)]
pub struct LoggedIn {
    pub user: UserView,
    pub token_version: i64,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"username": "anna", "display_name": "Anna Lindqvist", "password": "a long passphrase", "role": "officer", "department": "SBF"}))]
pub struct NewUser {
    pub username: Option<String>,
    pub display_name: Option<String>,
    /// At least 12 characters and at most 1024 bytes; not the username, not a common password.
    pub password: Option<String>,
    pub role: Option<String>,
    /// Required for officers and managers.
    pub department: Option<String>,
}

/// `POST /api/v1/me/password`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"old_password": "the password I have now", "new_password": "a new and longer passphrase"}))]
pub struct PasswordChange {
    /// The caller's current password.
    pub old_password: Option<String>,
    /// At least 12 characters and at most 1024 bytes; not the username, not a common password,
    /// not the current one.
    pub new_password: Option<String>,
}

/// `PATCH /api/v1/users/{id}` (admin): only the fields present change. A new password,
/// `active: false`, another role or another department ends the user's logins.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"active": false}))]
pub struct UserPatch {
    pub display_name: Option<String>,
    /// At least 12 characters and at most 1024 bytes; not the username, not a common password.
    pub password: Option<String>,
    /// `false` deactivates the user (not yourself); `true` lets them log in again.
    pub active: Option<bool>,
    /// officer, manager or admin.
    pub role: Option<String>,
    /// A department code; `null` only for an admin.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub department: Option<Option<String>>,
}

#[derive(Debug, Clone)]
pub struct Directory {
    db: Db,
    clock: Arc<dyn Clock>,
    /// A hash verified when the username is unknown, so that an unknown user and a wrong
    /// password take the same time to answer.
    dummy_hash: Arc<String>,
}

impl Directory {
    pub fn new(db: Db, clock: Arc<dyn Clock>) -> Self {
        let dummy_hash =
            hash_password_now("not a real password, only for timing").unwrap_or_default();
        Self {
            db,
            clock,
            dummy_hash: Arc::new(dummy_hash),
        }
    }

    pub async fn list_departments(&self, _actor: &Actor) -> ServiceResult<Vec<DepartmentView>> {
        Ok(self
            .departments()
            .await?
            .into_values()
            .map(Into::into)
            .collect::<Vec<DepartmentView>>())
        .map(|mut v| {
            v.sort_by(|a, b| a.code.cmp(&b.code));
            v
        })
    }

    /// All departments by id, from the store's memory (a change forgets them there, in every
    /// process).
    pub async fn departments(&self) -> ServiceResult<HashMap<i64, department::Model>> {
        Ok(self.db.departments().await?.as_ref().clone())
    }

    pub async fn department_by_code(&self, code: &str) -> ServiceResult<Option<department::Model>> {
        Ok(self.db.department_by_code(code).await?)
    }

    /// The department a user's `department` field names, or a problem on that field.
    async fn named_department(
        &self,
        p: &mut Problems,
        code: &str,
    ) -> ServiceResult<Option<department::Model>> {
        let found = self.department_by_code(code).await?;
        if found.is_none() {
            p.add(
                "department",
                format!(
                    "no department has the code `{}`",
                    code.chars().take(32).collect::<String>()
                ),
            );
        }
        Ok(found)
    }

    pub async fn create_department(
        &self,
        actor: &Actor,
        input: NewDepartment,
    ) -> ServiceResult<DepartmentView> {
        require_admin(actor, "only an admin may create departments")?;
        self.add_department(input).await
    }

    /// Creates a department without an access check: for the CLI and the demo loader.
    pub async fn add_department(&self, input: NewDepartment) -> ServiceResult<DepartmentView> {
        let mut p = Problems::default();
        let code = p.text_of(
            "code",
            input.code.as_deref(),
            (1, 16),
            |ch| ch.is_ascii_uppercase() || ch.is_ascii_digit() || ch == '-' || ch == '_',
            "use capital letters A–Z, digits, `-` or `_`",
        );
        let name = p.text("name", input.name.as_deref(), 1, 200);
        let prefix = p.text("diary_prefix", input.diary_prefix.as_deref(), 1, 8);
        if let Some(pre) = &prefix {
            p.check("diary_prefix", validate_prefix(pre));
        }
        p.finish()?;
        let (Some(code), Some(name), Some(prefix)) = (code, name, prefix) else {
            return Err(ServiceError::Internal("validated fields missing".into()));
        };
        let model = department::ActiveModel {
            code: Set(code),
            name: Set(name),
            diary_prefix: Set(prefix),
            created_at: Set(self.clock.now()),
            ..Default::default()
        }
        .insert(self.db.writer())
        .await
        .map_err(conflict_if_duplicate(
            "a department with this code or diary prefix exists",
        ))?;
        self.db.forget(&Change::Departments);
        Ok(model.into())
    }

    pub async fn list_users(&self, actor: &Actor) -> ServiceResult<Vec<UserView>> {
        require_admin(actor, "only an admin may list users")?;
        let deps = self.departments().await?;
        let users = app_user::Entity::find()
            .order_by_asc(app_user::Column::Id)
            .all(self.db.reader())
            .await?;
        users.into_iter().map(|u| user_view(u, &deps)).collect()
    }

    pub async fn create_user(&self, actor: &Actor, input: NewUser) -> ServiceResult<UserView> {
        require_admin(actor, "only an admin may create users")?;
        self.add_user(input).await
    }

    /// Creates a user without an access check: for `lots user add` and the demo loader.
    pub async fn add_user(&self, input: NewUser) -> ServiceResult<UserView> {
        let mut p = Problems::default();
        let username = p.text_of(
            "username",
            input.username.as_deref(),
            (2, 64),
            |c| c.is_ascii_lowercase() || c.is_ascii_digit() || ".-_".contains(c),
            "use lower-case letters a–z, digits, `.`, `-` or `_`",
        );
        let display_name = match input.display_name.as_deref() {
            Some(name) => p.text("display_name", Some(name), 1, 200),
            None => username.clone(),
        };
        let password = match input.password.as_deref() {
            None => {
                p.add("password", "is required");
                None
            }
            Some(pw) => p
                .check("password", password::check(pw, username.as_deref()))
                .map(|()| pw.to_string()),
        };
        let role = match input.role.as_deref() {
            None => {
                p.add("role", "is required");
                None
            }
            Some(r) => p.check("role", r.parse::<Role>()),
        };
        let department = match input
            .department
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(code) => self.named_department(&mut p, code).await?,
            None => {
                if matches!(role, Some(Role::Officer | Role::Manager)) {
                    p.add("department", "is required for officers and managers");
                }
                None
            }
        };
        p.finish()?;
        let (Some(username), Some(display_name), Some(password), Some(role)) =
            (username, display_name, password, role)
        else {
            return Err(ServiceError::Internal("validated fields missing".into()));
        };
        let hash = hash_password(password).await?;
        let model = app_user::ActiveModel {
            username: Set(username),
            display_name: Set(display_name),
            password_hash: Set(hash),
            role: Set(role.as_str().to_string()),
            department_id: Set(department.as_ref().map(|d| d.id)),
            active: Set(true),
            created_at: Set(self.clock.now()),
            ..Default::default()
        }
        .insert(self.db.writer())
        .await
        .map_err(conflict_if_duplicate("the username is taken"))?;
        let deps = self.departments().await?;
        user_view(model, &deps)
    }

    /// Checks a username and password. An unknown user, an inactive one and a wrong password
    /// all answer `BadCredentials`, after the same amount of hashing work.
    pub async fn authenticate(&self, username: &str, password: &str) -> ServiceResult<LoggedIn> {
        let username = login_name(username);
        let user = if username.len() <= 64 {
            app_user::Entity::find()
                .filter(app_user::Column::Username.eq(username))
                .one(self.db.reader())
                .await?
        } else {
            None
        };
        // A user without a password (one who signs in through the identity provider) costs
        // the same hashing work as an unknown one, and fails like one.
        let hash = match &user {
            Some(u) if u.password_hash != NO_PASSWORD => u.password_hash.clone(),
            _ => self.dummy_hash.as_str().to_string(),
        };
        let ok = verify_password(password.to_string(), hash).await?;
        match user {
            Some(u) if ok && u.active && u.password_hash != NO_PASSWORD => self.logged_in(u).await,
            _ => Err(ServiceError::BadCredentials),
        }
    }

    /// `u` as a login: the view and the token version their tokens carry.
    pub(crate) async fn logged_in(&self, u: app_user::Model) -> ServiceResult<LoggedIn> {
        let deps = self.departments().await?;
        let token_version = u.token_version;
        Ok(LoggedIn {
            user: user_view(u, &deps)?,
            token_version,
        })
    }

    pub(crate) fn db(&self) -> &Db {
        &self.db
    }

    /// The actor for a verified token's subject, if the user still exists, is active, still
    /// has the role and department the token was issued for, and has not had their tokens
    /// revoked since (`token_version` is still the one the token carries).
    pub async fn actor_for(
        &self,
        user_id: i64,
        role: Role,
        department: Option<&str>,
        token_version: i64,
    ) -> ServiceResult<Option<Actor>> {
        let Some(row) = self.db.user_row(user_id).await? else {
            return Ok(None);
        };
        let u = &row.user;
        if !u.active
            || u.token_version != token_version
            || u.role != role.as_str()
            || row.department.as_deref() != department
        {
            return Ok(None);
        }
        Ok(Some(Actor {
            user_id: u.id,
            username: u.username.clone(),
            role,
            department_id: u.department_id,
        }))
    }

    pub async fn user(&self, user_id: i64) -> ServiceResult<Option<UserView>> {
        let deps = self.departments().await?;
        app_user::Entity::find_by_id(user_id)
            .one(self.db.reader())
            .await?
            .map(|u| user_view(u, &deps))
            .transpose()
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Changes the caller's own password. The current one must be given and right (a wrong one
    /// is a failed login: see `is_wrong_password`), the new one must meet the policy and differ
    /// from it. Then every web session of the caller ends and every token they hold stops
    /// working, the one of this request too.
    pub async fn change_password(&self, actor: &Actor, input: PasswordChange) -> ServiceResult<()> {
        let user = app_user::Entity::find_by_id(actor.user_id)
            .one(self.db.reader())
            .await?
            .ok_or(ServiceError::NotFound("user"))?;
        if user.password_hash == NO_PASSWORD {
            return Err(ServiceError::Conflict(
                "you sign in through the municipality's identity provider: change your password there".into(),
            ));
        }
        let mut p = Problems::default();
        let old = input.old_password.filter(|pw| !pw.is_empty());
        if old.is_none() {
            p.add("old_password", "is required");
        }
        let new = match input.new_password.as_deref() {
            None | Some("") => {
                p.add("new_password", "is required");
                None
            }
            Some(pw) => p
                .check("new_password", password::check(pw, Some(&user.username)))
                .map(|()| pw.to_string()),
        };
        if let Some(old) = &old {
            if !verify_password(old.clone(), user.password_hash.clone()).await? {
                p.add("old_password", WRONG_PASSWORD);
            } else if new.as_deref() == Some(old.as_str()) {
                p.add("new_password", "must differ from the current password");
            }
        }
        p.finish()?;
        let Some(new) = new else {
            return Err(ServiceError::Internal("validated fields missing".into()));
        };
        let hash = hash_password(new).await?;
        let tx = self.db.begin().await?;
        app_user::ActiveModel {
            id: Set(user.id),
            password_hash: Set(hash),
            ..Default::default()
        }
        .update(&tx)
        .await?;
        revoke(&tx, user.id).await?;
        tx.commit().await?;
        self.db.forget(&Change::User(user.id));
        Ok(())
    }

    /// Changes a user (admin): display name, password, active, role, department. A new
    /// password, deactivation, another role or another department ends the user's web sessions
    /// and invalidates their tokens in the same transaction. An admin cannot deactivate
    /// themselves.
    pub async fn update_user(
        &self,
        actor: &Actor,
        user_id: i64,
        patch: UserPatch,
    ) -> ServiceResult<UserView> {
        require_admin(actor, "only an admin may change users")?;
        let user = app_user::Entity::find_by_id(user_id)
            .one(self.db.reader())
            .await?
            .ok_or(ServiceError::NotFound("user"))?;
        let change = self.validate_patch(actor, &user, patch).await?;
        let revokes = change.password.is_some()
            || change.active == Some(false)
            || change.role.as_str() != user.role
            || change.department_id != user.department_id;
        let hash = match change.password {
            Some(pw) => Some(hash_password(pw).await?),
            None => None,
        };
        let mut model: app_user::ActiveModel = user.clone().into();
        if let Some(name) = change.display_name {
            model.display_name = Set(name);
        }
        if let Some(hash) = hash {
            model.password_hash = Set(hash);
        }
        if let Some(active) = change.active {
            model.active = Set(active);
        }
        if change.role.as_str() != user.role {
            model.role = Set(change.role.as_str().to_string());
        }
        if change.department_id != user.department_id {
            model.department_id = Set(change.department_id);
        }
        let tx = self.db.begin().await?;
        if model.is_changed() {
            model.update(&tx).await?;
        }
        if revokes {
            revoke(&tx, user.id).await?;
        }
        tx.commit().await?;
        self.db.forget(&Change::User(user.id));
        self.user(user.id)
            .await?
            .ok_or(ServiceError::NotFound("user"))
    }

    /// Checks a patch against the user it changes, naming every invalid field.
    async fn validate_patch(
        &self,
        actor: &Actor,
        user: &app_user::Model,
        patch: UserPatch,
    ) -> ServiceResult<ValidPatch> {
        let current_role: Role = user
            .role
            .parse()
            .map_err(|_| ServiceError::Internal(format!("user {} has an unknown role", user.id)))?;
        let mut p = Problems::default();
        let display_name = match patch.display_name.as_deref() {
            Some(name) => p.text("display_name", Some(name), 1, 200),
            None => None,
        };
        let password = patch.password.as_deref().and_then(|pw| {
            p.check("password", password::check(pw, Some(&user.username)))
                .map(|()| pw.to_string())
        });
        if patch.active == Some(false) && user.id == actor.user_id {
            p.add(
                "active",
                "you cannot deactivate yourself; ask another admin to",
            );
        }
        let role = match patch.role.as_deref() {
            Some(r) => p.check("role", r.parse::<Role>()),
            None => Some(current_role),
        };
        let department_id = match &patch.department {
            None => Some(user.department_id),
            Some(code) => match code.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
                None => Some(None),
                Some(code) => self
                    .named_department(&mut p, code)
                    .await?
                    .map(|d| Some(d.id)),
            },
        };
        let placement_changes =
            patch.role.is_some() || patch.department.is_some() || patch.active == Some(true);
        if placement_changes
            && matches!(role, Some(Role::Officer | Role::Manager))
            && department_id == Some(None)
        {
            p.add("department", "is required for officers and managers");
        }
        p.finish()?;
        let (Some(role), Some(department_id)) = (role, department_id) else {
            return Err(ServiceError::Internal("validated fields missing".into()));
        };
        Ok(ValidPatch {
            display_name,
            password,
            active: patch.active,
            role,
            department_id,
        })
    }
}

/// A checked `UserPatch`: the user's role and department as they will be.
struct ValidPatch {
    display_name: Option<String>,
    password: Option<String>,
    active: Option<bool>,
    role: Role,
    department_id: Option<i64>,
}

/// What a wrong current password in `change_password` says.
const WRONG_PASSWORD: &str = "is not your current password";

/// Whether `e` says the current password given to `change_password` was wrong: a failed login,
/// for the login throttle to count.
pub fn is_wrong_password(e: &ServiceError) -> bool {
    matches!(e, ServiceError::Validation(errors)
        if errors.iter().any(|f| f.field == "old_password" && f.message == WRONG_PASSWORD))
}

fn user_view(
    u: app_user::Model,
    deps: &HashMap<i64, department::Model>,
) -> ServiceResult<UserView> {
    Ok(UserView {
        id: u.id,
        role: stored("app_user", u.id, &u.role)?,
        department: u
            .department_id
            .and_then(|id| deps.get(&id))
            .map(|d| d.code.clone()),
        username: u.username,
        display_name: u.display_name,
        active: u.active,
    })
}

/// The name a login is looked up by, and counted under by the login throttle: the same form
/// for both, so that `"erik "` or a name behind a no-break space is the same name, not ten more
/// guesses. Leading and trailing Unicode white space (which includes U+00A0) and format
/// characters such as U+200B and U+FEFF are dropped.
pub fn login_name(raw: &str) -> &str {
    raw.trim_matches(|c: char| {
        c.is_whitespace() || matches!(c, '\u{200b}'..='\u{200d}' | '\u{2060}' | '\u{feff}')
    })
}

fn hash_password_now(password: &str) -> Result<String, ServiceError> {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>())
        .map_err(|e| ServiceError::Internal(format!("salt: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ServiceError::Internal(format!("hashing failed: {e}")))
}

/// Hashes with argon2id (the crate's default algorithm and parameters) off the async runtime.
pub async fn hash_password(password: String) -> ServiceResult<String> {
    tokio::task::spawn_blocking(move || hash_password_now(&password))
        .await
        .map_err(|e| ServiceError::Internal(format!("hashing task failed: {e}")))?
}

async fn verify_password(password: String, hash: String) -> ServiceResult<bool> {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash).is_ok_and(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
    })
    .await
    .map_err(|e| ServiceError::Internal(format!("verify task failed: {e}")))
}

#[cfg(test)]
mod tests {
    #[test]
    fn hashes_are_argon2id_and_salted() {
        let a = super::hash_password_now("correct horse").unwrap();
        let b = super::hash_password_now("correct horse").unwrap();
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert_ne!(a, b);
    }
}
