//! Exports of the event log for process mining (XES, OCEL 2.0) and of the cases for Swedish
//! Excel (CSV). Individual survey answers are never exported.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

use chrono::{DateTime, SecondsFormat, Utc};
use lots_cases::ServiceResult;
use lots_cases::stored::stored;
use lots_core::calendar::working_days_between;
use lots_core::{Actor, EventKind, TIME_ZONE};
use lots_store::Db;
use lots_store::entity::{app_user, case_event, company, department};
use lots_store::lookup::all_by;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

use crate::load::{Criteria, MetricFilter, load};
use crate::records::CaseRecord;

/// One event of a case's history, with its actor's username and department code.
#[derive(Debug, Clone)]
pub struct LogEvent {
    pub id: i64,
    pub case_id: i64,
    pub at: DateTime<Utc>,
    pub kind: EventKind,
    pub actor: Option<String>,
    pub department: Option<String>,
    pub data: Value,
}

/// The cases in scope and their whole history.
pub struct Log {
    pub cases: Vec<CaseRecord>,
    pub org_numbers: HashMap<i64, (String, String)>,
    pub events: Vec<LogEvent>,
}

pub async fn load_log(db: &Db, actor: &Actor, filter: &MetricFilter) -> ServiceResult<Log> {
    let cases = load(db, actor, filter).await?;
    let ids: Vec<i64> = cases.iter().map(|c| c.id).collect();
    let users = all_by::<app_user::Entity, _, _>(db.reader(), |u| (u.id, u.username)).await?;
    let deps = all_by::<department::Entity, _, _>(db.reader(), |d| (d.id, d.code)).await?;
    let mut events = Vec::new();
    let mut org_numbers = HashMap::new();
    for chunk in ids.chunks(10_000) {
        let rows = case_event::Entity::find()
            .filter(case_event::Column::CaseId.is_in(chunk.to_vec()))
            .order_by_asc(case_event::Column::CaseId)
            .order_by_asc(case_event::Column::Id)
            .all(db.reader())
            .await?;
        for e in rows {
            events.push(LogEvent {
                id: e.id,
                case_id: e.case_id,
                at: e.at,
                kind: stored("case_event", e.id, &e.kind)?,
                actor: e.actor_id.and_then(|id| users.get(&id).cloned()),
                department: e.department_id.and_then(|id| deps.get(&id).cloned()),
                data: e.data,
            });
        }
        let companies = lots_store::entity::case_record::Entity::find()
            .filter(lots_store::entity::case_record::Column::Id.is_in(chunk.to_vec()))
            .all(db.reader())
            .await?;
        let company_ids: BTreeSet<i64> = companies.iter().map(|c| c.company_id).collect();
        let names: HashMap<i64, (String, String)> = company::Entity::find()
            .filter(company::Column::Id.is_in(company_ids))
            .all(db.reader())
            .await?
            .into_iter()
            .map(|c| (c.id, (c.org_number, c.name)))
            .collect();
        for c in companies {
            // A confidential case is exported without its company.
            if c.confidential_statute.is_some() {
                continue;
            }
            if let Some(n) = names.get(&c.company_id) {
                org_numbers.insert(c.id, n.clone());
            }
        }
    }
    Ok(Log {
        cases,
        org_numbers,
        events,
    })
}

