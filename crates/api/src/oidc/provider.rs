//! One OpenID provider as Lots uses it: discovery and its JSON Web Key Set fetched once and
//! cached, fetched again when a token names a key the cache does not hold (the provider has
//! rotated its keys), at most every `REFETCH_MIN`, so that forged key ids cannot make Lots hammer
//! the provider. The authorization-code flow (PKCE, `state`, `nonce`) and the ID token's checks
//! are the `openidconnect` crate's; access tokens that other systems send the API are checked
//! with `jsonwebtoken` against the same key set.

use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreIdToken, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken, HttpRequest,
    HttpResponse, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, Scope, SignatureVerificationError,
};
use serde_json::{Map, Value};
use tokio::sync::{Mutex, RwLock};

use super::config::Client;

/// Discovery and keys are fetched again after this long even without a new key id.
const MAX_AGE: Duration = Duration::from_secs(3600);
/// Never fetched more often than this.
const REFETCH_MIN: Duration = Duration::from_secs(10);
/// After a failed discovery, requests are answered "unavailable" at once for this long rather
/// than each waiting on a provider that is down (tokens anyone can send would otherwise queue
/// every request behind a connect timeout).
const FAILED_BACKOFF: Duration = Duration::from_secs(5);
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a sign-in or a token failed, in words for the log (never shown whole to the user).
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("the identity provider cannot be reached or answered wrongly: {0}")]
    Unavailable(String),
    #[error("the identity provider refused: {0}")]
    Refused(String),
    #[error("the token is not valid: {0}")]
    Invalid(String),
}

/// The HTTP client the `openidconnect` crate calls: reqwest, never following a redirect.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HttpError(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refetch {
    /// Only when the cache has aged out (or another caller fetched just now).
    IfStale,
    /// Unless fetched within `REFETCH_MIN`.
    Limited,
    /// Whatever the cache holds.
    Now,
}

struct Cached {
    metadata: CoreProviderMetadata,
    keys: JwkSet,
    fetched: Instant,
}

/// Started sign-in: where to send the browser, and what the callback must check.
#[derive(Debug)]
pub struct Started {
    pub url: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

pub struct Provider {
    client: Client,
    redirect: RedirectUrl,
    http: reqwest::Client,
    cached: RwLock<Option<std::sync::Arc<Cached>>>,
    /// When discovery was last tried, and whether that failed.
    last_fetch: Mutex<Option<(Instant, bool)>>,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider")
            .field("issuer", &self.client.issuer)
            .field("client_id", &self.client.client_id)
            .finish_non_exhaustive()
    }
}

impl Provider {
    /// A provider for `client`, whose callback is `redirect` (an absolute URL).
    pub fn new(client: Client, redirect: &str) -> anyhow::Result<Self> {
        lots_hooks::install_tls_provider();
        let http = reqwest::Client::builder()
            .timeout(HTTP_TIMEOUT)
            .connect_timeout(HTTP_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("Lots/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            redirect: RedirectUrl::new(redirect.to_string())?,
            client,
            http,
            cached: RwLock::new(None),
            last_fetch: Mutex::new(None),
        })
    }

    pub fn issuer(&self) -> &str {
        &self.client.issuer
    }

