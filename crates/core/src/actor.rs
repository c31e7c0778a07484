//! Who is asking. Every service function takes an `Actor` built from a verified token or
//! session; what that lets them see and do is decided in `access`, and nowhere else.

use serde::{Deserialize, Serialize};

/// A user's role. Officers handle their department's cases; managers also reassign and see
/// their department's figures; admins manage departments, users and everything else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Officer,
    Manager,
    Admin,
}

crate::text_enum!(Role, "role", { Officer => "officer", Manager => "manager", Admin => "admin" });

/// The verified caller of a service function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: i64,
    pub username: String,
    pub role: Role,
    /// The department the user belongs to; `None` only for admins.
    pub department_id: Option<i64>,
}

/// A company representative, signed in with e-legitimation through the companies' identity
/// provider. Not an officer: no `Actor` is ever built from one, so no officer's service function
/// can be reached with it. What they may see is decided by the parties they are on a case as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Representative {
    pub personal_number: crate::PersonalNumber,
    /// The name the provider gave, if any.
    pub name: Option<String>,
}

impl Actor {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_text() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>(), Ok(*r));
        }
        assert!("root".parse::<Role>().is_err());
    }
}
