//! Bulk import of case histories from older systems (NDJSON, one case a line; API.md). Every
//! line, and the order of its events against the lifecycle, is checked before anything is
//! written; a file with a bad line imports nothing unless `skip_invalid` is set. A reference that
//! exists is refused, so re-importing never duplicates. Imported history is not announced: it
//! writes no outbox rows and sends no webhooks.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

// A fast hash with a random seed: the import hashes millions of references and codes.
use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use lots_core::deadline::DeadlineRules;
use lots_core::nki::{Answers, Instrument};
use lots_core::rfc3339;
use lots_core::{Actor, Area, CaseStatus, Decision, OrgNumber, Reference, Role};
use lots_store::bulk::{BulkTx, BulkWriter, Column, Prepared, Table};
use lots_store::entity::{app_user, case_record, company, department};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DbBackend, EntityTrait, QueryFilter, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};

use crate::cases::Cases;
use crate::deadlines::{ClockEvent, clock as clock_of};
use crate::error::{ServiceError, ServiceResult};

#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Import the good lines and report the bad ones.
    pub skip_invalid: bool,
    /// Create departments and users that do not exist (users get no usable password).
    pub create_missing: bool,
    pub instrument: Instrument,
}

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct CaseImportReport {
    pub lines: usize,
    pub imported: usize,
    /// Every bad line; without `skip_invalid`, one bad line means nothing was imported.
    pub errors: Vec<LineError>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LineError {
    /// 1-based line number.
    pub line: usize,
    pub reference: Option<String>,
    pub message: String,
}

// Lines are read borrowing their text from the file (`Cow` owns only text with escapes): a
// million-line import otherwise spends a fifth of its check allocating strings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Line<'a> {
    #[serde(borrow)]
    reference: Cow<'a, str>,
    #[serde(borrow)]
    org_number: Cow<'a, str>,
    #[serde(borrow)]
    company_name: Cow<'a, str>,
    #[serde(borrow)]
    area: Cow<'a, str>,
    #[serde(borrow)]
    case_type: Option<Cow<'a, str>>,
    #[serde(borrow)]
    department: Cow<'a, str>,
    #[serde(borrow)]
    title: Cow<'a, str>,
    #[serde(borrow)]
    description: Option<Cow<'a, str>>,
    #[serde(borrow)]
    assignee: Option<Cow<'a, str>>,
    #[serde(deserialize_with = "rfc3339::deserialize")]
    received_at: DateTime<Utc>,
    #[serde(default, borrow)]
    events: Vec<Event<'a>>,
    #[serde(borrow)]
    survey: Option<Survey<'a>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Event<'a> {
    #[serde(deserialize_with = "rfc3339::deserialize")]
    at: DateTime<Utc>,
    #[serde(rename = "type", borrow)]
    event_type: Cow<'a, str>,
    #[serde(borrow)]
    actor: Option<Cow<'a, str>>,
    #[serde(borrow)]
    to: Option<Cow<'a, str>>,
    #[serde(borrow)]
    decision: Option<Cow<'a, str>>,
    #[serde(borrow)]
    reason: Option<Cow<'a, str>>,
    #[serde(borrow)]
    text: Option<Cow<'a, str>>,
    #[serde(borrow)]
    message: Option<Cow<'a, str>>,
    #[serde(borrow)]
    handoff: Option<Cow<'a, str>>,
    #[serde(borrow)]
    to_department: Option<Cow<'a, str>>,
    #[serde(borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    response: Option<Cow<'a, str>>,
    weeks: Option<u32>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Survey<'a> {
    #[serde(deserialize_with = "rfc3339::deserialize")]
    answered_at: DateTime<Utc>,
    q_overall: i64,
    q_expectations: i64,
    q_ideal: i64,
    #[serde(default)]
    factors: HashMap<String, i64>,
    #[serde(borrow)]
    comment: Option<Cow<'a, str>>,
}

impl Survey<'_> {
    fn answers(&self) -> Answers {
        let f = |k: &str| self.factors.get(k).copied();
        Answers {
            q_overall: self.q_overall,
            q_expectations: self.q_expectations,
            q_ideal: self.q_ideal,
            factors: lots_core::nki::FACTORS.map(f),
        }
    }
}

/// What the checks derived from a line that passed them.
struct Facts {
    reference: Reference,
    org: OrgNumber,
    area: Area,
    case_type: Option<String>,
}

/// A line that passed every check, with what writing it needs.
struct Checked<'a> {
    line: Line<'a>,
    facts: Facts,
}

/// What the checks look lines up in: the directory as it was when the import began.
struct Directory {
    now: DateTime<Utc>,
    deps: HashMap<String, department::Model>,
    users: HashMap<String, app_user::Model>,
    types: HashMap<Area, Vec<String>>,
    create_missing: bool,
    instrument: Instrument,
}

impl Directory {
    /// Checks a line; `seen` holds the references of the lines before it.
    fn check(
        &self,
        line: &Line<'_>,
        seen: &mut HashSet<String>,
        needs: &mut Needs,
    ) -> Result<Facts, String> {
        check(line, self, seen, needs)
    }
}

/// Departments and users a line names that do not exist (with `create_missing`).
#[derive(Default)]
struct Needs {
    deps: Vec<String>,
    users: Vec<String>,
}

/// The lines of an NDJSON body that are not blank, with their 1-based numbers and where they
/// lie in it.
fn lines(body: &[u8]) -> impl Iterator<Item = (usize, Range<usize>)> + '_ {
    let mut start = 0;
    body.split(|b| *b == b'\n')
        .enumerate()
        .filter_map(move |(i, l)| {
            let span = start..start + l.len();
            start += l.len() + 1;
            (!l.iter().all(u8::is_ascii_whitespace)).then_some((i + 1, span))
        })
}

fn parse(raw: &[u8]) -> Result<Line<'_>, String> {
    serde_json::from_slice::<Line>(raw).map_err(|e| format!("not a case line: {e}"))
}