    fn http_client(
        &self,
    ) -> impl Fn(
        HttpRequest,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<HttpResponse, HttpError>> + Send>,
    > + use<> {
        let http = self.http.clone();
        move |request: HttpRequest| {
            let http = http.clone();
            Box::pin(async move {
                let request =
                    reqwest::Request::try_from(request).map_err(|e| HttpError(e.to_string()))?;
                let response = http
                    .execute(request)
                    .await
                    .map_err(|e| HttpError(e.to_string()))?;
                let mut builder = http::Response::builder().status(response.status());
                for (name, value) in response.headers() {
                    builder = builder.header(name, value);
                }
                let body = response
                    .bytes()
                    .await
                    .map_err(|e| HttpError(e.to_string()))?;
                builder
                    .body(body.to_vec())
                    .map_err(|e| HttpError(e.to_string()))
            })
        }
    }

    /// Discovery and keys, from the cache while fresh.
    async fn current(&self) -> Result<std::sync::Arc<Cached>, OidcError> {
        if let Some(c) = self.cached.read().await.as_ref()
            && c.fetched.elapsed() < MAX_AGE
        {
            return Ok(c.clone());
        }
        self.fetch(Refetch::IfStale).await
    }

    /// Fetches discovery and keys again. `Limited`: not when they were fetched less than
    /// `REFETCH_MIN` ago (then the cached ones are returned), for a key id anyone can put in a
    /// token; `Now`: for a key id in an ID token the provider itself just gave Lots.
    async fn fetch(&self, when: Refetch) -> Result<std::sync::Arc<Cached>, OidcError> {
        let mut last = self.last_fetch.lock().await;
        if let Some((at, failed)) = *last {
            if at.elapsed() < REFETCH_MIN
                && let Some(c) = self.cached.read().await.as_ref()
                && (when == Refetch::Limited || c.fetched.elapsed() < MAX_AGE)
                && (when != Refetch::Now)
            {
                return Ok(c.clone());
            }
            if failed && at.elapsed() < FAILED_BACKOFF && when != Refetch::Now {
                return Err(OidcError::Unavailable(
                    "discovery failed a moment ago; not retried yet".into(),
                ));
            }
        }
        *last = Some((Instant::now(), true));
        let issuer = IssuerUrl::new(self.client.issuer.clone())
            .map_err(|e| OidcError::Unavailable(format!("issuer URL: {e}")))?;
        let http = self.http_client();
        let metadata = CoreProviderMetadata::discover_async(issuer, &http)
            .await
            .map_err(|e| OidcError::Unavailable(format!("discovery: {}", chain(&e))))?;
        let keys: JwkSet = serde_json::to_value(metadata.jwks())
            .and_then(serde_json::from_value)
            .map_err(|e| OidcError::Unavailable(format!("key set: {e}")))?;
        *last = Some((Instant::now(), false));
        let cached = std::sync::Arc::new(Cached {
            metadata,
            keys,
            fetched: Instant::now(),
        });
        *self.cached.write().await = Some(cached.clone());
        tracing::info!(issuer = %self.client.issuer, keys = cached.keys.keys.len(), "identity provider discovered");
        Ok(cached)
    }

    fn oidc_client(
        &self,
        cached: &Cached,
    ) -> openidconnect::core::CoreClient<
        openidconnect::EndpointSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointMaybeSet,
        openidconnect::EndpointMaybeSet,
    > {
        CoreClient::from_provider_metadata(
            cached.metadata.clone(),
            ClientId::new(self.client.client_id.clone()),
            self.client
                .client_secret
                .as_ref()
                .map(|s| ClientSecret::new(s.expose().to_string())),
        )
        .set_redirect_uri(self.redirect.clone())
    }

    /// Starts a sign-in: the provider's authorization URL with PKCE (S256), a fresh `state`
    /// and `nonce`.
    pub async fn start(&self) -> Result<Started, OidcError> {
        let cached = self.current().await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let client = self.oidc_client(&cached);
        let mut request = client.authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        );
        for scope in self.client.scopes.iter().filter(|s| *s != "openid") {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
        Ok(Started {
            url: url.to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        })
    }

    /// Ends a sign-in: exchanges `code` (with the PKCE verifier) and verifies the ID token's
    /// signature, issuer, audience, expiry and `nonce`. Returns the verified token's claims.
    pub async fn finish(
        &self,
        code: &str,
        pkce_verifier: &str,
        nonce: &str,
    ) -> Result<Map<String, Value>, OidcError> {
        let cached = self.current().await?;
        let client = self.oidc_client(&cached);
        let http = self.http_client();
        let response = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| OidcError::Unavailable(format!("no token endpoint: {e}")))?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_string()))
            .request_async(&http)
            .await
            .map_err(|e| match &e {
                openidconnect::RequestTokenError::ServerResponse(r) => {
                    OidcError::Refused(format!("token endpoint: {}", r.error()))
                }
                other => OidcError::Unavailable(format!("token endpoint: {}", chain(other))),
            })?;
        let _ = response.access_token();
        let id_token = openidconnect::TokenResponse::id_token(&response)
            .ok_or_else(|| OidcError::Invalid("the token response has no ID token".into()))?
            .clone();
        let nonce = Nonce::new(nonce.to_string());
        match self.verify_id_token(&cached, &id_token, &nonce) {
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            )) => {
                // A key Lots has not seen: the provider has rotated. Fetch and try once more.
                let fresh = self.fetch(Refetch::Now).await?;
                self.verify_id_token(&fresh, &id_token, &nonce)
                    .map_err(|e| OidcError::Invalid(format!("ID token: {e}")))?;
            }
            Err(e) => return Err(OidcError::Invalid(format!("ID token: {e}"))),
            Ok(()) => {}
        }
        payload(&id_token.to_string())
    }

    fn verify_id_token(
        &self,
        cached: &Cached,
        id_token: &CoreIdToken,
        nonce: &Nonce,
    ) -> Result<(), ClaimsVerificationError> {
        let client = self.oidc_client(cached);
        id_token
            .claims(&client.id_token_verifier(), nonce)
            .map(|_| ())
    }

    /// Verifies an access token another system sent: signed by one of the provider's keys
    /// (asymmetric algorithms only), issued by it, for `audience`, not expired. Returns its
    /// claims.
    pub async fn verify_access_token(
        &self,
        token: &str,
        audience: &str,
    ) -> Result<Map<String, Value>, OidcError> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| OidcError::Invalid(format!("header: {e}")))?;
        if !matches!(
            header.alg,
            Algorithm::RS256
                | Algorithm::RS384
                | Algorithm::RS512
                | Algorithm::PS256
                | Algorithm::PS384
                | Algorithm::PS512
                | Algorithm::ES256
                | Algorithm::ES384
                | Algorithm::EdDSA
        ) {
            return Err(OidcError::Invalid(format!(
                "algorithm {:?} is not allowed",
                header.alg
            )));
        }
        let mut cached = self.current().await?;
        let key = match find_key(&cached.keys, header.kid.as_deref(), header.alg) {
            Some(k) => k,
            None => {
                cached = self.fetch(Refetch::Limited).await?;
                find_key(&cached.keys, header.kid.as_deref(), header.alg)
                    .ok_or_else(|| OidcError::Invalid("no key of the provider matches".into()))?
            }
        };
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.client.issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 30;
        jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation)
            .map(|d| d.claims)
            .map_err(|e| OidcError::Invalid(e.to_string()))
    }
}

fn find_key(keys: &JwkSet, kid: Option<&str>, alg: Algorithm) -> Option<DecodingKey> {
    let candidates: Vec<_> = keys
        .keys
        .iter()
        .filter(|k| match kid {
            Some(kid) => k.common.key_id.as_deref() == Some(kid),
            None => true,
        })
        .filter(|k| {
            k.common
                .key_algorithm
                .is_none_or(|a| a.to_string() == format!("{alg:?}"))
        })
        .collect();
    // Without a key id, only an unambiguous key set will do.
    match candidates.as_slice() {
        [one] => DecodingKey::from_jwk(one).ok(),
        _ => None,
    }
}

/// The claims of a JWT whose signature has already been verified.
fn payload(jwt: &str) -> Result<Map<String, Value>, OidcError> {
    use base64::Engine;
    let part = jwt
        .split('.')
        .nth(1)
        .ok_or_else(|| OidcError::Invalid("not a JWT".into()))?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .map_err(|e| OidcError::Invalid(format!("payload: {e}")))?;
    serde_json::from_slice(&bytes).map_err(|e| OidcError::Invalid(format!("payload: {e}")))
}

/// An error and its sources, in one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        source = inner.source();
    }
    s
}
