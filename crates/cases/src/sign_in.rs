//! Who may sign in with a password. Local accounts are the embedded default and the fallback;
//! once the municipality's identity provider is in place an admin can turn password sign-in
//! off for everyone but one break-glass admin, kept for the day the provider is down. The
//! configuration gives the default (`oidc.officers.local_login`); an admin's choice, kept in the
//! database, overrides it for every process sharing the database.

use lots_core::{Actor, Role};
use lots_store::entity::app_user;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};

use crate::directory::{Directory, login_name};
use crate::error::{Problems, ServiceResult, require_admin};
use crate::external::NO_PASSWORD;

const SETTING: &str = "sign_in_policy";

/// Who may sign in with a password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"local_login": false, "break_glass": "admin"}))]
pub struct SignInPolicy {
    /// Whether everyone with a local account may sign in with their password.
    pub local_login: bool,
    /// The admin who may always sign in with a password, even when `local_login` is false.
    pub break_glass: Option<String>,
}

impl SignInPolicy {
    /// Whether `username` (as typed) may sign in with a password.
    pub fn allows_password(&self, username: &str) -> bool {
        self.local_login
            || self
                .break_glass
                .as_deref()
                .is_some_and(|b| b == login_name(username))
    }
}

/// `PUT /api/v1/settings/sign-in`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"local_login": false, "break_glass": "admin"}))]
pub struct SignInPolicyInput {
    pub local_login: Option<bool>,
    /// An active admin with a password; required when `local_login` is false.
    pub break_glass: Option<String>,
}

impl Directory {
    /// The policy in force: the admin's, else the configured default.
    pub async fn sign_in_policy(
        &self,
        configured_local_login: bool,
    ) -> ServiceResult<SignInPolicy> {
        let stored = lots_store::settings::get(self.db().reader(), SETTING).await?;
        Ok(stored
            .and_then(|v| serde_json::from_str(&v).ok())
            .unwrap_or(SignInPolicy {
                local_login: configured_local_login,
                break_glass: None,
            }))
    }

    /// Sets the policy (admin). Turning password sign-in off needs an identity provider for
    /// officers (`provider_configured`) and a break-glass admin: an active admin with a
    /// password, so that someone can always get in.
    pub async fn set_sign_in_policy(
        &self,
        actor: &Actor,
        input: SignInPolicyInput,
        provider_configured: bool,
    ) -> ServiceResult<SignInPolicy> {
        require_admin(actor, "only an admin decides how people sign in")?;
        let mut p = Problems::default();
        let local_login = match input.local_login {
            Some(v) => v,
            None => {
                p.add("local_login", "is required");
                true
            }
        };
        if !local_login && !provider_configured {
            p.add(
                "local_login",
                "cannot be false: no identity provider for officers is configured ([oidc.officers])",
            );
        }
        let break_glass = match input.break_glass.as_deref().map(login_name) {
            Some("") | None => {
                if !local_login {
                    p.add(
                        "break_glass",
                        "is required when local_login is false: name an active admin with a password",
                    );
                }
                None
            }
            Some(name) => {
                let user = app_user::Entity::find()
                    .filter(app_user::Column::Username.eq(name))
                    .one(self.db().reader())
                    .await?;
                match user {
                    Some(u)
                        if u.active
                            && u.role == Role::Admin.as_str()
                            && u.password_hash != NO_PASSWORD =>
                    {
                        Some(u.username)
                    }
                    _ => {
                        p.add(
                            "break_glass",
                            "must be the username of an active admin who has a password",
                        );
                        None
                    }
                }
            }
        };
        p.finish()?;
        let policy = SignInPolicy {
            local_login,
            break_glass,
        };
        let value = serde_json::to_string(&policy)
            .map_err(|e| crate::error::ServiceError::Internal(e.to_string()))?;
        lots_store::settings::put(self.db().writer(), SETTING, &value, self.now()).await?;
        Ok(policy)
    }
}

#[cfg(test)]
mod tests {
    use super::SignInPolicy;

    #[test]
    fn only_the_break_glass_admin_keeps_the_password_when_local_login_is_off() {
        let off = SignInPolicy {
            local_login: false,
            break_glass: Some("admin".into()),
        };
        assert!(off.allows_password("admin"));
        assert!(off.allows_password(" admin\u{a0}"));
        assert!(!off.allows_password("anna"));
        let on = SignInPolicy {
            local_login: true,
            break_glass: None,
        };
        assert!(on.allows_password("anna"));
    }
}