/// What the first pass over a file found.
#[derive(Default)]
struct FirstPass {
    lines: usize,
    errors: Vec<LineError>,
    /// The good lines, in order.
    good: Vec<Good>,
    /// The reference prefix of the first good line of each department (of the part).
    prefixes: HashMap<String, String>,
}

/// What the second pass needs to know of a good line before it starts.
struct Good {
    line: usize,
    /// As stored.
    reference: String,
    needs: Needs,
    org: String,
    company: String,
    /// Supplement requests and notes, which take ids of their own.
    supplements: usize,
    notes: usize,
    received_at: DateTime<Utc>,
    /// Where the line lies in the file.
    span: Range<usize>,
}

/// The first pass: every line parsed and checked, nothing kept but what the second pass and the
/// report need. References that exist in the database are looked up afterwards.
fn survey(body: &[u8], dir: &Directory) -> FirstPass {
    // The file is cut at line ends into a part a core, checked side by side.
    let parts = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    let mut cuts = vec![(0usize, 0usize)]; // (byte offset, lines before it)
    for k in 1..parts {
        let (from, before) = *cuts.last().unwrap_or(&(0, 0));
        let target = (body.len() * k / parts).max(from);
        let Some(nl) = body[target..].iter().position(|b| *b == b'\n') else {
            break;
        };
        let at = target + nl + 1;
        let newlines = body[from..at].iter().filter(|b| **b == b'\n').count();
        cuts.push((at, before + newlines));
    }
    cuts.push((body.len(), 0));
    let results: Vec<(FirstPass, Vec<(usize, String)>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = cuts
            .windows(2)
            .map(|w| {
                let ((from, before), (to, _)) = (w[0], w[1]);
                scope.spawn(move || survey_part(body, from..to, before, dir))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    // A reference an earlier part holds makes the line a repeat, as one pass would have found.
    let mut out = FirstPass::default();
    let mut earlier: HashSet<String> = HashSet::new();
    for (part, refs) in results {
        let good_refs = part.good.iter().map(|g| (g.line, &g.reference));
        let repeats: HashSet<usize> = refs
            .iter()
            .map(|(line, r)| (*line, r))
            .chain(good_refs.clone())
            .filter(|(_, r)| earlier.contains(*r))
            .map(|(line, _)| line)
            .collect();
        let all: Vec<String> = good_refs.map(|(_, r)| r.clone()).collect();
        earlier.extend(all);
        earlier.extend(refs.into_iter().map(|(_, r)| r));
        for (department, prefix) in part.prefixes {
            out.prefixes.entry(department).or_insert(prefix);
        }
        out.lines += part.lines;
        for mut e in part.errors {
            if repeats.contains(&e.line) {
                e.message = REPEATED.into();
            }
            out.errors.push(e);
        }
        for g in part.good {
            if repeats.contains(&g.line) {
                // Rare: the reference as the file gives it is read again from the line.
                let raw =
                    parse(&body[g.span.clone()]).map_or(g.reference, |l| l.reference.into_owned());
                out.errors.push(LineError {
                    line: g.line,
                    reference: Some(raw),
                    message: REPEATED.into(),
                });
            } else {
                out.good.push(g);
            }
        }
    }
    out.errors.sort_by_key(|e| e.line);
    out
}

const REPEATED: &str = "reference: appears twice in the file";

/// Checks the lines of one part of a file (whose first line follows `before` lines), and
/// answers the reference as stored of each bad line that has one, for the checks across parts
/// (a good line's is in its `Good`).
fn survey_part(
    body: &[u8],
    part: Range<usize>,
    before: usize,
    dir: &Directory,
) -> (FirstPass, Vec<(usize, String)>) {
    let mut out = FirstPass::default();
    let mut refs = Vec::new();
    let mut seen = HashSet::new();
    let from = part.start;
    for (line_no, span) in lines(&body[part]) {
        let line_no = line_no + before;
        let span = span.start + from..span.end + from;
        out.lines += 1;
        let line = match parse(&body[span.clone()]) {
            Ok(l) => l,
            Err(message) => {
                out.errors.push(LineError {
                    line: line_no,
                    reference: None,
                    message,
                });
                continue;
            }
        };
        let mut needs = Needs::default();
        match dir.check(&line, &mut seen, &mut needs) {
            Ok(facts) => {
                if !out.prefixes.contains_key(&*line.department) {
                    out.prefixes.insert(
                        line.department.to_string(),
                        facts.reference.prefix().to_string(),
                    );
                }
                let count =
                    |kind: &str| line.events.iter().filter(|e| e.event_type == kind).count();
                out.good.push(Good {
                    line: line_no,
                    reference: facts.reference.to_string(),
                    needs,
                    org: facts.org.as_str().to_string(),
                    company: line.company_name.trim().to_string(),
                    supplements: count("supplement_requested"),
                    notes: count("note"),
                    received_at: line.received_at,
                    span,
                });
            }
            Err(message) => {
                if let Ok(r) = Reference::parse(&line.reference) {
                    refs.push((line_no, r.to_string()));
                }
                out.errors.push(LineError {
                    line: line_no,
                    reference: Some(line.reference.into_owned()),
                    message,
                });
            }
        }
    }
    (out, refs)
}

const HANDOFF_KINDS: [&str; 3] = ["transfer", "consultation", "contact"];

/// Lines the second pass hands the writer at a time: one transaction each.
const BATCH: usize = 10_000;

impl Cases {
    /// Imports case histories (see the module's documentation). The file is read twice: first
    /// every line is checked and nothing written; then, unless that found a bad line, a thread
    /// parses the lines again batch by batch while this task writes the batch before.
    /// `progress` hears (cases written, cases to write) once the check passed and after each
    /// batch.
    pub async fn import_cases(
        &self,
        actor: &Actor,
        body: Bytes,
        options: &ImportOptions,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> ServiceResult<CaseImportReport> {
        if !lots_core::access::may(actor, lots_core::access::Capability::Administer) {
            return Err(ServiceError::Forbidden(
                "only an admin imports case histories".into(),
            ));
        }
        if std::str::from_utf8(&body).is_err() {
            return Err(ServiceError::invalid("body", "must be UTF-8 NDJSON"));
        }
        let deps: HashMap<String, department::Model> = department::Entity::find()
            .all(self.db.reader())
            .await?
            .into_iter()
            .map(|d| (d.code.clone(), d))
            .collect();
        let users: HashMap<String, app_user::Model> = app_user::Entity::find()
            .all(self.db.reader())
            .await?
            .into_iter()
            .map(|u| (u.username.clone(), u))
            .collect();
        // The active case types of each area, as for cases registered live.
        let mut types: HashMap<Area, Vec<String>> = HashMap::new();
        for area in Area::ALL {
            types.insert(
                *area,
                crate::case_types::active_types(self.db.reader(), *area).await?,
            );
        }
        let dir = Arc::new(Directory {
            now: self.clock.now(),
            deps,
            users,
            types,
            create_missing: options.create_missing,
            instrument: options.instrument.clone(),
        });

        let started = std::time::Instant::now();
        let first = {
            let (body, dir) = (body.clone(), dir.clone());
            tokio::task::spawn_blocking(move || survey(&body, &dir))
                .await
                .map_err(|e| ServiceError::Internal(format!("the import's check failed: {e}")))?
        };
        let mut report = CaseImportReport {
            lines: first.lines,
            imported: 0,
            errors: first.errors,
        };
        // A diarienummer that exists is refused (as stored: `BN 2026/00042` is `BN 2026/0042`).
        let mut existing: HashSet<String> = HashSet::new();
        let any = case_record::Entity::find().one(self.db.reader()).await?;
        for chunk in first.good.chunks(5000).filter(|_| any.is_some()) {
            let refs: Vec<&str> = chunk.iter().map(|g| g.reference.as_str()).collect();
            existing.extend(
                case_record::Entity::find()
                    .select_only()
                    .column(case_record::Column::Reference)
                    .filter(case_record::Column::Reference.is_in(refs))
                    .into_tuple::<String>()
                    .all(self.db.reader())
                    .await?,
            );
        }
        // The lines to write, in the order the cases were received: ids follow it, and the
        // indexes on received and due dates grow at their ends instead of everywhere at once.
        let mut order: Vec<(DateTime<Utc>, usize, Range<usize>, String)> = Vec::new();
        let mut missing_deps: BTreeSet<String> = BTreeSet::new();
        let mut missing_users: BTreeSet<String> = BTreeSet::new();
        // The companies of the lines to import: the last name in the file wins.
        let mut companies: HashMap<String, String> = HashMap::new();
        let (mut cases, mut supplements, mut notes) = (0, 0, 0);
        for g in first.good {
            if existing.contains(&g.reference) {
                report.errors.push(LineError {
                    line: g.line,
                    reference: Some(g.reference),
                    message:
                        "reference: a case with this diarienummer exists; re-importing is refused"
                            .into(),
                });
            } else {
                missing_deps.extend(g.needs.deps);
                missing_users.extend(g.needs.users);
                companies.insert(g.org.clone(), g.company);
                cases += 1;
                supplements += g.supplements;
                notes += g.notes;
                order.push((g.received_at, g.line, g.span, g.org));
            }
        }
        order.sort_unstable_by_key(|o| (o.0, o.1));
        // Companies take their ids in the order of their first case, like the cases.
        let companies: Vec<(String, String)> = order
            .iter()
            .filter_map(|(.., org)| companies.remove_entry(org))
            .collect();
        report.errors.sort_by_key(|e| e.line);
        tracing::info!(
            lines = report.lines,
            bad = report.errors.len(),
            seconds = started.elapsed().as_secs_f64(),
            "import: every line checked"
        );
        if !report.errors.is_empty() && !options.skip_invalid {
            return Ok(report);
        }

        // Create what is missing (only with create_missing; otherwise the checks refused it).
        let mut dir = Arc::try_unwrap(dir)
            .map_err(|_| ServiceError::Internal("the import's directory is still shared".into()))?;
        for code in missing_deps {
            let prefix = first
                .prefixes
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
            dir.deps.insert(code, d);
        }
        for username in missing_users {
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
        let dir = Arc::new(dir);

        // Companies first, and the ids of every row that others point at, so that the second
        // pass can build each batch's statements whole while the batch before is written.
        let mut bulk = BulkWriter::open(&self.db).await?;
        let mut tx = bulk.begin().await?;
        let companies = write_companies(&self.db, &mut tx, companies, dir.now).await?;
        let ids = ReservedIds {
            cases: tx.reserve_ids("case_record", cases).await?.into_iter(),
            supplements: tx
                .reserve_ids("supplement_request", supplements)
                .await?
                .into_iter(),
            notes: tx.reserve_ids("case_note", notes).await?.into_iter(),
        };
        tx.commit().await?;
        tracing::info!(
            seconds = started.elapsed().as_secs_f64(),
            "import: companies written, ids reserved"
        );
        let mut builder = Builder {
            dir: dir.clone(),
            rules: self.rules.clone(),
            backend: self.db.backend(),
            codes: dir.deps.values().map(|d| (d.id, d.code.clone())).collect(),
            companies,
            ids,
            shared: Interner::default(),
        };

        progress(0, cases);
        // The second pass: a thread parses and builds the next batch while this task writes
        // the one before.
        let (send, mut batches) = tokio::sync::mpsc::channel::<ServiceResult<Batch>>(2);
        let producer = tokio::task::spawn_blocking(move || {
            let mut seen = HashSet::new();
            let mut checked = Vec::with_capacity(BATCH);
            for chunk in order.chunks(BATCH) {
                checked.clear();
                for (_, _, span, _) in chunk {
                    // The first pass took this line: it parses and checks the same way again.
                    let Ok(line) = parse(&body[span.clone()]) else {
                        continue;
                    };
                    let Ok(facts) = builder.dir.check(&line, &mut seen, &mut Needs::default())
                    else {
                        continue;
                    };
                    checked.push(Checked { line, facts });
                }
                if send.blocking_send(builder.batch(&checked)).is_err() {
                    return; // The writer stopped.
                }
            }
        });
        while let Some(batch) = batches.recv().await {
            let batch = batch?;
            let mut tx = bulk.begin().await?;
            lots_store::touch::touch_bulk(&mut tx, batch.case_ids).await?;
            for statement in batch.statements {
                tx.execute(statement).await?;
            }
            tx.commit().await?;
            report.imported += batch.cases;
            progress(report.imported, cases);
        }
        bulk.close().await?;
        tracing::info!(
            cases = report.imported,
            seconds = started.elapsed().as_secs_f64(),
            "import: every batch written"
        );
        producer
            .await
            .map_err(|e| ServiceError::Internal(format!("the import's reader failed: {e}")))?;
        Ok(report)
    }
}

/// A batch's statements, ready to run.
struct Batch {
    cases: usize,
    case_ids: Vec<i64>,
    statements: Vec<Prepared>,
}

/// Builds the rows of batches of checked lines and binds them into statements.
struct Builder {
    dir: Arc<Directory>,
    rules: Arc<DeadlineRules>,
    backend: DbBackend,
    /// Each department's code by id.
    codes: HashMap<i64, String>,
    /// Each company's id by org number.
    companies: HashMap<String, i64>,
    ids: ReservedIds,
    shared: Interner,
}

/// One allocation per distinct code (a status, an event kind, an area), shared by every row.
#[derive(Default)]
struct Interner(HashMap<String, Arc<str>>);

impl Interner {
    fn get(&mut self, s: &str) -> Arc<str> {
        if let Some(a) = self.0.get(s) {
            return a.clone();
        }
        let a: Arc<str> = Arc::from(s);
        self.0.insert(s.to_string(), a.clone());
        a
    }
}

impl Builder {
    /// The statements of a batch, in an order that keeps every reference valid: cases, then
    /// what points at them.
    fn batch(&mut self, batch: &[Checked]) -> ServiceResult<Batch> {
        let mut rows = Rows::default();
        let mut serials: BTreeMap<(i64, i32), u32> = BTreeMap::new();
        let mut case_ids = Vec::with_capacity(batch.len());
        for c in batch {
            let case_id = self
                .ids
                .cases
                .next()
                .ok_or_else(|| ServiceError::Internal("too few case ids".into()))?;
            case_ids.push(case_id);
            let company_id = *self.companies.get(c.facts.org.as_str()).ok_or_else(|| {
                ServiceError::Internal(format!("company {}", c.facts.org.as_str()))
            })?;
            self.build(c, case_id, company_id, &mut rows)?;
            // Keep the department's diary series ahead of every imported serial.
            if let Some(d) = self
                .dir
                .deps
                .values()
                .find(|d| d.diary_prefix == c.facts.reference.prefix())
            {
                let top = serials.entry((d.id, c.facts.reference.year())).or_default();
                *top = (*top).max(c.facts.reference.serial());
            }
        }
        let now = self.dir.now;
        let mut deps = Vec::new();
        let mut years = Vec::new();
        let mut tops = Vec::new();
        for ((d, y), top) in serials {
            deps.push(d);
            years.push(i64::from(y));
            tops.push(i64::from(top));
        }
        let series = Table::new("reference_series")
            .column("department_id", Column::Int(deps))
            .column("year", Column::Int(years))
            .column("last_serial", Column::Int(tops))
            .on_conflict(
                "ON CONFLICT (department_id, year) DO UPDATE SET last_serial = CASE \
                 WHEN excluded.last_serial > reference_series.last_serial \
                 THEN excluded.last_serial ELSE reference_series.last_serial END",
            );
        let mut statements = Vec::new();
        for table in [
            rows.cases.table(),
            supplement_table(rows.supplements),
            note_table(rows.notes),
            handoff_table(rows.handoffs),
            rows.events.table(),
            survey_table(rows.surveys, now),
            series,
        ] {
            statements.extend(table.prepare(self.backend, None)?);
        }
        Ok(Batch {
            cases: batch.len(),
            case_ids,
            statements,
        })
    }

    /// The rows of one case: the case with its final state and statutory clock, its events in
    /// order, and what they created.
    fn build(
        &mut self,
        c: &Checked,
        case_id: i64,
        company_id: i64,
        rows: &mut Rows,
    ) -> ServiceResult<()> {
        let l = &c.line;
        let dir = &*self.dir;
        let dep = |code: &str| {
            dir.deps
                .get(code)
                .map(|d| d.id)
                .ok_or_else(|| ServiceError::Internal(format!("department {code}")))
        };
        let user =
            |name: &Option<Cow<str>>| name.as_deref().and_then(|n| dir.users.get(n)).map(|u| u.id);
        let first_dep = dep(&l.department)?;
        let first_actor = l
            .events
            .first()
            .and_then(|e| user(&e.actor))
            .or(user(&l.assignee));
        let codes = &self.codes;
        let mut events = EventCase {
            case_id,
            cols: &mut rows.events,
            shared: &mut self.shared,
        };
        events.push(
            l.received_at,
            "created",
            first_actor,
            Some(first_dep),
            json(&data::Created {
                imported: true,
                reference: &c.facts.reference.to_string(),
            }),
        );
        let mut clock = Vec::new();
        let mut status = CaseStatus::Received;
        let mut owner = first_dep;
        let mut decision = None;
        let (mut decided_at, mut closed_at) = (None, None);
        let mut handoffs: Vec<(&str, HandoffRow)> = Vec::new();
        let first_supplement = rows.supplements.len();
        let mut open_supplement: Option<i64> = None;
        for (i, e) in l.events.iter().enumerate() {
            let actor_id = user(&e.actor);
            let actor_dep = e
                .actor
                .as_ref()
                .and_then(|a| dir.users.get(&**a))
                .and_then(|u| u.department_id)
                .or(Some(owner));
            let mut push = |kind: &'static str, data: String| {
                events.push(e.at, kind, actor_id, actor_dep, data);
            };
            let status_changed = |from: CaseStatus, to: CaseStatus, decision: Option<&str>| {
                json(&data::StatusChanged {
                    decision,
                    from,
                    reason: e.reason.as_deref(),
                    to,
                })
            };
            match &*e.event_type {
                "supplement_requested" => {
                    let id = match actor_id.or(first_actor) {
                        Some(by) => {
                            let id = self.ids.supplements.next().ok_or_else(|| {
                                ServiceError::Internal("too few supplement ids".into())
                            })?;
                            rows.supplements.push(SupplementRow {
                                id,
                                case_id,
                                message: e
                                    .message
                                    .as_deref()
                                    .or(e.reason.as_deref())
                                    .unwrap_or("Begäran om komplettering")
                                    .to_string(),
                                requested_at: e.at,
                                requested_by: by,
                                received_at: None,
                                received_by: None,
                            });
                            Some(id)
                        }
                        None => None,
                    };
                    open_supplement = id;
                    clock.push(ClockEvent::SupplementRequested {
                        // Without a request row the clock still pauses, keyed by position.
                        request: id.unwrap_or(-(i as i64) - 1),
                        at: e.at,
                    });
                    push(
                        "supplement_requested",
                        json(&data::SupplementRequested {
                            message: e.message.as_deref(),
                            request_id: id,
                        }),
                    );
                    push(
                        "status_changed",
                        status_changed(status, CaseStatus::AwaitingSupplement, None),
                    );
                    status = CaseStatus::AwaitingSupplement;
                }
                "supplement_received" => {
                    if let Some(id) = open_supplement.take() {
                        if let Some(r) = rows.supplements[first_supplement..]
                            .iter_mut()
                            .rev()
                            .find(|r| r.id == id)
                        {
                            r.received_at = Some(e.at);
                            r.received_by = actor_id;
                        }
                        clock.push(ClockEvent::SupplementReceived {
                            request: id,
                            at: e.at,
                        });
                        push(
                            "supplement_received",
                            json(&data::SupplementReceived { request_id: id }),
                        );
                    }
                    push(
                        "status_changed",
                        status_changed(status, CaseStatus::InProgress, None),
                    );
                    status = CaseStatus::InProgress;
                }
                "status_changed" | "decided" | "closed" | "withdrawn" => {
                    let to = target(e).unwrap_or(status);
                    if to == CaseStatus::Decided {
                        decision = e.decision.as_deref();
                        decided_at = Some(e.at);
                    }
                    if matches!(to, CaseStatus::Closed | CaseStatus::Withdrawn) {
                        closed_at = Some(e.at);
                    }
                    push(
                        "status_changed",
                        status_changed(status, to, e.decision.as_deref()),
                    );
                    status = to;
                }
                "note" => {
                    if let Some(author) = actor_id {
                        let id = self
                            .ids
                            .notes
                            .next()
                            .ok_or_else(|| ServiceError::Internal("too few note ids".into()))?;
                        rows.notes.push(NoteRow {
                            id,
                            case_id,
                            author_id: author,
                            text: e.text.as_deref().unwrap_or_default().to_string(),
                            created_at: e.at,
                        });
                        push(
                            "note_added",
                            json(&data::NoteAdded {
                                note_id: id,
                                text: e.text.as_deref(),
                            }),
                        );
                    }
                }
                "deadline_extended" => {
                    let weeks = e.weeks.unwrap_or(10);
                    clock.push(ClockEvent::DeadlineExtended { weeks: Some(weeks) });
                    push(
                        "deadline_extended",
                        json(&data::DeadlineExtended {
                            reason: e.reason.as_deref(),
                            weeks,
                        }),
                    );
                }
                "decision_requested" => {
                    clock.push(ClockEvent::DecisionRequested { at: e.at });
                    push(
                        "decision_requested",
                        json(&data::DecisionRequested {
                            note: e.reason.as_deref(),
                        }),
                    );
                }
                t if t.starts_with("handoff_") => {
                    let key = e.handoff.as_deref().unwrap_or_default();
                    if t == "handoff_requested" {
                        handoffs.push((
                            key,
                            HandoffRow {
                                case_id,
                                kind: e.kind.as_deref().unwrap_or_default().to_string(),
                                status: "requested",
                                from_department_id: owner,
                                to_department_id: dep(e
                                    .to_department
                                    .as_deref()
                                    .unwrap_or_default())?,
                                message: e.message.as_deref().unwrap_or_default().to_string(),
                                response: None,
                                decline_reason: None,
                                requested_by: actor_id.or(first_actor).unwrap_or_default(),
                                requested_at: e.at,
                                accepted_by: None,
                                accepted_at: None,
                                completed_by: None,
                                completed_at: None,
                                closed_by: None,
                                closed_at: None,
                            },
                        ));
                    }
                    let Some((_, h)) = handoffs.iter_mut().rev().find(|(k, _)| *k == key) else {
                        continue;
                    };
                    let (from, to) = (h.from_department_id, h.to_department_id);
                    let handoff_data = |ownership_moved: Option<bool>| {
                        json(&data::Handoff {
                            from_department: codes.get(&from).map(String::as_str),
                            handoff_key: key,
                            handoff_kind: &h.kind,
                            ownership_moved,
                            to_department: codes.get(&to).map(String::as_str),
                        })
                    };
                    let plain = handoff_data(None);
                    let t: &'static str = match t {
                        "handoff_accepted" => {
                            let moved = (h.kind == "transfer").then(|| handoff_data(Some(true)));
                            h.status = "accepted";
                            h.accepted_at = Some(e.at);
                            h.accepted_by = actor_id;
                            if let Some(completed) = moved {
                                owner = to;
                                // As in the live service, an accepted transfer is done: the
                                // new department owns the case. A completion the file gives
                                // later is taken instead.
                                let completed_later = l.events.iter().any(|x| {
                                    x.event_type == "handoff_completed" && x.handoff == e.handoff
                                });
                                if !completed_later {
                                    h.status = "completed";
                                    h.completed_at = Some(e.at);
                                    h.completed_by = actor_id;
                                    push("handoff_accepted", plain);
                                    push("handoff_completed", completed);
                                    continue;
                                }
                            }
                            "handoff_accepted"
                        }
                        "handoff_completed" => {
                            h.status = "completed";
                            h.completed_at = Some(e.at);
                            h.completed_by = actor_id;
                            h.response = e.response.as_deref().map(str::to_string);
                            "handoff_completed"
                        }
                        "handoff_declined" | "handoff_cancelled" => {
                            let declined = t == "handoff_declined";
                            h.status = if declined { "declined" } else { "cancelled" };
                            h.closed_at = Some(e.at);
                            h.closed_by = actor_id;
                            h.decline_reason = e.reason.as_deref().map(str::to_string);
                            if declined {
                                "handoff_declined"
                            } else {
                                "handoff_cancelled"
                            }
                        }
                        _ => "handoff_requested",
                    };
                    push(t, plain);
                }
                _ => {}
            }
        }
        // The statutory clock from the imported events, as for live cases.
        let stored = clock_of(
            self.rules
                .for_case(c.facts.area, c.facts.case_type.as_deref()),
            l.received_at,
            clock,
        );
        let last_at = l.events.last().map_or(l.received_at, |e| e.at);
        let shared = &mut self.shared;
        let r = &mut rows.cases;
        r.id.push(case_id);
        r.reference.push(c.facts.reference.to_string());
        r.department_id.push(owner);
        r.company_id.push(company_id);
        r.area.push(shared.get(c.facts.area.as_str()));
        r.case_type
            .push(c.facts.case_type.as_deref().map(|t| shared.get(t)));
        r.title.push(l.title.trim().to_string());
        r.description
            .push(l.description.as_deref().unwrap_or_default().to_string());
        r.assignee_id.push(user(&l.assignee));
        r.status.push(shared.get(status.as_str()));
        r.decision.push(decision.map(|d| shared.get(d)));
        r.received_at.push(l.received_at);
        r.complete_at.push(stored.complete_at);
        r.decided_at.push(decided_at);
        r.closed_at.push(closed_at);
        r.version.push(1 + l.events.len() as i64);
        r.updated_at.push(last_at);
        r.due_date.push(stored.due_date);
        r.deadline_paused.push(stored.paused);
        r.extension_weeks
            .push(stored.extension_weeks.map(i64::from));
        r.decision_due_date.push(stored.decision_due_date);
        r.priority.push(shared.get("normal"));
        r.labels.push("[]".to_string());
        rows.handoffs.extend(handoffs.into_iter().map(|(_, h)| h));
        if let Some(s) = &l.survey {
            let answers = s.answers();
            let scores = self.dir.instrument.score(&answers);
            let small = |v: i64| i16::try_from(v).unwrap_or_default();
            rows.surveys.push(SurveyRow {
                case_id,
                answers: [s.q_overall, s.q_expectations, s.q_ideal].map(small),
                factors: answers
                    .factors
                    .map(|f| f.and_then(|v| i16::try_from(v).ok())),
                comment: s.comment.as_deref().map(str::to_string),
                nki: scores.nki,
                indices: scores.factors,
                answered_at: s.answered_at,
            });
        }
        Ok(())
    }
}

fn json<T: Serialize>(value: &T) -> String {
    // The data types below are plain structs of strings and numbers: they always serialize.
    serde_json::to_string(value).unwrap_or_else(|_| "{}".to_string())
}

/// The data of imported events, as the live service writes them (keys in the order a JSON
/// object would sort them).
mod data {
    use lots_core::CaseStatus;
    use serde::Serialize;

    #[derive(Serialize)]
    pub struct Created<'a> {
        pub imported: bool,
        pub reference: &'a str,
    }

    #[derive(Serialize)]
    pub struct StatusChanged<'a> {
        pub decision: Option<&'a str>,
        pub from: CaseStatus,
        pub reason: Option<&'a str>,
        pub to: CaseStatus,
    }

    #[derive(Serialize)]
    pub struct SupplementRequested<'a> {
        pub message: Option<&'a str>,
        pub request_id: Option<i64>,
    }

    #[derive(Serialize)]
    pub struct SupplementReceived {
        pub request_id: i64,
    }

    #[derive(Serialize)]
    pub struct NoteAdded<'a> {
        pub note_id: i64,
        pub text: Option<&'a str>,
    }

    #[derive(Serialize)]
    pub struct DeadlineExtended<'a> {
        pub reason: Option<&'a str>,
        pub weeks: u32,
    }

    #[derive(Serialize)]
    pub struct DecisionRequested<'a> {
        pub note: Option<&'a str>,
    }

    #[derive(Serialize)]
    pub struct Handoff<'a> {
        pub from_department: Option<&'a str>,
        pub handoff_key: &'a str,
        pub handoff_kind: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub ownership_moved: Option<bool>,
        pub to_department: Option<&'a str>,
    }
}

