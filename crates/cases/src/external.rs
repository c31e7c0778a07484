//! Users who sign in through the municipality's identity provider (OpenID Connect). The
//! provider's claims, mapped by the configuration to a role and a department, decide who the
//! user is in Lots: a first sign-in creates the user (just in time), a later one brings role,
//! department and name up to date. The durable key is the provider's `iss` and `sub`
//! (`app_user.external_subject`); a local account of the same username is taken over the first
//! time, except the break-glass admin, which stays local. An external user has no password
//! (`password_hash` is `!`, which no password matches), and one deactivated in Lots stays so
//! whatever the provider says.

use lots_core::Role;
use lots_store::entity::app_user;
use lots_store::identity::Change;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use crate::directory::{Directory, LoggedIn};
use crate::error::{ServiceError, ServiceResult};
use crate::sessions::revoke;

/// What an external user's `password_hash` holds: not a hash, so no password matches it.
pub const NO_PASSWORD: &str = "!";

/// Who the identity provider says signed in, after the mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalIdentity {
    /// `"{iss} {sub}"`.
    pub subject: String,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    /// A department code; required for officers and managers.
    pub department: Option<String>,
}

/// Why a sign-in that the provider vouched for is still refused (shown to the person in
/// Swedish by the page, logged in English).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the account is deactivated in Lots")]
    Deactivated,
    #[error("the username is used by another identity")]
    UsernameTaken,
    #[error("the username is the break-glass admin's, which only signs in with its password")]
    BreakGlass,
    #[error("the claims give no usable username")]
    BadUsername,
    #[error("the mapping names department `{0}`, which Lots does not have")]
    UnknownDepartment(String),
}

/// A username as Lots keeps an external one: trimmed and lower-cased, 2–128 characters, no
/// white space or control characters (an e-mail address as Entra ID gives it is fine).
pub fn external_username(raw: &str) -> Option<String> {
    let name = raw.trim().to_lowercase();
    let ok = (2..=128).contains(&name.chars().count())
        && !name.chars().any(|c| c.is_whitespace() || c.is_control());
    ok.then_some(name)
}

impl Directory {
    /// Creates or updates the user `who` describes and returns them logged in; `break_glass` is
    /// the username that never signs in this way. A change of role or department ends the
    /// user's earlier logins, as an admin's change would.
    pub async fn provision(
        &self,
        who: &ExternalIdentity,
        break_glass: Option<&str>,
    ) -> ServiceResult<Result<LoggedIn, Refusal>> {
        if external_username(&who.username).as_deref() != Some(who.username.as_str()) {
            return Ok(Err(Refusal::BadUsername));
        }
        if break_glass == Some(who.username.as_str()) {
            return Ok(Err(Refusal::BreakGlass));
        }
        let department = match &who.department {
            Some(code) => match self.department_by_code(code).await? {
                Some(d) => Some(d),
                None => return Ok(Err(Refusal::UnknownDepartment(code.clone()))),
            },
            None => None,
        };
        let department_id = department.as_ref().map(|d| d.id);
        let tx = self.db().begin().await?;
        let by_subject = app_user::Entity::find()
            .filter(app_user::Column::ExternalSubject.eq(&who.subject))
            .one(&tx)
            .await?;
        let by_name = app_user::Entity::find()
            .filter(app_user::Column::Username.eq(&who.username))
            .one(&tx)
            .await?;
        let existing = match (by_subject, by_name) {
            // The provider renamed them to a name someone else in Lots has.
            (Some(u), Some(other)) if other.id != u.id => return Ok(Err(Refusal::UsernameTaken)),
            (Some(u), _) => Some(u),
            (None, Some(u)) if u.external_subject.is_some() => {
                return Ok(Err(Refusal::UsernameTaken));
            }
            (None, found) => found,
        };
        let user = match existing {
            Some(u) if !u.active => return Ok(Err(Refusal::Deactivated)),
            Some(u) => {
                let moved = u.role != who.role.as_str() || u.department_id != department_id;
                let id = u.id;
                let updated = app_user::ActiveModel {
                    id: Set(id),
                    username: Set(who.username.clone()),
                    display_name: Set(who.display_name.clone()),
                    role: Set(who.role.as_str().to_string()),
                    department_id: Set(department_id),
                    external_subject: Set(Some(who.subject.clone())),
                    password_hash: Set(NO_PASSWORD.to_string()),
                    ..Default::default()
                }
                .update(&tx)
                .await?;
                if moved {
                    revoke(&tx, id).await?;
                }
                updated
            }
            None => {
                app_user::ActiveModel {
                    username: Set(who.username.clone()),
                    display_name: Set(who.display_name.clone()),
                    password_hash: Set(NO_PASSWORD.to_string()),
                    role: Set(who.role.as_str().to_string()),
                    department_id: Set(department_id),
                    active: Set(true),
                    created_at: Set(self.now()),
                    token_version: Set(0),
                    external_subject: Set(Some(who.subject.clone())),
                    ..Default::default()
                }
                .insert(&tx)
                .await?
            }
        };
        tx.commit().await?;
        self.db().forget(&Change::User(user.id));
        let fresh = app_user::Entity::find_by_id(user.id)
            .one(self.db().writer())
            .await?
            .ok_or(ServiceError::NotFound("user"))?;
        Ok(Ok(self.logged_in(fresh).await?))
    }
}

#[cfg(test)]
mod tests {
    use super::external_username;

    #[test]
    fn external_usernames_are_lower_case_without_spaces() {
        assert_eq!(
            external_username(" Anna.Lind@Kommun.SE "),
            Some("anna.lind@kommun.se".into())
        );
        assert_eq!(external_username("a"), None);
        assert_eq!(external_username("anna lind"), None);
        assert_eq!(external_username("anna\u{0}"), None);
        assert_eq!(external_username(&"x".repeat(129)), None);
    }
}