/// The activity an event is: a status reached, or the step itself.
pub fn activity(e: &LogEvent) -> String {
    match e.kind {
        EventKind::Created => "registered".into(),
        EventKind::StatusChanged => e
            .data
            .get("to")
            .and_then(Value::as_str)
            .unwrap_or(EventKind::StatusChanged.as_str())
            .to_string(),
        other => other.as_str().to_string(),
    }
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// XES (IEEE 1849): a trace per case (`concept:name` = diarienummer), an event per history
/// entry with `concept:name`, `time:timestamp`, `org:resource` (the officer), `org:group` (the
/// department) and `lifecycle:transition`.
pub fn xes(log: &Log) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<log xes.version=\"1.0\" xes.features=\"nested-attributes\" xmlns=\"http://www.xes-standard.org/\">\n\
         <extension name=\"Concept\" prefix=\"concept\" uri=\"http://www.xes-standard.org/concept.xesext\"/>\n\
         <extension name=\"Time\" prefix=\"time\" uri=\"http://www.xes-standard.org/time.xesext\"/>\n\
         <extension name=\"Organizational\" prefix=\"org\" uri=\"http://www.xes-standard.org/org.xesext\"/>\n\
         <extension name=\"Lifecycle\" prefix=\"lifecycle\" uri=\"http://www.xes-standard.org/lifecycle.xesext\"/>\n\
         <global scope=\"trace\"><string key=\"concept:name\" value=\"\"/></global>\n\
         <global scope=\"event\"><string key=\"concept:name\" value=\"\"/><date key=\"time:timestamp\" value=\"1970-01-01T00:00:00.000Z\"/><string key=\"lifecycle:transition\" value=\"complete\"/></global>\n\
         <classifier name=\"Activity\" keys=\"concept:name\"/>\n",
    );
    let mut by_case: BTreeMap<i64, Vec<&LogEvent>> = BTreeMap::new();
    for e in &log.events {
        by_case.entry(e.case_id).or_default().push(e);
    }
    for c in &log.cases {
        let _ = writeln!(
            out,
            "<trace><string key=\"concept:name\" value=\"{}\"/><string key=\"area\" value=\"{}\"/><string key=\"department\" value=\"{}\"/>",
            xml(&c.reference),
            xml(&c.area),
            xml(&c.department)
        );
        for e in by_case.get(&c.id).into_iter().flatten() {
            let _ = write!(
                out,
                "<event><string key=\"concept:name\" value=\"{}\"/><date key=\"time:timestamp\" value=\"{}\"/>",
                xml(&activity(e)),
                time(e.at)
            );
            if let Some(a) = &e.actor {
                let _ = write!(out, "<string key=\"org:resource\" value=\"{}\"/>", xml(a));
            }
            if let Some(d) = &e.department {
                let _ = write!(out, "<string key=\"org:group\" value=\"{}\"/>", xml(d));
            }
            out.push_str("<string key=\"lifecycle:transition\" value=\"complete\"/></event>\n");
        }
        out.push_str("</trace>\n");
    }
    out.push_str("</log>\n");
    out
}

/// OCEL 2.0 JSON: objects of type case, company, department and officer; each event related to
/// them with qualifiers (`case`, `actor`, `department`, and a handoff's `from` and `to`).
pub fn ocel(log: &Log) -> Value {
    let mut objects: BTreeMap<String, Value> = BTreeMap::new();
    let epoch = "1970-01-01T00:00:00Z";
    for c in &log.cases {
        let mut rel =
            vec![json!({"objectId": format!("department:{}", c.department), "qualifier": "owner"})];
        if let Some((org, name)) = log.org_numbers.get(&c.id) {
            rel.push(json!({"objectId": format!("company:{org}"), "qualifier": "applicant"}));
            objects.entry(format!("company:{org}")).or_insert_with(|| {
                json!({"id": format!("company:{org}"), "type": "company", "attributes": [{"name": "name", "time": epoch, "value": name}]})
            });
        }
        objects.insert(
            format!("case:{}", c.id),
            json!({"id": format!("case:{}", c.id), "type": "case",
                   "attributes": [{"name": "reference", "time": epoch, "value": c.reference}, {"name": "area", "time": epoch, "value": c.area}],
                   "relationships": rel}),
        );
    }
    let mut event_types: BTreeSet<String> = BTreeSet::new();
    let mut events = Vec::new();
    for e in &log.events {
        let kind = activity(e);
        event_types.insert(kind.clone());
        let mut rel = vec![json!({"objectId": format!("case:{}", e.case_id), "qualifier": "case"})];
        if let Some(a) = &e.actor {
            rel.push(json!({"objectId": format!("officer:{a}"), "qualifier": "actor"}));
            objects.entry(format!("officer:{a}")).or_insert_with(
                || json!({"id": format!("officer:{a}"), "type": "officer", "attributes": []}),
            );
        }
        if let Some(d) = &e.department {
            rel.push(json!({"objectId": format!("department:{d}"), "qualifier": "department"}));
        }
        for q in ["from", "to"] {
            if let Some(d) = e
                .data
                .get(format!("{q}_department"))
                .and_then(Value::as_str)
            {
                rel.push(json!({"objectId": format!("department:{d}"), "qualifier": q}));
            }
        }
        events.push(json!({"id": format!("e{}", e.id), "type": kind, "time": time(e.at), "attributes": [], "relationships": rel}));
    }
    let mut departments: BTreeSet<String> =
        log.cases.iter().map(|c| c.department.to_string()).collect();
    departments.extend(log.events.iter().filter_map(|e| e.department.clone()));
    for d in departments {
        objects.insert(
            format!("department:{d}"),
            json!({"id": format!("department:{d}"), "type": "department", "attributes": []}),
        );
    }
    json!({
        "objectTypes": [
            {"name": "case", "attributes": [{"name": "reference", "type": "string"}, {"name": "area", "type": "string"}]},
            {"name": "company", "attributes": [{"name": "name", "type": "string"}]},
            {"name": "department", "attributes": []},
            {"name": "officer", "attributes": []},
        ],
        "eventTypes": event_types.into_iter().map(|t| json!({"name": t, "attributes": []})).collect::<Vec<_>>(),
        "objects": objects.into_values().collect::<Vec<_>>(),
        "events": events,
    })
}

