//! Checking: every line against the lifecycle and the directory (the first pass, side by side
//! on the file's parts), and the directory and references the checks look up.

use std::ops::Range;

use chrono::{DateTime, Datelike, Utc};
use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use lots_core::nki::Instrument;
use lots_core::{Area, CaseStatus, Decision, OrgNumber, Reference};
use lots_store::entity::{app_user, case_record, department};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};

use super::parse::{Event, Line, Survey, lines, parse, target};
use super::source::{ImportSource, Layout, Part};
use super::{ImportOptions, LineError};
use crate::cases::Cases;
use crate::error::{ServiceError, ServiceResult};

/// What the checks derived from a line that passed them.
pub(super) struct Facts {
    pub(super) reference: Reference,
    pub(super) org: OrgNumber,
    pub(super) area: Area,
    pub(super) case_type: Option<String>,
}

/// A line that passed every check, with what writing it needs.
pub(super) struct Checked<'a> {
    pub(super) line: Line<'a>,
    pub(super) facts: Facts,
}

/// What the checks look lines up in: the directory as it was when the import began.
pub(super) struct Directory {
    pub(super) now: DateTime<Utc>,
    pub(super) deps: HashMap<String, department::Model>,
    pub(super) users: HashMap<String, app_user::Model>,
    pub(super) types: HashMap<Area, Vec<String>>,
    pub(super) create_missing: bool,
    pub(super) instrument: Instrument,
}

