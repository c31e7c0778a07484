//! Sending the mail outbox: through an SMTP relay (`smtp://host:port` plain for a local relay,
//! `smtp://…?tls=required` for STARTTLS, `smtps://` for TLS; credentials in the URL), or,
//! without one, as `.eml` files in a folder, so that the demo works offline and shows its mails.
//! Each row is leased before it is sent, so two workers never send it at once; a failure is
//! retried with a growing wait, and after `MAX_ATTEMPTS` the mail is given up (`failed_at`).
//! A crash between the relay's acceptance and the row's `sent_at` sends it again after the
//! lease, with the same `Message-ID`, so a receiver can tell.

use std::path::PathBuf;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use lots_core::Secret;
use lots_store::Db;
use lots_store::entity::mail_outbox;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

/// After this many failed attempts a mail is given up.
pub const MAX_ATTEMPTS: i32 = 12;
/// How long a mail being sent is leased to one worker.
const LEASE: Duration = Duration::minutes(5);
/// Mails sent per round.
const BATCH: u64 = 20;

enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Folder(PathBuf),
}

/// Where mail goes, and from whom.
pub struct Mailer {
    transport: Transport,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let to = match &self.transport {
            Transport::Smtp(_) => "smtp".to_string(),
            Transport::Folder(p) => p.display().to_string(),
        };
        f.debug_struct("Mailer")
            .field("transport", &to)
            .field("from", &self.from.to_string())
            .finish()
    }
}

impl Mailer {
    /// A mailer for `smtp_url`, or (without one) for the folder `dir`; `from` is the sender,
    /// e.g. `Lots <lots@kommun.se>`.
    pub fn new(smtp_url: Option<&Secret>, from: &str, dir: PathBuf) -> Result<Self, String> {
        crate::install_tls_provider();
        let from: Mailbox = from
            .parse()
            .map_err(|e| format!("mail_from `{from}` is not an address: {e}"))?;
        let transport = match smtp_url {
            Some(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
                    .map_err(|e| format!("LOTS_SMTP_URL is not a usable SMTP URL: {e}"))?
                    .timeout(Some(StdDuration::from_secs(20)))
                    .build(),
            ),
            None => Transport::Folder(dir),
        };
        Ok(Self { transport, from })
    }

    fn message(&self, row: &mail_outbox::Model) -> Result<Message, String> {
        let to: Mailbox = row
            .to_address
            .parse()
            .map_err(|e| format!("the address is not usable: {e}"))?;
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(row.subject.clone())
            .message_id(Some(format!(
                "<lots-mail-{}.{}@{}>",
                row.id,
                row.created_at.timestamp(),
                self.from.email.domain()
            )))
            .date(row.created_at.into())
            .header(ContentType::TEXT_PLAIN)
            .body(row.body.clone())
            .map_err(|e| format!("cannot build the mail: {e}"))
    }

    async fn send(&self, row: &mail_outbox::Model) -> Result<(), String> {
        let message = self.message(row)?;
        match &self.transport {
            Transport::Smtp(t) => t.send(message).await.map(|_| ()).map_err(|e| e.to_string()),
            Transport::Folder(dir) => {
                tokio::fs::create_dir_all(dir)
                    .await
                    .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
                // Named by the row: a resend overwrites the same file.
                let path = dir.join(format!("{:08}-{}.eml", row.id, row.kind));
                tokio::fs::write(&path, message.formatted())
                    .await
                    .map_err(|e| format!("cannot write {}: {e}", path.display()))
            }
        }
    }

    /// Sends the mails that are due; returns how many were sent.
    pub async fn deliver(&self, db: &Db, now: DateTime<Utc>) -> Result<usize, DbErr> {
        let due = mail_outbox::Entity::find()
            .filter(mail_outbox::Column::SentAt.is_null())
            .filter(mail_outbox::Column::FailedAt.is_null())
            .filter(mail_outbox::Column::NextAttemptAt.lte(now))
            .order_by_asc(mail_outbox::Column::Id)
            .limit(BATCH)
            .all(db.reader())
            .await?;
        let mut sent = 0;
        for row in due {
            // The lease: only the worker whose update finds the row as it read it sends it.
            let leased = mail_outbox::Entity::update_many()
                .col_expr(mail_outbox::Column::NextAttemptAt, Expr::value(now + LEASE))
                .col_expr(mail_outbox::Column::Attempts, Expr::value(row.attempts + 1))
                .filter(mail_outbox::Column::Id.eq(row.id))
                .filter(mail_outbox::Column::Attempts.eq(row.attempts))
                .filter(mail_outbox::Column::SentAt.is_null())
                .exec(db.writer())
                .await?;
            if leased.rows_affected != 1 {
                continue;
            }
            let attempts = row.attempts + 1;
            match self.send(&row).await {
                Ok(()) => {
                    mail_outbox::Entity::update_many()
                        .col_expr(mail_outbox::Column::SentAt, Expr::value(now))
                        .col_expr(mail_outbox::Column::LastError, Expr::value(None::<String>))
                        .filter(mail_outbox::Column::Id.eq(row.id))
                        .exec(db.writer())
                        .await?;
                    tracing::info!(mail = row.id, kind = %row.kind, "mail sent");
                    sent += 1;
                }
                Err(error) => {
                    let give_up = attempts >= MAX_ATTEMPTS;
                    tracing::warn!(mail = row.id, attempts, give_up, %error, "mail not sent");
                    let wait = Duration::seconds(30 * (1_i64 << (attempts - 1).clamp(0, 7)));
                    mail_outbox::Entity::update_many()
                        .col_expr(mail_outbox::Column::NextAttemptAt, Expr::value(now + wait))
                        .col_expr(mail_outbox::Column::LastError, Expr::value(Some(error)))
                        .col_expr(
                            mail_outbox::Column::FailedAt,
                            Expr::value(give_up.then_some(now)),
                        )
                        .filter(mail_outbox::Column::Id.eq(row.id))
                        .exec(db.writer())
                        .await?;
                }
            }
        }
        Ok(sent)
    }
}
