//! Tokens: HS256 JWTs carrying `sub`, `role`, `department`, `ver`, `iat`, `exp`, `iss` and
//! `aud`, all checked on every request, and the `Authenticated` extractor that turns one into an
//! `Actor`. `ver` is the user's `token_version` when the token was issued: a password change or
//! an admin's revocation bumps it, and every token issued before stops working.

use anyhow::Context;
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use lots_cases::UserView;
use lots_core::access::{Capability, may};
use lots_core::{Actor, Role, Secret};
use lots_store::Db;
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::error::ApiError;
use crate::state::AppState;

const SECRET_SETTING: &str = "jwt_secret";

/// The claims of a Lots access token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Claims {
    /// The user's id.
    pub sub: String,
    pub role: Role,
    /// The user's department code; null for an admin without one.
    pub department: Option<String>,
    /// The user's token version at issue; a token whose `ver` is no longer the user's is
    /// refused. Tokens issued before versions existed carry none and count as version 0.
    #[serde(default)]
    pub ver: i64,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
}

pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
    ttl_seconds: i64,
    /// Tokens whose signature and claims were checked, with their claims: a token seen again
    /// (an integration's, a page's, on every request) needs only its expiry checked again.
    /// Keyed by the whole token, signature included; emptied when full.
    verified: std::sync::Mutex<std::collections::HashMap<Box<str>, Claims>>,
}

/// Verified tokens kept at most (about half a kilobyte each).
const VERIFIED_KEPT: usize = 10_000;

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtKeys")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

impl JwtKeys {
    pub fn new(secret: &Secret, config: &Config) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[&config.token_audience]);
        validation.set_issuer(&[&config.token_issuer]);
        validation.set_required_spec_claims(&["sub", "iat", "exp", "iss", "aud"]);
        validation.leeway = 5;
        Self {
            encoding: EncodingKey::from_secret(secret.expose().as_bytes()),
            decoding: DecodingKey::from_secret(secret.expose().as_bytes()),
            validation,
            issuer: config.token_issuer.clone(),
            audience: config.token_audience.clone(),
            ttl_seconds: i64::try_from(config.token_ttl_seconds).unwrap_or(3600),
            verified: std::sync::Mutex::default(),
        }
    }

    pub fn ttl_seconds(&self) -> i64 {
        self.ttl_seconds
    }

    /// A token for `user`, carrying their current `token_version`.
    pub fn issue(
        &self,
        user: &UserView,
        token_version: i64,
        now: DateTime<Utc>,
    ) -> Result<String, ApiError> {
        let claims = Claims {
            sub: user.id.to_string(),
            role: user.role,
            department: user.department.clone(),
            ver: token_version,
            iat: now.timestamp(),
            exp: now.timestamp() + self.ttl_seconds,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(|e| {
            tracing::error!(error = %e, "cannot sign a token");
            ApiError::internal()
        })
    }

    /// Checks signature, algorithm, `exp`, `iss`, `aud` and that `iat` is not in the future;
    /// of a token checked before, only `exp` again (as `jsonwebtoken` checks it: by the system's
    /// clock, with the same leeway).
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<Claims, ApiError> {
        let verified = || self.verified.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(claims) = verified().get(token) {
            let expired = u64::try_from(claims.exp).map_or(true, |exp| {
                exp < jsonwebtoken::get_current_timestamp().saturating_sub(self.validation.leeway)
            });
            if !expired {
                return Ok(claims.clone());
            }
        }
        let claims = self.check(token, now)?;
        let mut kept = verified();
        if kept.len() >= VERIFIED_KEPT {
            kept.clear();
        }
        kept.insert(token.into(), claims.clone());
        Ok(claims)
    }

    /// Every check of `verify`, made.
    fn check(&self, token: &str, now: DateTime<Utc>) -> Result<Claims, ApiError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| {
                use jsonwebtoken::errors::ErrorKind;
                ApiError::unauthorized(match e.kind() {
                    ErrorKind::ExpiredSignature => "the token has expired; ask for a new one",
                    ErrorKind::InvalidAudience | ErrorKind::InvalidIssuer => {
                        "the token was not issued for this service"
                    }
                    _ => "the token is not valid",
                })
            })?;
        if data.claims.iat > now.timestamp() + self.validation.leeway as i64 {
            return Err(ApiError::unauthorized("the token is not valid"));
        }
        Ok(data.claims)
    }
}

