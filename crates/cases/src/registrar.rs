//! Registrations written together: officers' concurrent `POST /api/v1/cases` share transactions.
//!
//! Each registration is checked on its own request, as before. The checked case then queues
//! for a writer task, which writes every case waiting (up to [`BATCH`]) in one transaction and
//! answers each request only after that commit: nothing is acknowledged before it is durable,
//! exactly as when each case had its own transaction. What changes is what a case costs: one
//! commit for the whole batch (on SQLite one write of the log and of the search index's new
//! segment; on PostgreSQL one flush of its log, and one hold of the diary series' row lock,
//! which serialises a department's registrations until commit). When nobody else is
//! registering, a batch is one case and nothing waits.
//!
//! If anything in a batch fails, the batch is rolled back whole and each of its cases written
//! again in a transaction of its own, so that a case that cannot be written fails alone and the
//! diary series keeps neither gaps nor duplicates.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use lots_core::Actor;
use sea_orm::DbBackend;
use tokio::sync::{mpsc, oneshot};

use crate::cases::{Cases, Channel, NewCaseChecked, Registered, Registration, Who};
use crate::error::{ServiceError, ServiceResult};

/// Cases written in one transaction at most.
pub const BATCH: usize = 64;

/// Registrations waiting for a writer at most before new ones wait to queue.
const QUEUE: usize = 1024;

/// The writer tasks and their queues: one on SQLite (it has one writer), a few on PostgreSQL,
/// chosen by department, so that departments register in parallel while each department's
/// registrations (which share its diary series) batch together.
pub(crate) struct Registrar {
    queues: Vec<mpsc::Sender<Job>>,
}

/// What the writers have done since the process started (for `/metrics`).
#[derive(Debug, Default)]
pub struct Written {
    /// Cases written and committed.
    pub cases: AtomicU64,
    /// Transactions that wrote them.
    pub transactions: AtomicU64,
    /// Batches rolled back because one of their cases failed (their cases then written alone).
    pub failed_batches: AtomicU64,
}

impl std::fmt::Debug for Registrar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registrar")
            .field("writers", &self.queues.len())
            .finish()
    }
}

struct Job {
    actor: Actor,
    case: NewCaseChecked,
    now: DateTime<Utc>,
    reply: oneshot::Sender<ServiceResult<Registered>>,
}

impl Registrar {
    /// Starts the writers; `cases` writes (it must not hold this registrar: the writers would
    /// then keep their own queues open for ever).
    pub(crate) fn start(cases: Cases, written: Arc<Written>) -> Self {
        let writers = match cases.db.backend() {
            DbBackend::Postgres => 4,
            _ => 1,
        };
        let queues = (0..writers)
            .map(|_| {
                let (tx, rx) = mpsc::channel(QUEUE);
                tokio::spawn(run(cases.clone(), written.clone(), rx));
                tx
            })
            .collect();
        Self { queues }
    }