impl Directory {
    /// Checks a line; `seen` holds the references of the lines before it.
    pub(super) fn check(
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
pub(super) struct Needs {
    pub(super) deps: Vec<String>,
    pub(super) users: Vec<String>,
}

/// What the first pass over a file found.
#[derive(Default)]
pub(super) struct FirstPass {
    pub(super) lines: usize,
    pub(super) errors: Vec<LineError>,
    /// The good lines, in order.
    pub(super) good: Vec<Good>,
    /// The reference prefix of the first good line of each department (of the part).
    pub(super) prefixes: HashMap<String, String>,
}

/// What the second pass needs to know of a good line before it starts: kept for every line of
/// the file between the passes, so kept small (boxed text, no room to grow; what a line seldom
/// has boxed apart).
pub(super) struct Good {
    pub(super) line: usize,
    /// As stored.
    pub(super) reference: Box<str>,
    /// What it names that does not exist yet, if anything.
    pub(super) needs: Option<Box<Needs>>,
    pub(super) org: Box<str>,
    pub(super) company: Box<str>,
    /// Supplement requests and notes, which take ids of their own.
    pub(super) supplements: u32,
    pub(super) notes: u32,
    pub(super) received_at: DateTime<Utc>,
    /// Which part of the source holds the line, and where the line lies in that part.
    pub(super) part: usize,
    pub(super) span: Range<usize>,
}

/// The first pass: every line parsed and checked, a part of the source at a time, nothing kept
/// but what the second pass and the report need, and where each part lay. References that exist
/// in the database are looked up afterwards.
pub(super) fn survey(source: &ImportSource, dir: &Directory) -> ServiceResult<(FirstPass, Layout)> {
    let unreadable =
        |e: std::io::Error| ServiceError::invalid("file", format!("cannot be read: {e}"));
    let mut merged = Merged::default();
    let mut layout = Layout::default();
    for part in source.parts().map_err(unreadable)? {
        let part = part.map_err(unreadable)?;
        if std::str::from_utf8(&part.bytes).is_err() {
            return Err(ServiceError::invalid("body", "must be UTF-8 NDJSON"));
        }
        layout.push(&part);
        for (pieces, refs) in survey_part(&part, dir) {
            merged.add(pieces, refs, &part);
        }
    }
    let mut out = merged.out;
    out.errors.sort_by_key(|e| e.line);
    Ok((out, layout))
}

/// Checks a part of the source, cut at line ends into a piece a core, side by side; answers
/// each piece's findings, in order.
fn survey_part(part: &Part, dir: &Directory) -> Vec<(FirstPass, Vec<(usize, String)>)> {
    let body = &part.bytes[..];
    let pieces = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    let mut cuts = vec![(0usize, part.lines_before)]; // (byte offset, lines before it)
    for k in 1..pieces {
        let (from, before) = *cuts.last().unwrap_or(&(0, 0));
        let target = (body.len() * k / pieces).max(from);
        let Some(nl) = body[target..].iter().position(|b| *b == b'\n') else {
            break;
        };
        let at = target + nl + 1;
        let newlines = body[from..at].iter().filter(|b| **b == b'\n').count();
        cuts.push((at, before + newlines));
    }
    cuts.push((body.len(), 0));
    std::thread::scope(|scope| {
        let handles: Vec<_> = cuts
            .windows(2)
            .map(|w| {
                let ((from, before), (to, _)) = (w[0], w[1]);
                scope.spawn(move || survey_piece(part, from..to, before, dir))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

/// The findings of every piece so far, in order, and the references they hold.
#[derive(Default)]
struct Merged {
    out: FirstPass,
    earlier: HashSet<Box<str>>,
}

impl Merged {
    /// Adds a piece's findings: a reference an earlier piece holds makes the line a repeat, as
    /// one pass over the whole source would have found.
    fn add(&mut self, piece: FirstPass, refs: Vec<(usize, String)>, part: &Part) {
        let good_refs = piece.good.iter().map(|g| (g.line, &*g.reference));
        let repeats: HashSet<usize> = refs
            .iter()
            .map(|(line, r)| (*line, r.as_str()))
            .chain(good_refs.clone())
            .filter(|(_, r)| self.earlier.contains(*r))
            .map(|(line, _)| line)
            .collect();
        let all: Vec<Box<str>> = good_refs.map(|(_, r)| Box::from(r)).collect();
        self.earlier.extend(all);
        self.earlier
            .extend(refs.into_iter().map(|(_, r)| r.into_boxed_str()));
        let out = &mut self.out;
        for (department, prefix) in piece.prefixes {
            out.prefixes.entry(department).or_insert(prefix);
        }
        out.lines += piece.lines;
        for mut e in piece.errors {
            if repeats.contains(&e.line) {
                e.message = REPEATED.into();
            }
            out.errors.push(e);
        }
        for g in piece.good {
            if repeats.contains(&g.line) {
                // Rare: the reference as the file gives it is read again from the line.
                let raw = parse(&part.bytes[g.span.clone()])
                    .map_or(g.reference.into(), |l| l.reference.into_owned());
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
}

pub(super) const REPEATED: &str = "reference: appears twice in the file";

/// Checks the lines of one piece of a part (whose first line follows `before` lines), and
/// answers the reference as stored of each bad line that has one, for the checks across pieces
/// (a good line's is in its `Good`).
fn survey_piece(
    part: &Part,
    piece: Range<usize>,
    before: usize,
    dir: &Directory,
) -> (FirstPass, Vec<(usize, String)>) {
    let body = &part.bytes[..];
    let mut out = FirstPass::default();
    let mut refs = Vec::new();
    let mut seen = HashSet::new();
    let from = piece.start;
    for (line_no, span) in lines(&body[piece]) {
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
                let count = |kind: &str| {
                    let n = line.events.iter().filter(|e| e.event_type == kind).count();
                    u32::try_from(n).unwrap_or(u32::MAX)
                };
                let needs =
                    (!needs.deps.is_empty() || !needs.users.is_empty()).then(|| Box::new(needs));
                out.good.push(Good {
                    line: line_no,
                    reference: facts.reference.to_string().into_boxed_str(),
                    needs,
                    org: facts.org.as_str().into(),
                    company: line.company_name.trim().into(),
                    supplements: count("supplement_requested"),
                    notes: count("note"),
                    received_at: line.received_at,
                    part: part.index,
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

/// Where in a line an event is, for messages (formatted only when one is written).
#[derive(Clone, Copy)]
struct At(usize);

impl std::fmt::Display for At {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "events[{}]", self.0)
    }
}

/// Checks one line against the lifecycle and the directory; the first problem as a message.
fn check(
    l: &Line<'_>,
    dir: &Directory,
    seen: &mut HashSet<String>,
    needs: &mut Needs,
) -> Result<Facts, String> {
    let facts = check_case(l, dir, seen)?;
    needs.dep(dir, &l.department)?;
    needs.user(dir, l.assignee.as_deref())?;
    let decided_at = check_events(l, dir, needs)?;
    if let Some(s) = &l.survey {
        check_survey(s, decided_at, dir)?;
    }
    Ok(facts)
}

/// The line's own fields: reference (once in the file), company, area and case type, title
/// and date of receipt.
fn check_case(l: &Line<'_>, dir: &Directory, seen: &mut HashSet<String>) -> Result<Facts, String> {
    let reference = Reference::parse(&l.reference).map_err(|e| format!("reference: {e}"))?;
    if !seen.insert(reference.to_string()) {
        return Err(REPEATED.into());
    }
    let org = OrgNumber::parse(&l.org_number).map_err(|e| format!("org_number: {e}"))?;
    if l.company_name.trim().is_empty() {
        return Err("company_name: is required".into());
    }
    let area: Area = l.area.parse().map_err(|e| format!("area: {e}"))?;
    let types = dir.types.get(&area).map(Vec::as_slice).unwrap_or_default();
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
    if l.received_at > dir.now || l.received_at.year() < 1990 {
        return Err("received_at: must lie between 1990 and now".into());
    }
    Ok(Facts {
        reference,
        org,
        area,
        case_type,
    })
}

// What is missing is noted once a line, however often the line names it.
impl Needs {
    /// A department the line names: it exists, or (with `create_missing`) is noted.
    fn dep(&mut self, dir: &Directory, code: &str) -> Result<(), String> {
        if dir.deps.contains_key(code) {
            Ok(())
        } else if dir.create_missing {
            if !self.deps.iter().any(|d| d == code) {
                self.deps.push(code.to_string());
            }
            Ok(())
        } else {
            Err(format!(
                "department `{code}` does not exist (use create_missing to create it)"
            ))
        }
    }

    /// A person the line names, if it names one: they exist, or (with `create_missing`) are
    /// noted.
    fn user(&mut self, dir: &Directory, name: Option<&str>) -> Result<(), String> {
        match name {
            None => Ok(()),
            Some(n) if dir.users.contains_key(n) => Ok(()),
            Some(n) if dir.create_missing => {
                if !self.users.iter().any(|u| u == n) {
                    self.users.push(n.to_string());
                }
                Ok(())
            }
            Some(n) => Err(format!(
                "actor `{n}` does not exist (use create_missing to create it)"
            )),
        }
    }
}

/// Where a line's events have brought its case so far, as the checks follow them.
struct Lifecycle<'l> {
    status: CaseStatus,
    owner: &'l str,
    /// Each handoff's (to, state, kind) by its key.
    handoffs: HashMap<&'l str, (&'l str, &'l str, &'l str)>,
    decided_at: Option<DateTime<Utc>>,
}

/// Checks a line's events in order; answers when the case was decided, if it was.
fn check_events(
    l: &Line<'_>,
    dir: &Directory,
    needs: &mut Needs,
) -> Result<Option<DateTime<Utc>>, String> {
    let mut life = Lifecycle {
        status: CaseStatus::Received,
        owner: &l.department,
        handoffs: HashMap::new(),
        decided_at: None,
    };
    let mut last = l.received_at;
    for (i, e) in l.events.iter().enumerate() {
        let at = At(i);
        if e.at < last {
            return Err(format!(
                "{at}: events must be in time order, and after received_at"
            ));
        }
        if e.at > dir.now {
            return Err(format!("{at}: lies in the future"));
        }
        last = e.at;
        needs
            .user(dir, e.actor.as_deref())
            .map_err(|m| format!("{at}: {m}"))?;
        match &*e.event_type {
            "status_changed"
            | "decided"
            | "closed"
            | "withdrawn"
            | "supplement_requested"
            | "supplement_received" => life.status_changed(e, at)?,
            "note" | "deadline_extended" | "decision_requested" => {}
            "handoff_requested" => life.handoff_requested(e, at, dir, needs)?,
            t @ ("handoff_accepted" | "handoff_completed" | "handoff_declined"
            | "handoff_cancelled") => life.handoff_moved(t, e, at)?,
            other => return Err(format!("{at}: unknown event type `{other}`")),
        }
    }
    Ok(life.decided_at)
}

impl<'l> Lifecycle<'l> {
    fn status_changed(&mut self, e: &Event<'_>, at: At) -> Result<(), String> {
        let status = self.status;
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
            self.decided_at = Some(e.at);
        }
        self.status = to;
        Ok(())
    }

    fn handoff_requested(
        &mut self,
        e: &'l Event<'_>,
        at: At,
        dir: &Directory,
        needs: &mut Needs,
    ) -> Result<(), String> {
        let key = e
            .handoff
            .as_deref()
            .ok_or_else(|| format!("{at}: a handoff needs its `handoff` key"))?;
        let kind = e
            .kind
            .as_deref()
            .filter(|k| HANDOFF_KINDS.contains(k))
            .ok_or_else(|| format!("{at}: kind must be transfer, consultation or contact"))?;
        let to = e
            .to_department
            .as_deref()
            .ok_or_else(|| format!("{at}: to_department is required"))?;
        needs.dep(dir, to).map_err(|m| format!("{at}: {m}"))?;
        if to == self.owner {
            return Err(format!("{at}: a handoff to the case's own department"));
        }
        if self.handoffs.insert(key, (to, "requested", kind)).is_some() {
            return Err(format!("{at}: the handoff key is used twice"));
        }
        Ok(())
    }

    /// A handoff accepted, completed, declined or cancelled (`t`).
    fn handoff_moved(&mut self, t: &str, e: &Event<'_>, at: At) -> Result<(), String> {
        let key = e.handoff.as_deref().unwrap_or_default();
        let (to, state, kind) = self
            .handoffs
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
            self.owner = *to;
        }
        Ok(())
    }
}

/// A survey's answers: given after the decision, with known factors, as the instrument asks.
fn check_survey(
    s: &Survey<'_>,
    decided_at: Option<DateTime<Utc>>,
    dir: &Directory,
) -> Result<(), String> {
    let Some(decided) = decided_at else {
        return Err("survey: the case was never decided".into());
    };
    if s.answered_at < decided || s.answered_at > dir.now {
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
    if let Some((field, message)) = dir.instrument.check(&answers).into_iter().next() {
        return Err(format!("survey.{field}: {message}"));
    }
    Ok(())
}

impl Cases {
    /// The directory as it is when the import begins: departments, users, active case types.
    pub(super) async fn import_directory(
        &self,
        options: &ImportOptions,
    ) -> ServiceResult<Directory> {
        let db = self.db.reader();
        let by = |d: &department::Model| d.code.clone();
        let deps = keyed(department::Entity::find().all(db).await?, by);
        let by = |u: &app_user::Model| u.username.clone();
        let users = keyed(app_user::Entity::find().all(db).await?, by);
        // The active case types of each area, as for cases registered live.
        let mut types: HashMap<Area, Vec<String>> = HashMap::new();
        for area in Area::ALL {
            types.insert(
                *area,
                crate::case_types::active_types(&self.db, *area).await?,
            );
        }
        Ok(Directory {
            now: self.clock.now(),
            deps,
            users,
            types,
            create_missing: options.create_missing,
            instrument: options.instrument.clone(),
        })
    }

    /// The references of the good lines that exist in the database (as stored: `BN 2026/00042`
    /// is `BN 2026/0042`).
    pub(super) async fn existing_references(
        &self,
        good: &[Good],
    ) -> ServiceResult<HashSet<String>> {
        let mut existing: HashSet<String> = HashSet::new();
        let any = case_record::Entity::find().one(self.db.reader()).await?;
        for chunk in good.chunks(5000).filter(|_| any.is_some()) {
            let refs: Vec<&str> = chunk.iter().map(|g| &*g.reference).collect();
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
        Ok(existing)
    }
}

/// Rows by a key of theirs.
fn keyed<M>(rows: Vec<M>, key: impl Fn(&M) -> String) -> HashMap<String, M> {
    rows.into_iter().map(|r| (key(&r), r)).collect()
}
