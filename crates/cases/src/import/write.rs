//! Writing: the directory entries the file needs, the companies, and the batches' rows in bulk,
//! a transaction a batch.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use foldhash::{HashMap, HashMapExt};
use lots_core::Role;
use lots_store::bulk::{BulkTx, BulkWriter, Column, PgTypes, Table};
use lots_store::entity::{app_user, company, department};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use super::CaseImportReport;
use super::check::Directory;
use super::plan::{
    Batch, Builder, CaseCols, EventCols, HandoffRow, Interner, NoteRow, Plan, ReservedIds,
    SupplementRow, SurveyRow, next_id, produce,
};
use super::source::{ImportSource, Layout};
use crate::cases::Cases;
use crate::error::{ServiceError, ServiceResult};

impl Cases {
    /// Creates the departments and users the plan found missing (only with create_missing;
    /// otherwise the checks refused them). A new department takes the reference prefix of its
    /// first line, unless another department has it.
    pub(super) async fn create_missing(
        &self,
        dir: &mut Directory,
        plan: &mut Plan,
        prefixes: &HashMap<String, String>,
    ) -> ServiceResult<()> {
        for code in std::mem::take(&mut plan.missing_deps) {
            let prefix = prefixes
                .get(&code)
                .cloned()
                .unwrap_or_else(|| "IMP".to_string());
            let d = department::ActiveModel {
                code: Set(code.clone()),
                name: Set(code.clone()),
                diary_prefix: Set(if dir.deps.values().any(|d| d.diary_prefix == prefix) {
                    format!("X{}", dir.deps.len())
                } else {
                    prefix
                }),
                created_at: Set(dir.now),
                ..Default::default()
            }
            .insert(self.db.writer())
            .await?;
            self.db.forget(&lots_store::identity::Change::Departments);
            dir.deps.insert(code, d);
        }
        self.create_missing_users(dir, std::mem::take(&mut plan.missing_users))
            .await
    }

    async fn create_missing_users(
        &self,
        dir: &mut Directory,
        missing: BTreeSet<String>,
    ) -> ServiceResult<()> {
        for username in missing {
            let u = app_user::ActiveModel {
                username: Set(username.clone()),
                display_name: Set(username.clone()),
                // No password can match this: imported people log in only after an admin sets one.
                password_hash: Set("!imported".into()),
                role: Set(Role::Officer.as_str().into()),
                department_id: Set(None),
                active: Set(false),
                created_at: Set(dir.now),
                ..Default::default()
            }
            .insert(self.db.writer())
            .await?;
            dir.users.insert(username, u);
        }
        Ok(())
    }

