//! The password policy every new password meets: long enough, not absurdly long, not the
//! username, and not one of the most common passwords (the list in `common_passwords.txt`).
//! Length is what makes a password strong; the list stops the few that attackers try first.

use std::collections::HashSet;
use std::sync::OnceLock;

/// The fewest characters a password may have.
pub const MIN_PASSWORD_LEN: usize = 12;
/// The most bytes a password may have (argon2 would take any length; a request should not).
pub const MAX_PASSWORD_BYTES: usize = 1024;

const COMMON: &str = include_str!("common_passwords.txt");

fn common() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| {
        COMMON
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect()
    })
}

/// Whether `password` is on the list of common passwords (compared lower-cased).
pub fn is_common(password: &str) -> bool {
    common().contains(password.trim().to_lowercase().as_str())
}

/// Checks a new password for `username`; `Err` says why it is refused.
pub fn check(password: &str, username: Option<&str>) -> Result<(), String> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(format!("must be at least {MIN_PASSWORD_LEN} characters"));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(format!("must be at most {MAX_PASSWORD_BYTES} bytes"));
    }
    if username.is_some_and(|u| password.trim().eq_ignore_ascii_case(u.trim())) {
        return Err("must not be the username".into());
    }
    if is_common(password) {
        return Err(
            "is one of the most common passwords, which are guessed first; choose another".into(),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_loaded_lower_cased_and_without_comments() {
        assert!(common().len() >= 1000, "{}", common().len());
        assert!(common().iter().all(|p| *p == p.to_lowercase()));
        assert!(!common().iter().any(|p| p.starts_with('#')));
        assert!(is_common("Password1234") && is_common("SOMMAR2025"));
        assert!(!is_common("korrekt häst batteri häftklammer"));
    }

    #[test]
    fn short_long_username_and_common_passwords_are_refused() {
        assert!(
            check("short-pw-1", None)
                .unwrap_err()
                .contains("12 characters")
        );
        assert!(
            check(&"x".repeat(1025), None)
                .unwrap_err()
                .contains("1024 bytes")
        );
        assert!(
            check("anna.lindqvist", Some("anna.lindqvist"))
                .unwrap_err()
                .contains("username")
        );
        assert!(check("Anna.Lindqvist", Some("anna.lindqvist")).is_err());
        assert!(check("qwerty123456", None).unwrap_err().contains("common"));
        assert_eq!(check("test-password-1", Some("anna")), Ok(()));
        // Characters, not bytes: twelve å are long enough.
        assert_eq!(check(&"å".repeat(12), None), Ok(()));
    }
}