/// The token-signing secret: the configured one, or else one generated once and kept in the
/// database, so that every process sharing the database accepts the others' tokens.
pub async fn signing_secret(
    config: &Config,
    db: &Db,
    now: DateTime<Utc>,
) -> anyhow::Result<Secret> {
    stored_secret(
        config.jwt_secret.as_ref(),
        db,
        SECRET_SETTING,
        "LOTS_JWT_SECRET",
        "token-signing",
        now,
    )
    .await
}

/// A configured secret, or one generated once and kept in the database (with a warning).
pub async fn stored_secret(
    configured: Option<&Secret>,
    db: &Db,
    key: &str,
    variable: &str,
    what: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<Secret> {
    if let Some(s) = configured {
        return Ok(s.clone());
    }
    let candidate = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 48]>());
    let (value, created) = lots_store::settings::get_or_insert(db.writer(), key, &candidate, now)
        .await
        .with_context(|| format!("cannot read or store the {what} secret"))?;
    if created {
        tracing::warn!(
            "{variable} is not set: generated a random {what} secret and stored it in the database"
        );
    } else {
        tracing::warn!("{variable} is not set: using the {what} secret stored in the database");
    }
    Ok(Secret::new(value))
}

/// The verified caller. Rejects a request without a valid bearer token (or, for a GET, the web
/// pages' live session cookie), and a token whose user has since been deactivated, has changed
/// role or department, or has had their tokens revoked (`ver` is no longer theirs).
#[derive(Debug, Clone)]
pub struct Authenticated(pub Actor);

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
            // The web pages' session cookie opens reads (the export buttons) but never a change:
            // a change through the API needs the bearer token, so no cross-site form can make one.
            if (parts.method == axum::http::Method::GET || parts.method == axum::http::Method::HEAD)
                && let Some(actor) = crate::web::session::actor(&parts.headers, state).await
            {
                return Ok(Authenticated(actor));
            }
            return Err(ApiError::unauthorized(
                "log in: send `Authorization: Bearer <token>`",
            ));
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .ok_or_else(|| {
                ApiError::unauthorized("the Authorization header must be `Bearer <token>`")
            })?;
        if state.oidc.is_provider_token(token) {
            return crate::oidc::actor_for_access_token(state, token)
                .await
                .map(Authenticated);
        }
        let claims = state.jwt.verify(token, state.directory.now())?;
        let user_id: i64 = claims
            .sub
            .parse()
            .map_err(|_| ApiError::unauthorized("the token is not valid"))?;
        let actor = state
            .directory
            .actor_for(
                user_id,
                claims.role,
                claims.department.as_deref(),
                claims.ver,
            )
            .await?
            .ok_or_else(|| {
                ApiError::unauthorized(
                    "the token is no longer valid (its user was changed or deactivated, changed their password, or was logged out everywhere); log in again",
                )
            })?;
        Ok(Authenticated(actor))
    }
}

/// The verified caller with the application's state: what most `/api/v1` handlers take first,
/// as `State` and `Authenticated` together (rejected as `Authenticated` rejects).
pub struct Caller {
    pub state: AppState,
    pub actor: Actor,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Authenticated(actor) = Authenticated::from_request_parts(parts, state).await?;
        Ok(Self {
            state: state.clone(),
            actor,
        })
    }
}

/// Refuses a caller without `capability` (403), for handlers that must decide before they read
/// a request body: a body is only read for someone who may send it.
pub fn require(actor: &Actor, capability: Capability) -> Result<(), ApiError> {
    if may(actor, capability) {
        return Ok(());
    }
    let why = match capability {
        Capability::Administer => "only an admin may do this",
        Capability::ReadMetrics => "metrics are for managers and admins",
    };
    Err(lots_cases::ServiceError::Forbidden(why.into()).into())
}

/// The throttle's key for a typed username: the name the lookup uses, lower-cased.
fn throttle_key(username: &str) -> String {
    lots_cases::directory::login_name(username).to_lowercase()
}

/// Slows password guessing: after `LIMIT` failed logins for a username within `WINDOW`, further
/// attempts for it answer 429 until the window has passed, whether the password is right or not
/// (and whether the user exists or not, so that it reveals nothing). Kept per process: with N
/// processes an attacker gets at most N × LIMIT guesses per window.
#[derive(Debug, Default)]
pub struct LoginThrottle {
    failures: std::sync::Mutex<std::collections::HashMap<String, (u32, std::time::Instant)>>,
}

impl LoginThrottle {
    pub const LIMIT: u32 = 10;
    pub const WINDOW: std::time::Duration = std::time::Duration::from_secs(15 * 60);

