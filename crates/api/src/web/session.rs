//! The web pages' session: a cookie signed with HMAC-SHA256 under a key derived from the token
//! secret (so every process sharing the database accepts it; no session table, no in-process
//! state), holding the user, their role and department, an expiry and a CSRF nonce. The nonce is
//! also put in every form as a hidden field and checked on every POST.

use axum::http::{HeaderMap, HeaderValue, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use lots_core::{Actor, Role, Secret};
use sha2::Sha256;

use crate::state::AppState;

pub const COOKIE: &str = "lots_session";
/// How long a login lasts.
const TTL_SECONDS: i64 = 8 * 3600;
/// How long an anonymous session (the login form's CSRF nonce) lasts.
const ANON_TTL_SECONDS: i64 = 3600;

/// The session-cookie signing key.
pub struct SessionKey {
    key: Vec<u8>,
    secure: bool,
}

impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionKey")
            .field("secure", &self.secure)
            .finish_non_exhaustive()
    }
}

/// A verified session cookie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// 0 before logging in.
    pub user_id: i64,
    pub role: Option<Role>,
    pub department: Option<String>,
    pub expires: i64,
    /// The CSRF token every form of this session carries.
    pub csrf: String,
}

impl SessionKey {
    /// Derives the key from the token-signing secret; `secure` marks cookies `Secure` (when the
    /// configured base URL is https).
    pub fn derive(secret: &Secret, secure: bool) -> Self {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes())
            .unwrap_or_else(|_| unreachable_hmac());
        mac.update(b"lots web session cookie v1");
        Self {
            key: mac.finalize().into_bytes().to_vec(),
            secure,
        }
    }

    fn mac(&self, payload: &str) -> Vec<u8> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.key).unwrap_or_else(|_| unreachable_hmac());
        mac.update(payload.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    fn encode(&self, s: &Session) -> String {
        let payload = format!(
            "{}|{}|{}|{}|{}",
            s.user_id,
            s.role.map_or("", |r| r.as_str()),
            s.department.as_deref().unwrap_or(""),
            s.expires,
            s.csrf
        );
        let body = URL_SAFE_NO_PAD.encode(payload.as_bytes());
        let sig = URL_SAFE_NO_PAD.encode(self.mac(&body));
        format!("{body}.{sig}")
    }

    /// The session in `value`, if its signature holds and it has not expired.
    pub fn decode(&self, value: &str, now: DateTime<Utc>) -> Option<Session> {
        let (body, sig) = value.split_once('.')?;
        let sig = URL_SAFE_NO_PAD.decode(sig).ok()?;
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).ok()?;
        mac.update(body.as_bytes());
        mac.verify_slice(&sig).ok()?;
        let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(body).ok()?).ok()?;
        let mut parts = payload.split('|');
        let user_id = parts.next()?.parse().ok()?;
        let role = match parts.next()? {
            "" => None,
            r => Some(r.parse().ok()?),
        };
        let department = Some(parts.next()?.to_string()).filter(|d| !d.is_empty());
        let expires: i64 = parts.next()?.parse().ok()?;
        let csrf = parts.next()?.to_string();
        if expires <= now.timestamp() || csrf.is_empty() {
            return None;
        }
        Some(Session {
            user_id,
            role,
            department,
            expires,
            csrf,
        })
    }

    /// A new session for `actor` (or an anonymous one), with a fresh CSRF nonce.
    pub fn new_session(
        &self,
        user: Option<(i64, Role, Option<String>)>,
        now: DateTime<Utc>,
    ) -> Session {
        let csrf = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 24]>());
        match user {
            Some((user_id, role, department)) => Session {
                user_id,
                role: Some(role),
                department,
                expires: now.timestamp() + TTL_SECONDS,
                csrf,
            },
            None => Session {
                user_id: 0,
                role: None,
                department: None,
                expires: now.timestamp() + ANON_TTL_SECONDS,
                csrf,
            },
        }
    }

    /// The `Set-Cookie` value that stores `s`.
    pub fn set_cookie(&self, s: &Session, now: DateTime<Utc>) -> HeaderValue {
        let max_age = (s.expires - now.timestamp()).max(0);
        self.cookie_header(&self.encode(s), max_age)
    }

    /// The `Set-Cookie` value that removes the session.
    pub fn clear_cookie(&self) -> HeaderValue {
        self.cookie_header("", 0)
    }

    fn cookie_header(&self, value: &str, max_age: i64) -> HeaderValue {
        let secure = if self.secure { "; Secure" } else { "" };
        HeaderValue::from_str(&format!(
            "{COOKIE}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}"
        ))
        .unwrap_or_else(|_| HeaderValue::from_static("lots_session=; Path=/; Max-Age=0"))
    }
}

fn unreachable_hmac() -> ! {
    // HMAC accepts keys of any length; this cannot happen.
    panic!("HMAC rejected a key")
}

/// The value of the session cookie in `headers`, if any.
pub fn cookie_value(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
}

/// The session the request carries, if valid.
pub fn session(headers: &HeaderMap, state: &AppState) -> Option<Session> {
    state
        .session
        .decode(cookie_value(headers)?, state.clock.now())
}

/// The logged-in actor behind `session`, checked against the directory on every request (a
/// deactivated user, or one whose role or department changed, is logged out).
pub async fn actor(session: &Session, state: &AppState) -> Option<Actor> {
    let role = session.role?;
    if session.user_id <= 0 {
        return None;
    }
    state
        .directory
        .actor_for(session.user_id, role, session.department.as_deref())
        .await
        .ok()
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cookie_round_trips_and_a_tampered_one_is_refused() {
        let key = SessionKey::derive(&Secret::new("k".repeat(40)), false);
        let now = Utc::now();
        let s = key.new_session(Some((7, Role::Officer, Some("SBF".into()))), now);
        let v = key.encode(&s);
        assert_eq!(key.decode(&v, now), Some(s.clone()));
        let (body, sig) = v.split_once('.').unwrap_or_default();
        let forged_body = URL_SAFE_NO_PAD.encode(format!("1|admin||{}|{}", s.expires, s.csrf));
        assert_eq!(key.decode(&format!("{forged_body}.{sig}"), now), None);
        assert_eq!(key.decode(&format!("{body}.AAAA"), now), None);
        let later = now + chrono::Duration::seconds(TTL_SECONDS + 1);
        assert_eq!(key.decode(&v, later), None);
        let other = SessionKey::derive(&Secret::new("x".repeat(40)), false);
        assert_eq!(other.decode(&v, now), None);
    }

    #[test]
    fn the_cookie_is_http_only_strict_and_secure_over_https() {
        let key = SessionKey::derive(&Secret::new("k".repeat(40)), true);
        let s = key.new_session(None, Utc::now());
        let h = key.set_cookie(&s, Utc::now());
        let h = h.to_str().unwrap_or_default();
        assert!(h.contains("HttpOnly") && h.contains("SameSite=Strict") && h.contains("Secure"));
    }
}
