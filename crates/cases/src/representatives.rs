//! The logins of company representatives: kept as `company_session` rows, like the officers'
//! `web_session`s, so that logging out ends one at once. The secret is only in the browser's
//! signed cookie; the row's key is its SHA-256.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Duration;
use lots_core::{Clock, PersonalNumber, Representative};
use lots_store::Db;
use lots_store::entity::company_session;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use crate::error::{ServiceError, ServiceResult};
use crate::sessions::{NewSession, session_id};

/// A live representative's login.
#[derive(Debug, Clone)]
pub struct LiveRepresentative {
    /// The row's key (the SHA-256 of the secret).
    pub id: String,
    pub csrf: String,
    pub representative: Representative,
}

/// Company representatives' logins: started after the e-ID broker's sign-in, looked up on every
/// request, ended at logout.
#[derive(Debug, Clone)]
pub struct Representatives {
    db: Db,
    clock: Arc<dyn Clock>,
}

impl Representatives {
    pub fn new(db: Db, clock: Arc<dyn Clock>) -> Self {
        Self { db, clock }
    }

    /// Starts a login of `ttl` for `who`, with a fresh CSRF token; expired ones of everyone are
    /// cleared out on the way.
    pub async fn start(&self, who: &Representative, ttl: Duration) -> ServiceResult<NewSession> {
        let now = self.clock.now();
        let secret = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
        let expires_at = now + ttl;
        company_session::Entity::delete_many()
            .filter(company_session::Column::ExpiresAt.lt(now))
            .exec(self.db.writer())
            .await?;
        company_session::ActiveModel {
            id: Set(session_id(&secret)),
            personal_number: Set(who.personal_number.as_str().to_string()),
            name: Set(who
                .name
                .as_deref()
                .map(|n| n.chars().take(200).collect::<String>())),
            csrf: Set(URL_SAFE_NO_PAD.encode(rand::random::<[u8; 24]>())),
            created_at: Set(now),
            expires_at: Set(expires_at),
        }
        .insert(self.db.writer())
        .await?;
        Ok(NewSession { secret, expires_at })
    }

    /// The login whose secret is `secret`, if its row exists and has not expired.
    pub async fn resolve(&self, secret: &str) -> ServiceResult<Option<LiveRepresentative>> {
        let now = self.clock.now();
        let Some(row) = company_session::Entity::find_by_id(session_id(secret))
            .one(self.db.reader())
            .await?
        else {
            return Ok(None);
        };
        if row.expires_at <= now {
            return Ok(None);
        }
        let personal_number = PersonalNumber::parse_on(&row.personal_number, now.date_naive())
            .map_err(|_| {
                ServiceError::Internal(format!(
                    "company_session {}… holds an invalid personnummer",
                    &row.id[..8]
                ))
            })?;
        Ok(Some(LiveRepresentative {
            id: row.id,
            csrf: row.csrf,
            representative: Representative {
                personal_number,
                name: row.name,
            },
        }))
    }

    /// Ends the login with key `id` (logging out).
    pub async fn end(&self, id: &str) -> ServiceResult<()> {
        company_session::Entity::delete_by_id(id.to_string())
            .exec(self.db.writer())
            .await?;
        Ok(())
    }
}