    /// Writes checked case `case` for `actor` and answers once it is committed.
    pub(crate) async fn register(
        &self,
        actor: &Actor,
        case: NewCaseChecked,
        now: DateTime<Utc>,
    ) -> ServiceResult<Registered> {
        let queue = &self.queues[case.department.id.unsigned_abs() as usize % self.queues.len()];
        let (reply, answer) = oneshot::channel();
        let job = Job {
            actor: actor.clone(),
            case,
            now,
            reply,
        };
        let stopped = || ServiceError::Internal("the case registrar has stopped".into());
        queue.send(job).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// A writer: takes every registration waiting, up to a batch, and writes them.
async fn run(cases: Cases, written: Arc<Written>, mut queue: mpsc::Receiver<Job>) {
    let mut jobs = Vec::with_capacity(BATCH);
    while queue.recv_many(&mut jobs, BATCH).await > 0 {
        let batch = std::mem::replace(&mut jobs, Vec::with_capacity(BATCH));
        cases.write_batch(batch, &written).await;
    }
}

impl Cases {
    async fn write_batch(&self, jobs: Vec<Job>, written: &Written) {
        if jobs.len() > 1 {
            match self.write_together(&jobs).await {
                Ok(rows) => {
                    written.transactions.fetch_add(1, Ordering::Relaxed);
                    written
                        .cases
                        .fetch_add(rows.len() as u64, Ordering::Relaxed);
                    for (job, row) in jobs.into_iter().zip(rows) {
                        // A request that went away still has its case: it was committed.
                        let _ = job.reply.send(Ok(row));
                    }
                    return;
                }
                Err(e) => {
                    written.failed_batches.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(
                        error = %e,
                        cases = jobs.len(),
                        "a batch of registrations failed; writing each alone"
                    )
                }
            }
        }
        for job in jobs {
            let result = self.write_alone(&job).await;
            if result.is_ok() {
                written.transactions.fetch_add(1, Ordering::Relaxed);
                written.cases.fetch_add(1, Ordering::Relaxed);
            }
            let _ = job.reply.send(result);
        }
    }

    async fn write_together(&self, jobs: &[Job]) -> ServiceResult<Vec<Registered>> {
        let registrations: Vec<Registration<'_>> = jobs
            .iter()
            .map(|job| Registration {
                who: Who::Officer(&job.actor),
                case: &job.case,
                channel: Channel::Officer,
                now: job.now,
            })
            .collect();
        let tx = self.db.begin().await?;
        let rows = self.insert_cases(&tx, &registrations).await?;
        tx.commit().await?;
        Ok(rows)
    }

    async fn write_alone(&self, job: &Job) -> ServiceResult<Registered> {
        self.write_together(std::slice::from_ref(job))
            .await?
            .pop()
            .ok_or_else(|| ServiceError::Internal("a registration wrote no case".into()))
    }
}

#[cfg(test)]
mod tests {
    use lots_core::clock::SystemClock;
    use lots_core::deadline::DeadlineRules;
    use lots_core::{Area, OrgNumber, Priority, Reference, Role};
    use lots_store::Db;
    use lots_store::entity::{app_user, case_event, case_record, department};
    use sea_orm::{ActiveModelTrait, EntityTrait, PaginatorTrait, QueryOrder, Set};

    use super::*;

    /// A batch is one transaction; a case in it that cannot be written (here: its department
    /// is gone) fails alone, the rest are written again one by one, and the diary series keeps
    /// neither a gap nor a duplicate.
    #[tokio::test]
    async fn a_case_that_cannot_be_written_fails_alone_and_the_series_keeps_no_gap() {
        let dir = std::env::temp_dir().join(format!(
            "lots-registrar-{}-{}",
            std::process::id(),
            Utc::now().timestamp_nanos_opt().unwrap_or_default()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let db = Db::connect(&format!("sqlite://{}?mode=rwc", dir.join("r.db").display()))
            .await
            .unwrap();
        use lots_migrations::MigratorTrait;
        lots_migrations::Migrator::up(db.writer(), None)
            .await
            .unwrap();
        let now = Utc::now();
        let sbf = department::ActiveModel {
            code: Set("SBF".into()),
            name: Set("Samhällsbyggnad".into()),
            diary_prefix: Set("BN".into()),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(db.writer())
        .await
        .unwrap();
        let anna = app_user::ActiveModel {
            username: Set("anna".into()),
            display_name: Set("Anna".into()),
            password_hash: Set(String::new()),
            role: Set(Role::Officer.as_str().into()),
            department_id: Set(Some(sbf.id)),
            active: Set(true),
            created_at: Set(now),
            token_version: Set(0),
            ..Default::default()
        }
        .insert(db.writer())
        .await
        .unwrap();
        let actor = Actor {
            user_id: anna.id,
            username: anna.username.clone(),
            role: Role::Officer,
            department_id: Some(sbf.id),
        };
        let case = |title: &str, department: &department::Model| NewCaseChecked {
            org_number: OrgNumber::parse("556036-0793").unwrap(),
            company_name: "Exempel AB".into(),
            area: Area::BuildingPermit,
            case_type: None,
            title: title.into(),
            description: String::new(),
            department: department.clone(),
            received_at: now,
            priority: Priority::Normal,
            labels: Vec::new(),
            confidential: None,
            assignee: None,
        };
        let gone = department::Model {
            id: sbf.id + 1000,
            ..sbf.clone()
        };
        let cases = Cases::new(
            db.clone(),
            Arc::new(SystemClock),
            Arc::new(DeadlineRules::default()),
        );
        let mut answers = Vec::new();
        let jobs = ["Ett", "Två", "Ingen förvaltning", "Fyra"]
            .into_iter()
            .map(|title| {
                let (reply, answer) = oneshot::channel();
                answers.push(answer);
                let dep = if title == "Ingen förvaltning" {
                    &gone
                } else {
                    &sbf
                };
                Job {
                    actor: actor.clone(),
                    case: case(title, dep),
                    now,
                    reply,
                }
            })
            .collect();
        let written = Written::default();
        cases.write_batch(jobs, &written).await;
        let mut written = Vec::new();
        for (i, answer) in answers.into_iter().enumerate() {
            match (i, answer.await.unwrap()) {
                (2, Err(_)) => {}
                (2, Ok(row)) => panic!("a case of no department was written: {row:?}"),
                (_, Ok(row)) => written.push(row),
                (_, Err(e)) => panic!("case {i} failed with its batch: {e}"),
            }
        }
        let serials: Vec<u32> = written
            .iter()
            .map(|c| Reference::parse(&c.case.reference).unwrap().serial())
            .collect();
        assert_eq!(serials, [1, 2, 3]);
        let stored = case_record::Entity::find()
            .order_by_asc(case_record::Column::Id)
            .all(db.reader())
            .await
            .unwrap();
        assert_eq!(
            stored.iter().map(|c| c.title.as_str()).collect::<Vec<_>>(),
            ["Ett", "Två", "Fyra"]
        );
        assert_eq!(
            case_event::Entity::find().count(db.reader()).await.unwrap(),
            3
        );
        drop(db);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
