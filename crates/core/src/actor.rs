//! Who is asking, and what that lets them see and do. Every service function takes an `Actor`
//! built from a verified token, so that a rule about access lives in one place.

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

impl Actor {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Whether the caller may read and act on cases owned by `department_id`.
    pub fn may_handle_department(&self, department_id: i64) -> bool {
        self.is_admin() || self.department_id == Some(department_id)
    }

    /// Whether the caller may give a case of `department_id` to someone else.
    pub fn may_reassign_in(&self, department_id: i64) -> bool {
        match self.role {
            Role::Admin => true,
            Role::Manager => self.department_id == Some(department_id),
            Role::Officer => false,
        }
    }

    /// Whether the caller may see what is confidential (sekretess) on a case owned by
    /// `department_id`: only that department's officers and managers, never anyone else, and
    /// not an admin, whose access is technical.
    pub fn may_see_confidential(&self, department_id: i64) -> bool {
        matches!(self.role, Role::Officer | Role::Manager)
            && self.department_id == Some(department_id)
    }

    /// The department the caller's reads are limited to; `None` means every department.
    pub fn department_scope(&self) -> Option<i64> {
        if self.is_admin() {
            None
        } else {
            // A non-admin without a department sees nothing; -1 matches no row.
            Some(self.department_id.unwrap_or(-1))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role, department_id: Option<i64>) -> Actor {
        Actor {
            user_id: 1,
            username: "u".into(),
            role,
            department_id,
        }
    }

    #[test]
    fn officers_handle_only_their_department_and_never_reassign() {
        let a = actor(Role::Officer, Some(3));
        assert!(a.may_handle_department(3));
        assert!(!a.may_handle_department(4));
        assert!(!a.may_reassign_in(3));
        assert_eq!(a.department_scope(), Some(3));
        assert!(a.may_see_confidential(3));
        assert!(!a.may_see_confidential(4));
    }

    #[test]
    fn managers_reassign_in_their_department_only() {
        let m = actor(Role::Manager, Some(3));
        assert!(m.may_reassign_in(3));
        assert!(!m.may_reassign_in(4));
        assert!(!m.may_handle_department(4));
    }

    #[test]
    fn admins_see_everything() {
        let a = actor(Role::Admin, None);
        assert!(a.may_handle_department(99));
        assert!(a.may_reassign_in(99));
        assert_eq!(a.department_scope(), None);
        assert!(!a.may_see_confidential(99));
    }

    #[test]
    fn roles_round_trip_through_text() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>(), Ok(*r));
        }
        assert!("root".parse::<Role>().is_err());
    }
}
