//! Sign-in through identity providers: the municipality's (officers, managers, admins) and the
//! e-ID broker's (company representatives), both OpenID Connect, plus the resource-server check
//! of access tokens that other municipal systems send the API.

pub mod config;
pub mod mapping;
pub mod pages;
pub mod provider;

use std::collections::HashMap;
use std::sync::Mutex;

use lots_cases::external::Refusal;
use lots_core::{Actor, Role};
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::state::AppState;
use config::{CompaniesProvider, OfficersProvider};
use provider::Provider;

pub const OFFICERS_CALLBACK: &str = "/logga-in/oidc/callback";
pub const COMPANIES_CALLBACK: &str = "/foretag/logga-in/callback";
/// Access tokens remembered at most (each until it expires), so that a system calling the API
/// with the same token does not provision its user on every request.
const TOKENS_KEPT: usize = 10_000;

/// The configured providers.
#[derive(Debug, Default)]
pub struct Oidc {
    pub officers: Option<(Provider, OfficersProvider)>,
    pub companies: Option<(Provider, CompaniesProvider)>,
    /// Verified access tokens (by SHA-256): the user they map to and when they expire.
    tokens: Mutex<HashMap<[u8; 32], (TokenUser, i64)>>,
}

#[derive(Debug, Clone)]
struct TokenUser {
    user_id: i64,
    role: Role,
    department: Option<String>,
    token_version: i64,
}

impl Oidc {
    pub fn new(config: &crate::config::Config) -> anyhow::Result<Self> {
        let base = config.base_url();
        let base = base.trim_end_matches('/');
        let officers = match &config.oidc.officers {
            Some(p) => Some((
                Provider::new(p.client.clone(), &format!("{base}{OFFICERS_CALLBACK}"))?,
                p.clone(),
            )),
            None => None,
        };
        let companies = match &config.oidc.companies {
            Some(p) => Some((
                Provider::new(p.client.clone(), &format!("{base}{COMPANIES_CALLBACK}"))?,
                p.clone(),
            )),
            None => None,
        };
        Ok(Self {
            officers,
            companies,
            tokens: Mutex::default(),
        })
    }

    /// Whether `token` looks like one of the officers' provider's rather than Lots' own: an
    /// asymmetric signature.
    pub fn is_provider_token(&self, token: &str) -> bool {
        self.officers.is_some()
            && jsonwebtoken::decode_header(token)
                .is_ok_and(|h| h.alg != jsonwebtoken::Algorithm::HS256)
    }
}

/// The actor for an access token of the officers' provider: verified, mapped by the same rules
/// as a sign-in, the user provisioned on first sight (and remembered until the token expires),
/// and then checked as any token is (active, same role and department, not revoked).
pub async fn actor_for_access_token(state: &AppState, token: &str) -> Result<Actor, ApiError> {
    let Some((provider, settings)) = &state.oidc.officers else {
        return Err(ApiError::unauthorized("the token is not valid"));
    };
    let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
    let now = state.clock.now().timestamp();
    let remembered = state
        .oidc
        .tokens
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&key)
        .filter(|(_, exp)| *exp > now)
        .map(|(u, _)| u.clone());
    let user = match remembered {
        Some(u) => u,
        None => {
            let claims = provider
                .verify_access_token(token, settings.api_audience())
                .await
                .map_err(|e| {
                    tracing::info!(error = %e, "refused an identity provider's access token");
                    ApiError::unauthorized("the token is not valid")
                })?;
            let who = mapping::officer(settings, &claims).map_err(|e| {
                tracing::info!(error = %e, "an access token maps to nobody in Lots");
                ApiError::forbidden("the token's user has no role in Lots")
            })?;
            let policy = state.directory.sign_in_policy(settings.local_login).await?;
            let login = match state
                .directory
                .provision(&who, policy.break_glass.as_deref())
                .await?
            {
                Ok(l) => l,
                Err(refusal) => {
                    tracing::info!(reason = %refusal, "refused an identity provider's access token");
                    return Err(match refusal {
                        Refusal::UnknownDepartment(_) => ApiError::internal(),
                        _ => ApiError::forbidden("the token's user may not use Lots"),
                    });
                }
            };
            let user = TokenUser {
                user_id: login.user.id,
                role: login.user.role,
                department: login.user.department.clone(),
                token_version: login.token_version,
            };
            let exp = claims
                .get("exp")
                .and_then(serde_json::Value::as_i64)
                .unwrap_or(now);
            let mut tokens = state.oidc.tokens.lock().unwrap_or_else(|p| p.into_inner());
            if tokens.len() >= TOKENS_KEPT {
                tokens.retain(|_, (_, e)| *e > now);
                if tokens.len() >= TOKENS_KEPT {
                    tokens.clear();
                }
            }
            tokens.insert(key, (user.clone(), exp));
            user
        }
    };
    state
        .directory
        .actor_for(
            user.user_id,
            user.role,
            user.department.as_deref(),
            user.token_version,
        )
        .await?
        .ok_or_else(|| {
            ApiError::unauthorized(
                "the token's user was changed or deactivated in Lots since it was first used; get a new token",
            )
        })
}