/// A batch's rows, table by table.
#[derive(Default)]
struct Rows {
    cases: CaseCols,
    events: EventCols,
    supplements: Vec<SupplementRow>,
    notes: Vec<NoteRow>,
    handoffs: Vec<HandoffRow>,
    surveys: Vec<SurveyRow>,
}

/// Ids reserved for the rows of the whole import.
struct ReservedIds {
    cases: std::vec::IntoIter<i64>,
    supplements: std::vec::IntoIter<i64>,
    notes: std::vec::IntoIter<i64>,
}

/// `case_record` rows, column by column.
#[derive(Default)]
struct CaseCols {
    id: Vec<i64>,
    reference: Vec<String>,
    department_id: Vec<i64>,
    company_id: Vec<i64>,
    area: Vec<Arc<str>>,
    case_type: Vec<Option<Arc<str>>>,
    title: Vec<String>,
    description: Vec<String>,
    assignee_id: Vec<Option<i64>>,
    status: Vec<Arc<str>>,
    decision: Vec<Option<Arc<str>>>,
    received_at: Vec<DateTime<Utc>>,
    complete_at: Vec<Option<DateTime<Utc>>>,
    decided_at: Vec<Option<DateTime<Utc>>>,
    closed_at: Vec<Option<DateTime<Utc>>>,
    version: Vec<i64>,
    updated_at: Vec<DateTime<Utc>>,
    due_date: Vec<Option<NaiveDate>>,
    deadline_paused: Vec<bool>,
    extension_weeks: Vec<Option<i64>>,
    decision_due_date: Vec<Option<NaiveDate>>,
    priority: Vec<Arc<str>>,
    labels: Vec<String>,
}