/// The cases for Swedish Excel: `;`-separated, UTF-8 with a BOM, decimal commas.
pub fn cases_csv(records: &[&CaseRecord]) -> String {
    let mut out = String::from(CSV_HEADER);
    out.push_str(&csv_lines(records));
    out
}

/// The first line of the case export, after the byte-order mark Swedish Excel reads UTF-8 by.
pub const CSV_HEADER: &str = "\u{feff}diarienummer;område;ärendetyp;förvaltning;status;inkom;komplett;beslutad;förfallodag;ledtid_dagar;ledtid_arbetsdagar;överlämningar;förvaltningar\r\n";

/// How many cases a page of the streamed export reads at once.
const CSV_PAGE: u64 = 2_000;

/// The export's lines of the next page of cases after the case `after` (in id order) that meet
/// `criteria`, and the last id read; `None` past the last case. A page at a time, so that an
/// export of any size holds one page in memory.
pub async fn csv_page(
    db: &Db,
    criteria: &Criteria,
    after: i64,
) -> Result<Option<(String, i64)>, sea_orm::DbErr> {
    use lots_store::entity::case_record;
    use sea_orm::QuerySelect;
    let mut page = case_record::Entity::find()
        .select_only()
        .column(case_record::Column::Id)
        .filter(case_record::Column::Id.gt(after));
    if let Some(from) = criteria.from {
        page = page.filter(case_record::Column::ReceivedAt.gte(from));
    }
    if let Some(before) = criteria.before {
        page = page.filter(case_record::Column::ReceivedAt.lt(before));
    }
    let ids: Vec<i64> = page
        .order_by_asc(case_record::Column::Id)
        .limit(CSV_PAGE)
        .into_tuple()
        .all(db.reader())
        .await?;
    let Some(&last) = ids.last() else {
        return Ok(None);
    };
    let records = crate::load::read_without_status_changes(db, &ids).await?;
    let mut mine: Vec<&CaseRecord> = records.iter().filter(|c| criteria.matches(c)).collect();
    mine.sort_by_key(|c| c.id);
    Ok(Some((csv_lines(&mine), last)))
}

/// The export's lines of `records`.
fn csv_lines(records: &[&CaseRecord]) -> String {
    let mut out = String::new();
    let comma = |v: f64| format!("{v:.2}").replace('.', ",");
    for c in records {
        let lead = c
            .decided_at
            .map(|d| (d - c.received_at).num_seconds() as f64 / 86_400.0);
        let lead_wd = c.decided_at.map(|d| {
            working_days_between(
                c.received_at.with_timezone(&TIME_ZONE).date_naive(),
                d.with_timezone(&TIME_ZONE).date_naive(),
            )
        });
        let fields = [
            c.reference.clone(),
            c.area.to_string(),
            c.case_type.as_deref().unwrap_or_default().to_string(),
            c.department.to_string(),
            c.status.to_string(),
            c.received_at.to_rfc3339(),
            c.complete_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
            c.decided_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
            c.due_date.map(|d| d.to_string()).unwrap_or_default(),
            lead.map(comma).unwrap_or_default(),
            lead_wd.map(|n| n.to_string()).unwrap_or_default(),
            c.handoffs.len().to_string(),
            c.department_codes().len().to_string(),
        ];
        let quoted: Vec<String> = fields
            .iter()
            .map(|f| {
                if f.contains([';', '"', '\n']) {
                    format!("\"{}\"", f.replace('"', "\"\""))
                } else {
                    f.clone()
                }
            })
            .collect();
        out.push_str(&quoted.join(";"));
        out.push_str("\r\n");
    }
    out
}
