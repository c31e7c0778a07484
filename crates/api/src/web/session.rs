//! The web pages' session. The browser holds a cookie signed with HMAC-SHA256 under a key
//! derived from the token secret (so every process sharing the database accepts it). Before
//! logging in it carries the login form's CSRF nonce and its expiry; after, only the random
//! secret of a `web_session` row, which holds the user, the expiry and the CSRF token. A login is
//! valid only while its row exists, has not expired and its user is active: logging out, a
//! password change or an admin deletes the row and the cookie stops working at once, copies
//! included. The CSRF token is also put in every form as a hidden field and checked on every
//! POST.

use axum::http::{HeaderMap, HeaderValue, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use lots_cases::LiveSession;
use lots_core::{Actor, Secret};
use sha2::Sha256;

use crate::state::AppState;

pub const COOKIE: &str = "lots_session";
/// How long a login lasts.
pub const TTL_SECONDS: i64 = 8 * 3600;
/// What a login cookie's payload starts with (an anonymous one starts with the user id 0).
const LOGIN_TAG: &str = "s|";
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

/// What a verified session cookie holds.
#[derive(Clone, PartialEq, Eq)]
pub enum CookieValue {
    /// Before logging in: the login form's CSRF nonce, until `expires`.
    Anonymous(Anonymous),
    /// A login: the secret of a `web_session` row (which holds the user, the expiry and the
    /// CSRF token). Only the row makes it valid: logging out deletes it.
    Login(String),
}

impl std::fmt::Debug for CookieValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CookieValue::Anonymous(a) => f.debug_tuple("Anonymous").field(a).finish(),
            CookieValue::Login(_) => f.write_str("Login(***)"),
        }
    }
}

/// The session of someone not logged in: a CSRF nonce for the login form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anonymous {
    pub expires: i64,
    pub csrf: String,
}

/// A logged-in session, as its `web_session` row says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The row's key (the SHA-256 of the cookie's secret).
    pub id: String,
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

    fn encode(&self, v: &CookieValue) -> String {
        let payload = match v {
            // The anonymous format is the one from before server-side sessions: user 0, no role,
            // no department.
            CookieValue::Anonymous(a) => format!("0|||{}|{}", a.expires, a.csrf),
            CookieValue::Login(secret) => format!("{LOGIN_TAG}{secret}"),
        };
        let body = URL_SAFE_NO_PAD.encode(payload.as_bytes());
        let sig = URL_SAFE_NO_PAD.encode(self.mac(&body));
        format!("{body}.{sig}")
    }

    /// The value in `value`, if its signature holds (and, for an anonymous one, it has not
    /// expired). A login cookie of the old, stateless kind (user, role, department in the
    /// cookie) is refused: there is no row behind it.
    pub fn decode(&self, value: &str, now: DateTime<Utc>) -> Option<CookieValue> {
        let (body, sig) = value.split_once('.')?;
        let sig = URL_SAFE_NO_PAD.decode(sig).ok()?;
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).ok()?;
        mac.update(body.as_bytes());
        mac.verify_slice(&sig).ok()?;
        let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(body).ok()?).ok()?;
        if let Some(secret) = payload.strip_prefix(LOGIN_TAG) {
            return (!secret.is_empty() && secret.len() <= 64)
                .then(|| CookieValue::Login(secret.to_string()));
        }
        let mut parts = payload.split('|');
        let (user, role, department) = (parts.next()?, parts.next()?, parts.next()?);
        if user != "0" || !role.is_empty() || !department.is_empty() {
            return None;
        }
        let expires: i64 = parts.next()?.parse().ok()?;
        let csrf = parts.next()?.to_string();
        if expires <= now.timestamp() || csrf.is_empty() || parts.next().is_some() {
            return None;
        }
        Some(CookieValue::Anonymous(Anonymous { expires, csrf }))
    }

    /// A new anonymous session with a fresh CSRF nonce.
    pub fn new_anonymous(&self, now: DateTime<Utc>) -> Anonymous {
        Anonymous {
            expires: now.timestamp() + ANON_TTL_SECONDS,
            csrf: URL_SAFE_NO_PAD.encode(rand::random::<[u8; 24]>()),
        }
    }

    /// The `Set-Cookie` value that stores an anonymous session.
    pub fn set_anonymous_cookie(&self, a: &Anonymous, now: DateTime<Utc>) -> HeaderValue {
        let max_age = (a.expires - now.timestamp()).max(0);
        self.cookie_header(&self.encode(&CookieValue::Anonymous(a.clone())), max_age)
    }

    /// The `Set-Cookie` value that stores a login's secret until `expires_at`.
    pub fn set_login_cookie(
        &self,
        secret: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> HeaderValue {
        let max_age = (expires_at - now).num_seconds().max(0);
        self.cookie_header(
            &self.encode(&CookieValue::Login(secret.to_string())),
            max_age,
        )
    }

    /// `payload` signed for `purpose` (another purpose's seal, or the session cookie's, does not
    /// open).
    pub fn seal(&self, purpose: &str, payload: &str) -> String {
        let body = URL_SAFE_NO_PAD.encode(payload.as_bytes());
        let sig = URL_SAFE_NO_PAD.encode(self.mac(&format!("{purpose}\0{body}")));
        format!("{body}.{sig}")
    }

    /// The payload `seal(purpose, …)` signed, if the signature holds.
    pub fn open(&self, purpose: &str, value: &str) -> Option<String> {
        let (body, sig) = value.split_once('.')?;
        let sig = URL_SAFE_NO_PAD.decode(sig).ok()?;
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).ok()?;
        mac.update(format!("{purpose}\0{body}").as_bytes());
        mac.verify_slice(&sig).ok()?;
        String::from_utf8(URL_SAFE_NO_PAD.decode(body).ok()?).ok()
    }

    /// A `Set-Cookie` value for another cookie than the session's: HttpOnly, `Secure` over
    /// https, `SameSite=Lax` when `lax` (a cookie that must come back on a provider's redirect),
    /// else `Strict`.
    pub fn other_cookie(&self, name: &str, value: &str, max_age: i64, lax: bool) -> HeaderValue {
        let secure = if self.secure { "; Secure" } else { "" };
        let same_site = if lax { "Lax" } else { "Strict" };
        HeaderValue::from_str(&format!(
            "{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite={same_site}{secure}"
        ))
        .unwrap_or_else(|_| HeaderValue::from_static("lots_other=; Path=/; Max-Age=0"))
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
    named_cookie(headers, COOKIE)
}