impl CaseCols {
    fn table(self) -> Table {
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
            .column("labels", Column::Json(self.labels))
    }
}

/// `case_event` rows, column by column.
#[derive(Default)]
struct EventCols {
    case_id: Vec<i64>,
    at: Vec<DateTime<Utc>>,
    kind: Vec<Arc<str>>,
    actor_id: Vec<Option<i64>>,
    department_id: Vec<Option<i64>>,
    data: Vec<String>,
}

impl EventCols {
    fn table(self) -> Table {
        Table::new("case_event")
            .column("case_id", Column::Int(self.case_id))
            .column("at", Column::Time(self.at))
            .column("kind", Column::Code(self.kind))
            .column("actor_id", Column::OptInt(self.actor_id))
            .column("department_id", Column::OptInt(self.department_id))
            .column("data", Column::Json(self.data))
    }
}

/// One case's events, appended in order.
struct EventCase<'a> {
    case_id: i64,
    cols: &'a mut EventCols,
    shared: &'a mut Interner,
}

impl EventCase<'_> {
    fn push(
        &mut self,
        at: DateTime<Utc>,
        kind: &'static str,
        actor_id: Option<i64>,
        department_id: Option<i64>,
        data: String,
    ) {
        let c = &mut *self.cols;
        c.case_id.push(self.case_id);
        c.at.push(at);
        c.kind.push(self.shared.get(kind));
        c.actor_id.push(actor_id);
        c.department_id.push(department_id);
        c.data.push(data);
    }
}