    /// `Err(seconds to wait)` while the username is locked out.
    pub fn check(&self, username: &str) -> Result<(), u64> {
        let map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        match map.get(&throttle_key(username)) {
            Some((n, since)) if *n >= Self::LIMIT && since.elapsed() < Self::WINDOW => {
                Err((Self::WINDOW - since.elapsed()).as_secs().max(1))
            }
            _ => Ok(()),
        }
    }

    pub fn failed(&self, username: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 100_000 {
            map.retain(|_, (_, since)| since.elapsed() < Self::WINDOW);
        }
        let entry = map
            .entry(throttle_key(username))
            .or_insert((0, std::time::Instant::now()));
        if entry.1.elapsed() >= Self::WINDOW {
            *entry = (0, std::time::Instant::now());
        }
        entry.0 += 1;
    }

    pub fn succeeded(&self, username: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&throttle_key(username));
    }
}

/// At most `limit` actions per key within `window` (a sliding start: the window opens at the
/// key's first action). For what companies send from their side: messages and supplement
/// answers, keyed by the follow link or the representative's login, so that one link cannot
/// flood a case. Kept per process.
#[derive(Debug)]
pub struct RateLimit {
    limit: u32,
    window: std::time::Duration,
    seen: std::sync::Mutex<std::collections::HashMap<String, (u32, std::time::Instant)>>,
}

impl RateLimit {
    pub fn new(limit: u32, window: std::time::Duration) -> Self {
        Self {
            limit,
            window,
            seen: std::sync::Mutex::default(),
        }
    }

    /// Counts an action for `key`; `Err(seconds to wait)` when over the limit (not counted).
    pub fn hit(&self, key: &str) -> Result<(), u64> {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.len() > 100_000 {
            let window = self.window;
            seen.retain(|_, (_, since)| since.elapsed() < window);
        }
        let entry = seen
            .entry(key.to_string())
            .or_insert((0, std::time::Instant::now()));
        if entry.1.elapsed() >= self.window {
            *entry = (0, std::time::Instant::now());
        }
        if entry.0 >= self.limit {
            return Err((self.window - entry.1.elapsed()).as_secs().max(1));
        }
        entry.0 += 1;
        Ok(())
    }
}

#[cfg(test)]
mod rate_limit_tests {
    use super::RateLimit;

    #[test]
    fn a_key_over_its_limit_waits_and_others_do_not() {
        let r = RateLimit::new(2, std::time::Duration::from_secs(60));
        assert!(r.hit("a").is_ok() && r.hit("a").is_ok());
        let wait = r.hit("a").unwrap_err();
        assert!((1..=60).contains(&wait));
        assert!(r.hit("b").is_ok());
    }
}

#[cfg(test)]
mod verified_token_tests {
    use super::{Claims, JwtKeys};
    use crate::config::Config;
    use chrono::Utc;
    use lots_core::Secret;

    fn keys() -> JwtKeys {
        JwtKeys::new(
            &Secret::new("a-test-secret-a-test-secret-a-test-secret"),
            &Config::default(),
        )
    }

    fn claims(keys: &JwtKeys, exp: i64) -> Claims {
        Claims {
            sub: "7".into(),
            role: lots_core::Role::Officer,
            department: Some("SBF".into()),
            ver: 0,
            iat: Utc::now().timestamp() - 7200,
            exp,
            iss: keys.issuer.clone(),
            aud: keys.audience.clone(),
        }
    }

    fn sign(keys: &JwtKeys, claims: &Claims) -> String {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            claims,
            &keys.encoding,
        )
        .unwrap()
    }

    #[test]
    fn a_token_checked_once_is_known_again_until_it_expires() {
        let keys = keys();
        let now = Utc::now();
        let valid = claims(&keys, now.timestamp() + 600);
        let token = sign(&keys, &valid);
        assert_eq!(keys.verify(&token, now).unwrap(), valid);
        assert_eq!(keys.verified.lock().unwrap().len(), 1);
        assert_eq!(keys.verify(&token, now).unwrap(), valid);

        // A token that expired after it was checked (kept as if checked an hour ago): refused.
        let old = claims(&keys, now.timestamp() - 60);
        let expired = sign(&keys, &old);
        keys.verified
            .lock()
            .unwrap()
            .insert(expired.as_str().into(), old);
        assert!(keys.verify(&expired, now).is_err());

        // Another signature over the same claims is checked, not taken for the known token.
        let at = token.len() - 8;
        let other = if &token[at..=at] == "x" { "y" } else { "x" };
        let forged = format!("{}{other}{}", &token[..at], &token[at + 1..]);
        assert!(keys.verify(&forged, now).is_err());
    }
}