/// The value of cookie `name` in `headers`, if any.
pub fn named_cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value)
}

/// The verified session cookie the request carries, if any.
pub fn cookie(headers: &HeaderMap, state: &AppState) -> Option<CookieValue> {
    state
        .session
        .decode(cookie_value(headers)?, state.clock.now())
}

/// The anonymous session (the login form's) the request carries, if any.
pub fn anonymous(headers: &HeaderMap, state: &AppState) -> Option<Anonymous> {
    match cookie(headers, state)? {
        CookieValue::Anonymous(a) => Some(a),
        CookieValue::Login(_) => None,
    }
}

/// The live login behind the request's cookie: its row exists, has not expired and its user is
/// active, and the actor is built from the user as they are now.
pub async fn live(headers: &HeaderMap, state: &AppState) -> Option<LiveSession> {
    let CookieValue::Login(secret) = cookie(headers, state)? else {
        return None;
    };
    match state.sessions.resolve(&secret).await {
        Ok(live) => live,
        Err(e) => {
            tracing::error!(error = %e, "cannot look up a web session");
            None
        }
    }
}

/// The logged-in actor behind the request's cookie, if any.
pub async fn actor(headers: &HeaderMap, state: &AppState) -> Option<Actor> {
    live(headers, state).await.map(|s| s.actor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cookie_round_trips_and_a_tampered_one_is_refused() {
        let key = SessionKey::derive(&Secret::new("k".repeat(40)), false);
        let now = Utc::now();
        let login = CookieValue::Login("c2VjcmV0".into());
        let v = key.encode(&login);
        assert_eq!(key.decode(&v, now), Some(login));
        let anon = CookieValue::Anonymous(key.new_anonymous(now));
        let a = key.encode(&anon);
        assert_eq!(key.decode(&a, now), Some(anon.clone()));
        let (body, sig) = v.split_once('.').unwrap_or_default();
        let forged_body = URL_SAFE_NO_PAD.encode("s|another-secret");
        assert_eq!(key.decode(&format!("{forged_body}.{sig}"), now), None);
        assert_eq!(key.decode(&format!("{body}.AAAA"), now), None);
        let later = now + chrono::Duration::seconds(ANON_TTL_SECONDS + 1);
        assert_eq!(key.decode(&a, later), None);
        let other = SessionKey::derive(&Secret::new("x".repeat(40)), false);
        assert_eq!(other.decode(&v, now), None);
    }

    #[test]
    fn a_stateless_login_cookie_from_before_is_refused_even_when_signed() {
        let key = SessionKey::derive(&Secret::new("k".repeat(40)), false);
        let now = Utc::now();
        let exp = now.timestamp() + 3600;
        let body = URL_SAFE_NO_PAD.encode(format!("7|officer|SBF|{exp}|nonce"));
        let sig = URL_SAFE_NO_PAD.encode(key.mac(&body));
        assert_eq!(key.decode(&format!("{body}.{sig}"), now), None);
    }

    #[test]
    fn the_cookie_is_http_only_strict_and_secure_over_https() {
        let key = SessionKey::derive(&Secret::new("k".repeat(40)), true);
        let now = Utc::now();
        let h = key.set_anonymous_cookie(&key.new_anonymous(now), now);
        let h = h.to_str().unwrap_or_default();
        assert!(h.contains("HttpOnly") && h.contains("SameSite=Strict") && h.contains("Secure"));
        let h = key.set_login_cookie("c2VjcmV0", now + chrono::Duration::hours(8), now);
        let h = h.to_str().unwrap_or_default();
        assert!(h.contains("Max-Age=28800") && h.contains("HttpOnly") && h.contains("Secure"));
    }
}