struct SupplementRow {
    id: i64,
    case_id: i64,
    message: String,
    requested_at: DateTime<Utc>,
    requested_by: i64,
    received_at: Option<DateTime<Utc>>,
    received_by: Option<i64>,
}

fn supplement_table(rows: Vec<SupplementRow>) -> Table {
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

struct NoteRow {
    id: i64,
    case_id: i64,
    author_id: i64,
    text: String,
    created_at: DateTime<Utc>,
}

fn note_table(rows: Vec<NoteRow>) -> Table {
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

struct HandoffRow {
    case_id: i64,
    kind: String,
    status: &'static str,
    from_department_id: i64,
    to_department_id: i64,
    message: String,
    response: Option<String>,
    decline_reason: Option<String>,
    requested_by: i64,
    requested_at: DateTime<Utc>,
    accepted_by: Option<i64>,
    accepted_at: Option<DateTime<Utc>>,
    completed_by: Option<i64>,
    completed_at: Option<DateTime<Utc>>,
    closed_by: Option<i64>,
    closed_at: Option<DateTime<Utc>>,
}

fn handoff_table(rows: Vec<HandoffRow>) -> Table {
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

struct SurveyRow {
    case_id: i64,
    /// q_overall, q_expectations, q_ideal.
    answers: [i16; 3],
    factors: [Option<i16>; 6],
    comment: Option<String>,
    nki: f64,
    indices: [Option<f64>; 6],
    answered_at: DateTime<Utc>,
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

fn survey_table(rows: Vec<SurveyRow>, now: DateTime<Utc>) -> Table {
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
                let id = reserved
                    .next()
                    .ok_or_else(|| ServiceError::Internal("too few company ids".into()))?;
                new.push(Some(id), org.clone(), name);
                ids.insert(org, id);
            }
        }
    }
    tx.insert(new.table(now)).await?;
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

/// Where in a line an event is, for messages (formatted only when one is written).
#[derive(Clone, Copy)]
struct At(usize);

impl std::fmt::Display for At {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "events[{}]", self.0)
    }
}