    /// Writes the plan: companies and reserved ids first, then the batches a thread builds
    /// from the file while the batch before is written.
    pub(super) async fn write_import(
        &self,
        (source, layout): (ImportSource, Layout),
        dir: Arc<Directory>,
        mut plan: Plan,
        started: std::time::Instant,
        report: &mut CaseImportReport,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> ServiceResult<()> {
        let mut bulk = BulkWriter::open(&self.db).await?;
        let cases = plan.cases;
        let builder = self.prepare_import(&mut bulk, dir, &mut plan).await?;
        let types = builder.pg_types.clone().map(Arc::new);
        tracing::info!(
            seconds = started.elapsed().as_secs_f64(),
            "import: companies written, ids reserved"
        );
        progress(0, cases);
        // SQLite has one writer; PostgreSQL writes two batches at once, on two connections (its
        // server does most of an import's work, one core a connection). Batches are independent:
        // every row they point at outside themselves was written before the first.
        let mut idle = vec![bulk];
        if self.db.backend() == sea_orm::DbBackend::Postgres {
            idle.push(BulkWriter::open(&self.db).await?);
        }
        let writers = idle.len();
        let (send, mut batches) = tokio::sync::mpsc::channel::<ServiceResult<Batch>>(writers + 1);
        let producer = produce(source, layout, plan.order, builder, send);
        let mut writing = tokio::task::JoinSet::new();
        while let Some(batch) = batches.recv().await {
            let batch = batch?;
            let writer = match idle.pop() {
                Some(writer) => writer,
                None => {
                    let (writer, written) = joined(writing.join_next().await)?;
                    report.imported += written;
                    progress(report.imported, cases);
                    writer
                }
            };
            writing.spawn(write_batch(writer, batch, types.clone()));
        }
        while let Some(done) = writing.join_next().await {
            let (writer, written) = joined(Some(done))?;
            report.imported += written;
            progress(report.imported, cases);
            idle.push(writer);
        }
        for writer in idle {
            writer.close().await?;
        }
        tracing::info!(
            cases = report.imported,
            seconds = started.elapsed().as_secs_f64(),
            "import: every batch written"
        );
        producer
            .await
            .map_err(|e| ServiceError::Internal(format!("the import's reader failed: {e}")))
    }

    /// Writes the companies, and reserves the ids of every row that others point at, so that
    /// the second pass can build each batch's statements whole while the batch before is
    /// written; answers the builder of the batches.
    async fn prepare_import(
        &self,
        bulk: &mut BulkWriter,
        dir: Arc<Directory>,
        plan: &mut Plan,
    ) -> ServiceResult<Builder> {
        let mut tx = bulk.begin().await?;
        let pg_types = tx.pg_types().await?;
        let companies = write_companies(
            &self.db,
            &mut tx,
            pg_types.as_ref(),
            std::mem::take(&mut plan.companies),
            dir.now,
        )
        .await?;
        let case_ids = tx.reserve_ids("case_record", plan.cases).await?;
        let blocks = (case_ids.first().copied(), case_ids.last().copied());
        let ids = ReservedIds {
            cases: case_ids.into_iter(),
            supplements: tx
                .reserve_ids("supplement_request", plan.supplements)
                .await?
                .into_iter(),
            notes: tx.reserve_ids("case_note", plan.notes).await?.into_iter(),
        };
        tx.commit().await?;
        // On PostgreSQL the event log's partitions of the reserved cases are made before their
        // events arrive. Should that wait too long for its lock, the events wait in the DEFAULT
        // partition instead, until the server's next round moves them to their blocks.
        if let (Some(first), Some(last)) = blocks
            && let Err(e) = self.db.ensure_event_partitions_for(first, last).await
        {
            tracing::warn!(error = %e, "import: the event log's partitions not made beforehand");
        }
        Ok(Builder {
            codes: dir.deps.values().map(|d| (d.id, d.code.clone())).collect(),
            dir,
            rules: self.rules.clone(),
            backend: self.db.backend(),
            pg_types,
            companies,
            ids,
            shared: Interner::default(),
        })
    }
}

/// Writes one batch in a transaction of its own; answers the writer and the batch's cases.
async fn write_batch(
    mut writer: BulkWriter,
    batch: Batch,
    types: Option<Arc<PgTypes>>,
) -> ServiceResult<(BulkWriter, usize)> {
    let mut tx = writer.begin().await?;
    lots_store::touch::touch_new_bulk(&mut tx, batch.case_ids, types.as_deref()).await?;
    for statement in batch.statements {
        tx.execute(statement).await?;
    }
    tx.commit().await?;
    Ok((writer, batch.cases))
}

/// The outcome of a batch's task.
fn joined(
    done: Option<Result<ServiceResult<(BulkWriter, usize)>, tokio::task::JoinError>>,
) -> ServiceResult<(BulkWriter, usize)> {
    match done {
        Some(Ok(written)) => written,
        Some(Err(e)) => Err(ServiceError::Internal(format!(
            "a batch's writer failed: {e}"
        ))),
        None => Err(ServiceError::Internal("no batch was being written".into())),
    }
}

impl CaseCols {
    pub(super) fn table(self) -> Table {
        let rows = self.id.len();
        let channel: std::sync::Arc<str> = crate::cases::Channel::Import.as_str().into();
        Table::new("case_record")
            .column("id", Column::Int(self.id))
            .column("reference", Column::Text(self.reference))
            .column("department_id", Column::Int(self.department_id))
            .column("company_id", Column::Int(self.company_id))
            .column("area", Column::Code(self.area))
            .column("case_type", Column::OptCode(self.case_type))
            .column("title", Column::Text(self.title))
            .column("description", Column::Text(self.description))
            .column("assignee_id", Column::OptInt(self.assignee_id))
            .column("status", Column::Code(self.status))
            .column("decision", Column::OptCode(self.decision))
            // Imported cases were created when they were received.
            .column("created_at", Column::Time(self.received_at.clone()))
            .column("received_at", Column::Time(self.received_at))
            .column("complete_at", Column::OptTime(self.complete_at))
            .column("decided_at", Column::OptTime(self.decided_at))
            .column("closed_at", Column::OptTime(self.closed_at))
            .column("version", Column::Int(self.version))
            .column("updated_at", Column::Time(self.updated_at))
            .column("due_date", Column::OptDate(self.due_date))
            .column("deadline_paused", Column::Bool(self.deadline_paused))
            .column("extension_weeks", Column::OptInt(self.extension_weeks))
            .column("decision_due_date", Column::OptDate(self.decision_due_date))
            .column("priority", Column::Code(self.priority))
            .column("channel", Column::Code(vec![channel; rows]))
            .column("labels", Column::Json(self.labels))
    }
}

impl EventCols {
    pub(super) fn table(self) -> Table {
        Table::new("case_event")
            .column("case_id", Column::Int(self.case_id))
            .column("at", Column::Time(self.at))
            .column("kind", Column::Code(self.kind))
            .column("actor_id", Column::OptInt(self.actor_id))
            .column("department_id", Column::OptInt(self.department_id))
            .column("data", Column::Json(self.data))
    }
}

pub(super) fn supplement_table(rows: Vec<SupplementRow>) -> Table {
    let mut t = (
        Vec::with_capacity(rows.len()),
        Vec::with_capacity(rows.len()),
        Vec::with_capacity(rows.len()),
        Vec::with_capacity(rows.len()),
        Vec::with_capacity(rows.len()),
        Vec::with_capacity(rows.len()),
        Vec::with_capacity(rows.len()),
    );
    for r in rows {
        t.0.push(r.id);
        t.1.push(r.case_id);
        t.2.push(r.message);
        t.3.push(r.requested_at);
        t.4.push(r.requested_by);
        t.5.push(r.received_at);
        t.6.push(r.received_by);
    }
    Table::new("supplement_request")
        .column("id", Column::Int(t.0))
        .column("case_id", Column::Int(t.1))
        .column("message", Column::Text(t.2))
        .column("requested_at", Column::Time(t.3))
        .column("requested_by", Column::Int(t.4))
        .column("received_at", Column::OptTime(t.5))
        .column("received_by", Column::OptInt(t.6))
}

pub(super) fn note_table(rows: Vec<NoteRow>) -> Table {
    let n = rows.len();
    let (mut id, mut case_id, mut author, mut text, mut at) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for r in rows {
        id.push(r.id);
        case_id.push(r.case_id);
        author.push(r.author_id);
        text.push(r.text);
        at.push(r.created_at);
    }
    let internal: Arc<str> = Arc::from("internal");
    Table::new("case_note")
        .column("id", Column::Int(id))
        .column("case_id", Column::Int(case_id))
        .column("author_id", Column::Int(author))
        .column("text", Column::Text(text))
        .column("created_at", Column::Time(at))
        .column("visibility", Column::Code(vec![internal; n]))
}

pub(super) fn handoff_table(rows: Vec<HandoffRow>) -> Table {
    let n = rows.len();
    let mut shared = Interner::default();
    let mut case_id = Vec::with_capacity(n);
    let mut kind = Vec::with_capacity(n);
    let mut status = Vec::with_capacity(n);
    let mut from = Vec::with_capacity(n);
    let mut to = Vec::with_capacity(n);
    let mut message = Vec::with_capacity(n);
    let mut response = Vec::with_capacity(n);
    let mut decline = Vec::with_capacity(n);
    let mut requested_by = Vec::with_capacity(n);
    let mut requested_at = Vec::with_capacity(n);
    let mut accepted_by = Vec::with_capacity(n);
    let mut accepted_at = Vec::with_capacity(n);
    let mut completed_by = Vec::with_capacity(n);
    let mut completed_at = Vec::with_capacity(n);
    let mut closed_by = Vec::with_capacity(n);
    let mut closed_at = Vec::with_capacity(n);
    for r in rows {
        case_id.push(r.case_id);
        kind.push(shared.get(&r.kind));
        status.push(shared.get(r.status));
        from.push(r.from_department_id);
        to.push(r.to_department_id);
        message.push(r.message);
        response.push(r.response);
        decline.push(r.decline_reason);
        requested_by.push(r.requested_by);
        requested_at.push(r.requested_at);
        accepted_by.push(r.accepted_by);
        accepted_at.push(r.accepted_at);
        completed_by.push(r.completed_by);
        completed_at.push(r.completed_at);
        closed_by.push(r.closed_by);
        closed_at.push(r.closed_at);
    }
    Table::new("handoff")
        .column("case_id", Column::Int(case_id))
        .column("kind", Column::Code(kind))
        .column("status", Column::Code(status))
        .column("from_department_id", Column::Int(from))
        .column("to_department_id", Column::Int(to))
        .column("message", Column::Text(message))
        .column("response", Column::OptText(response))
        .column("decline_reason", Column::OptText(decline))
        .column("requested_by", Column::Int(requested_by))
        .column("requested_at", Column::Time(requested_at))
        .column("accepted_by", Column::OptInt(accepted_by))
        .column("accepted_at", Column::OptTime(accepted_at))
        .column("completed_by", Column::OptInt(completed_by))
        .column("completed_at", Column::OptTime(completed_at))
        .column("closed_by", Column::OptInt(closed_by))
        .column("closed_at", Column::OptTime(closed_at))
        .column("version", Column::Int(vec![1; n]))
}

const FACTOR_COLUMNS: [&str; 6] = [
    "f_information",
    "f_accessibility",
    "f_treatment",
    "f_competence",
    "f_legal_certainty",
    "f_efficiency",
];
const INDEX_COLUMNS: [&str; 6] = [
    "i_information",
    "i_accessibility",
    "i_treatment",
    "i_competence",
    "i_legal_certainty",
    "i_efficiency",
];

pub(super) fn survey_table(rows: Vec<SurveyRow>, now: DateTime<Utc>) -> Table {
    let n = rows.len();
    let import: Arc<str> = Arc::from("import");
    let answers = |k: usize| Column::SmallInt(rows.iter().map(|r| r.answers[k]).collect());
    let mut t = Table::new("survey_response")
        .column(
            "case_id",
            Column::Int(rows.iter().map(|r| r.case_id).collect()),
        )
        .column("source", Column::Code(vec![import; n]))
        .column("q_overall", answers(0))
        .column("q_expectations", answers(1))
        .column("q_ideal", answers(2));
    for (k, name) in FACTOR_COLUMNS.into_iter().enumerate() {
        t = t.column(
            name,
            Column::OptSmallInt(rows.iter().map(|r| r.factors[k]).collect()),
        );
    }
    for (k, name) in INDEX_COLUMNS.into_iter().enumerate() {
        t = t.column(
            name,
            Column::OptFloat(rows.iter().map(|r| r.indices[k]).collect()),
        );
    }
    t.column("nki", Column::Float(rows.iter().map(|r| r.nki).collect()))
        .column(
            "answered_at",
            Column::Time(rows.iter().map(|r| r.answered_at).collect()),
        )
        .column("created_at", Column::Time(vec![now; n]))
        .column(
            "comment",
            Column::OptText(rows.into_iter().map(|r| r.comment).collect()),
        )
}

/// Writes the import's companies (org number and the file's last name for it, in the order of
/// their first case) and answers their ids: the ones that exist keep theirs (renamed when the
/// file says so), new ones take ids in that order, so that the cases' index on their company
/// grows at its end like the cases themselves.
async fn write_companies(
    db: &lots_store::Db,
    tx: &mut BulkTx<'_>,
    types: Option<&PgTypes>,
    companies: Vec<(String, String)>,
    now: DateTime<Utc>,
) -> ServiceResult<HashMap<String, i64>> {
    let mut stored: HashMap<String, (i64, String)> = HashMap::new();
    let any = company::Entity::find().one(db.reader()).await?;
    for chunk in companies.chunks(5000).filter(|_| any.is_some()) {
        let orgs: Vec<&str> = chunk.iter().map(|(org, _)| org.as_str()).collect();
        for c in company::Entity::find()
            .filter(company::Column::OrgNumber.is_in(orgs))
            .all(db.reader())
            .await?
        {
            stored.insert(c.org_number, (c.id, c.name));
        }
    }
    let fresh = companies
        .iter()
        .filter(|(org, _)| !stored.contains_key(org))
        .count();
    let mut reserved = tx.reserve_ids("company", fresh).await?.into_iter();
    let mut ids = HashMap::with_capacity(companies.len());
    let (mut new, mut renamed) = (CompanyCols::default(), CompanyCols::default());
    for (org, name) in companies {
        match stored.remove(&org) {
            Some((id, old)) => {
                if old != name {
                    renamed.push(None, org.clone(), name);
                }
                ids.insert(org, id);
            }
            None => {
                let id = next_id(&mut reserved, "company")?;
                new.push(Some(id), org.clone(), name);
                ids.insert(org, id);
            }
        }
    }
    tx.write(new.table(now), types).await?;
    tx.insert(renamed.table(now).on_conflict(
        "ON CONFLICT (org_number) DO UPDATE SET name = excluded.name, \
         updated_at = excluded.updated_at",
    ))
    .await?;
    Ok(ids)
}

/// `company` rows, column by column (with ids for new companies, without for renamed ones).
#[derive(Default)]
struct CompanyCols {
    id: Vec<i64>,
    org: Vec<String>,
    name: Vec<String>,
}

impl CompanyCols {
    fn push(&mut self, id: Option<i64>, org: String, name: String) {
        self.id.extend(id);
        self.org.push(org);
        self.name.push(name);
    }

    fn table(self, now: DateTime<Utc>) -> Table {
        let n = self.org.len();
        let table = Table::new("company");
        let table = if self.id.is_empty() {
            table
        } else {
            table.column("id", Column::Int(self.id))
        };
        table
            .column("org_number", Column::Text(self.org))
            .column("name", Column::Text(self.name))
            .column("created_at", Column::Time(vec![now; n]))
            .column("updated_at", Column::Time(vec![now; n]))
    }
}