fn target(e: &Event) -> Option<CaseStatus> {
    match &*e.event_type {
        "decided" => Some(CaseStatus::Decided),
        "closed" => Some(CaseStatus::Closed),
        "withdrawn" => Some(CaseStatus::Withdrawn),
        "supplement_requested" => Some(CaseStatus::AwaitingSupplement),
        "supplement_received" => Some(CaseStatus::InProgress),
        _ => e.to.as_deref().and_then(|t| t.parse().ok()),
    }
}

/// Checks one line against the lifecycle and the directory; the first problem as a message.
fn check(
    l: &Line<'_>,
    dir: &Directory,
    seen: &mut HashSet<String>,
    needs: &mut Needs,
) -> Result<Facts, String> {
    let Directory {
        now,
        deps,
        users,
        types: case_types,
        create_missing,
        instrument,
    } = dir;
    let (now, create_missing) = (*now, *create_missing);
    let (need_deps, need_users) = (&mut needs.deps, &mut needs.users);
    let reference = Reference::parse(&l.reference).map_err(|e| format!("reference: {e}"))?;
    if !seen.insert(reference.to_string()) {
        return Err(REPEATED.into());
    }
    let org = OrgNumber::parse(&l.org_number).map_err(|e| format!("org_number: {e}"))?;
    if l.company_name.trim().is_empty() {
        return Err("company_name: is required".into());
    }
    let area: Area = l.area.parse().map_err(|e| format!("area: {e}"))?;
    let types = case_types.get(&area).map(Vec::as_slice).unwrap_or_default();
    let case_type = match (types, l.case_type.as_deref()) {
        ([], Some(_)) => return Err(format!("case_type: the area {area} has no case types")),
        // Building cases default to the first type (a permit); elsewhere a type is optional.
        (types, None) if area.case_types().is_empty() || types.is_empty() => None,
        (types, None) => Some(types[0].clone()),
        (types, Some(t)) if types.iter().any(|x| x == t) => Some(t.to_string()),
        (types, Some(_)) => return Err(format!("case_type: must be one of {}", types.join(", "))),
    };
    let title = l.title.trim();
    if title.is_empty() || title.chars().count() > 200 {
        return Err("title: must be 1 to 200 characters".into());
    }
    if l.received_at > now || l.received_at.year() < 1990 {
        return Err("received_at: must lie between 1990 and now".into());
    }
    // What is missing is noted once a line, however often the line names it.
    let mut need_dep = |code: &str| -> Result<(), String> {
        if deps.contains_key(code) {
            Ok(())
        } else if create_missing {
            if !need_deps.iter().any(|d| d == code) {
                need_deps.push(code.to_string());
            }
            Ok(())
        } else {
            Err(format!(
                "department `{code}` does not exist (use create_missing to create it)"
            ))
        }
    };
    need_dep(&l.department)?;
    let mut need_user = |name: Option<&str>| -> Result<(), String> {
        match name {
            None => Ok(()),
            Some(n) if users.contains_key(n) => Ok(()),
            Some(n) if create_missing => {
                if !need_users.iter().any(|u| u == n) {
                    need_users.push(n.to_string());
                }
                Ok(())
            }
            Some(n) => Err(format!(
                "actor `{n}` does not exist (use create_missing to create it)"
            )),
        }
    };
    need_user(l.assignee.as_deref())?;
    let mut status = CaseStatus::Received;
    let mut last = l.received_at;
    let mut owner: &str = &l.department;
    // Each handoff's (to, state, kind) by its key.
    let mut handoffs: HashMap<&str, (&str, &str, &str)> = HashMap::new();
    let mut decided_at = None;
    for (i, e) in l.events.iter().enumerate() {
        let at = At(i);
        if e.at < last {
            return Err(format!(
                "{at}: events must be in time order, and after received_at"
            ));
        }
        if e.at > now {
            return Err(format!("{at}: lies in the future"));
        }
        last = e.at;
        need_user(e.actor.as_deref()).map_err(|m| format!("{at}: {m}"))?;
        match &*e.event_type {
            "status_changed"
            | "decided"
            | "closed"
            | "withdrawn"
            | "supplement_requested"
            | "supplement_received" => {
                let to = target(e).ok_or_else(|| format!("{at}: `to` must be a status"))?;
                if !status.can_become(to) {
                    return Err(format!("{at}: a {status} case cannot become {to}"));
                }
                if to == CaseStatus::Decided {
                    e.decision
                        .as_deref()
                        .ok_or_else(|| format!("{at}: a decision needs `decision`"))?
                        .parse::<Decision>()
                        .map_err(|m| format!("{at}: {m}"))?;
                    decided_at = Some(e.at);
                }
                status = to;
            }
            "note" | "deadline_extended" | "decision_requested" => {}
            "handoff_requested" => {
                let key = e
                    .handoff
                    .as_deref()
                    .ok_or_else(|| format!("{at}: a handoff needs its `handoff` key"))?;
                let kind = e
                    .kind
                    .as_deref()
                    .filter(|k| HANDOFF_KINDS.contains(k))
                    .ok_or_else(|| {
                        format!("{at}: kind must be transfer, consultation or contact")
                    })?;
                let to = e
                    .to_department
                    .as_deref()
                    .ok_or_else(|| format!("{at}: to_department is required"))?;
                need_dep(to).map_err(|m| format!("{at}: {m}"))?;
                if to == owner {
                    return Err(format!("{at}: a handoff to the case's own department"));
                }
                if handoffs.insert(key, (to, "requested", kind)).is_some() {
                    return Err(format!("{at}: the handoff key is used twice"));
                }
            }
            t @ ("handoff_accepted" | "handoff_completed" | "handoff_declined"
            | "handoff_cancelled") => {
                let key = e.handoff.as_deref().unwrap_or_default();
                let (to, state, kind) = handoffs
                    .get_mut(key)
                    .ok_or_else(|| format!("{at}: no handoff `{key}` was requested before"))?;
                let (from_states, next): (&[&str], &str) = match t {
                    "handoff_accepted" => (&["requested"], "accepted"),
                    "handoff_completed" => (&["accepted"], "completed"),
                    "handoff_declined" => (&["requested"], "declined"),
                    _ => (&["requested", "accepted"], "cancelled"),
                };
                if !from_states.contains(state) {
                    return Err(format!("{at}: a {state} handoff cannot become {next}"));
                }
                *state = next;
                if t == "handoff_accepted" && *kind == "transfer" {
                    owner = to;
                }
            }
            other => return Err(format!("{at}: unknown event type `{other}`")),
        }
    }
    if let Some(s) = &l.survey {
        let Some(decided) = decided_at else {
            return Err("survey: the case was never decided".into());
        };
        if s.answered_at < decided || s.answered_at > now {
            return Err("survey: answered_at must lie between the decision and now".into());
        }
        if let Some(k) = s
            .factors
            .keys()
            .find(|k| !lots_core::nki::FACTORS.contains(&k.as_str()))
        {
            return Err(format!("survey: unknown factor `{k}`"));
        }
        let answers = s.answers();
        if let Some((field, message)) = instrument.check(&answers).into_iter().next() {
            return Err(format!("survey.{field}: {message}"));
        }
    }
    Ok(Facts {
        reference,
        org,
        area,
        case_type,
    })
}
