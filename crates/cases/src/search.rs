//! Listing and searching cases (`GET /api/v1/cases`, *Mina ärenden*, *Sök ärenden*): the
//! filters as one condition, scoped by the access module, keyset pages in two sort orders.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDate;
use lots_core::{Actor, Area, CaseStatus, OrgNumber, Priority, PropertyDesignation};
use lots_store::dialect;
use lots_store::entity::{app_user, case_premises, case_record, company};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, Query};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Deserialize;

use crate::access::{list_condition, listed, on_visible_content};
use crate::cases::{Cases, DEFAULT_PAGE, MAX_PAGE};
use crate::error::{Problems, ServiceResult, text_len};
use crate::redact::Redact;
use crate::view::{CaseView, Lookups, Page};

/// The list filters of `GET /api/v1/cases`, as given in the query string.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CaseFilter {
    /// One status or several, comma-separated.
    pub status: Option<String>,
    pub area: Option<String>,
    /// A department code.
    pub department: Option<String>,
    /// A username, or `me`.
    pub assignee: Option<String>,
    pub org_number: Option<String>,
    /// Free text: matches title, diarienummer and company name.
    pub q: Option<String>,
    /// 1–500, default 50.
    pub limit: Option<String>,
    /// `true`: open cases past their due date; `false`: the rest.
    pub overdue: Option<String>,
    /// Cases due before this date (YYYY-MM-DD).
    pub due_before: Option<String>,
    /// `newest` (default) or `due_date` (soonest first; cases without a due date last).
    pub sort: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Cases concerning this property (fastighetsbeteckning, e.g. `Haninge Söderby 1:23`).
    pub property: Option<String>,
    /// low, normal, high or urgent; several comma-separated.
    pub priority: Option<String>,
    /// Cases that carry this label.
    pub label: Option<String>,
}

/// How a page is ordered and where it starts.
struct Paging {
    limit: u64,
    by_due: bool,
}

impl Cases {
    /// The cases the caller may list that match `filter`, a page at a time.
    pub async fn list(&self, actor: &Actor, filter: CaseFilter) -> ServiceResult<Page<CaseView>> {
        let mut p = Problems::default();
        let cond = Condition::all()
            .add(list_condition(actor))
            .add(self.field_filters(actor, &filter, &mut p).await?)
            .add(text_filters(actor, self.db.backend(), &filter, &mut p))
            .add(self.deadline_filters(&filter, &mut p));
        let (paging, after) = paging(&filter, &mut p);
        p.finish()?;
        let mut query = case_record::Entity::find().filter(cond.add(after));
        query = if paging.by_due {
            // Soonest due first, cases without a due date last, then by id: a total order, so
            // keyset pages never repeat or skip a case.
            query
                .order_by_asc(Expr::col(case_record::Column::DueDate).is_null())
                .order_by_asc(case_record::Column::DueDate)
                .order_by_asc(case_record::Column::Id)
        } else {
            // Newest first, by id.
            query.order_by_desc(case_record::Column::Id)
        };
        let mut rows = query.limit(paging.limit + 1).all(self.db.reader()).await?;
        let next_cursor = if rows.len() as u64 > paging.limit {
            rows.truncate(paging.limit as usize);
            rows.last().map(|c| {
                if paging.by_due {
                    Cursor::Due(c.due_date, c.id)
                } else {
                    Cursor::Newest(c.id)
                }
                .encode()
            })
        } else {
            None
        };
        let lookups = Lookups::for_cases(&self.db, &rows).await?;
        Ok(Page {
            items: rows
                .into_iter()
                .map(|c| {
                    let deadline = self.deadline_view(&c)?;
                    let access = listed(actor, &c);
                    let mut v = lookups.case(c, deadline)?;
                    v.redact(&access);
                    Ok(v)
                })
                .collect::<ServiceResult<_>>()?,
            next_cursor,
        })
    }

    /// Status, area, department, assignee, organisation number, property and priority.
    async fn field_filters(
        &self,
        actor: &Actor,
        filter: &CaseFilter,
        p: &mut Problems,
    ) -> ServiceResult<Condition> {
        let mut cond = Condition::all();
        if let Some(s) = non_empty(&filter.status) {
            let statuses: Vec<&str> = s
                .split(',')
                .filter_map(|x| p.check("status", x.trim().parse::<CaseStatus>()))
                .map(CaseStatus::as_str)
                .collect();
            cond = cond.add(case_record::Column::Status.is_in(statuses));
        }
        if let Some(a) = non_empty(&filter.area)
            && let Some(area) = p.check("area", a.parse::<Area>())
        {
            cond = cond.add(case_record::Column::Area.eq(area.as_str()));
        }
        if let Some(code) = non_empty(&filter.department) {
            match self.db.department_by_code(code).await? {
                Some(d) => cond = cond.add(case_record::Column::DepartmentId.eq(d.id)),
                None => p.add("department", "no such department"),
            }
        }
        if let Some(name) = non_empty(&filter.assignee) {
            let user_id = if name == "me" {
                Some(actor.user_id)
            } else {
                app_user::Entity::find()
                    .filter(app_user::Column::Username.eq(name))
                    .one(self.db.reader())
                    .await?
                    .map(|u| u.id)
            };
            match user_id {
                Some(id) => cond = cond.add(case_record::Column::AssigneeId.eq(id)),
                None => p.add("assignee", "no such user"),
            }
        }
        if let Some(o) = non_empty(&filter.org_number)
            && let Some(org) = p.check("org_number", OrgNumber::parse(o))
        {
            cond = cond.add(
                case_record::Column::CompanyId.in_subquery(
                    Query::select()
                        .column(company::Column::Id)
                        .from(company::Entity)
                        .and_where(company::Column::OrgNumber.eq(org.as_str()))
                        .to_owned(),
                ),
            );
        }
        if let Some(prop) = non_empty(&filter.property)
            && let Some(d) = p.check("property", PropertyDesignation::parse(prop))
        {
            cond = cond.add(
                case_record::Column::Id.in_subquery(
                    Query::select()
                        .column(case_premises::Column::CaseId)
                        .from(case_premises::Entity)
                        .and_where(case_premises::Column::PropertyDesignation.eq(d.as_str()))
                        .to_owned(),
                ),
            );
        }
        if let Some(s) = non_empty(&filter.priority) {
            let priorities: Vec<&str> = s
                .split(',')
                .filter_map(|x| p.check("priority", x.trim().parse::<Priority>()))
                .map(Priority::as_str)
                .collect();
            cond = cond.add(case_record::Column::Priority.is_in(priorities));
        }
        Ok(cond)
    }

    /// `overdue` and `due_before`, by today's date in Stockholm.
    fn deadline_filters(&self, filter: &CaseFilter, p: &mut Problems) -> Condition {
        let mut cond = Condition::all();
        let today = crate::deadlines::stockholm_date(self.clock.now());
        let open: Vec<&str> = CaseStatus::ALL
            .iter()
            .filter(|s| s.is_open())
            .map(|s| s.as_str())
            .collect();
        let overdue = Condition::all()
            .add(case_record::Column::Status.is_in(open))
            .add(case_record::Column::DueDate.is_not_null())
            .add(case_record::Column::DueDate.lt(today));
        match non_empty(&filter.overdue) {
            None => {}
            Some("true") => cond = cond.add(overdue),
            Some("false") => cond = cond.add(overdue.not()),
            Some(_) => p.add("overdue", "must be true or false"),
        }
        if let Some(d) = non_empty(&filter.due_before) {
            match d.parse::<NaiveDate>() {
                Ok(day) => cond = cond.add(case_record::Column::DueDate.lt(day)),
                Err(_) => p.add("due_before", "must be a date, YYYY-MM-DD"),
            }
        }
        cond
    }
}

/// Free text (`q`: title, diarienummer, company name) and `label`. A confidential case's title
/// and labels are matched only for those who may see them.
fn text_filters(
    actor: &Actor,
    backend: sea_orm::DbBackend,
    filter: &CaseFilter,
    p: &mut Problems,
) -> Condition {
    let mut cond = Condition::all();
    if let Some(q) = non_empty(&filter.q)
        && let Some(q) = p.check("q", text_len(q, 1, 200))
    {
        let pattern = format!(
            "%{}%",
            q.to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        let like = |col: Expr| {
            Expr::expr(Func::lower(col)).like(LikeExpr::new(pattern.clone()).escape('\\'))
        };
        cond = cond.add(
            Condition::any()
                .add(on_visible_content(
                    actor,
                    like(Expr::col(case_record::Column::Title)),
                ))
                .add(like(Expr::col(case_record::Column::Reference)))
                .add(
                    case_record::Column::CompanyId.in_subquery(
                        Query::select()
                            .column(company::Column::Id)
                            .from(company::Entity)
                            .and_where(like(Expr::col(company::Column::Name)))
                            .to_owned(),
                    ),
                ),
        );
    }
    if let Some(l) = non_empty(&filter.label)
        && let Some(l) = p.check("label", text_len(l, 1, 40))
    {
        let has_label = dialect::json_array_contains(backend, "case_record.labels", l);
        cond = cond.add(on_visible_content(actor, has_label));
    }
    cond
}

/// The page size, the sort order and the condition that starts after the cursor.
fn paging(filter: &CaseFilter, p: &mut Problems) -> (Paging, Condition) {
    let limit = match non_empty(&filter.limit) {
        None => DEFAULT_PAGE,
        Some(l) => match l.parse::<u64>() {
            Ok(n) if (1..=MAX_PAGE).contains(&n) => n,
            _ => {
                p.add(
                    "limit",
                    format!("must be a whole number from 1 to {MAX_PAGE}"),
                );
                DEFAULT_PAGE
            }
        },
    };
    let by_due = match non_empty(&filter.sort) {
        None | Some("newest") => false,
        Some("due_date") => true,
        Some(_) => {
            p.add("sort", "must be newest or due_date");
            false
        }
    };
    let mut after = Condition::all();
    if let Some(c) = non_empty(&filter.cursor) {
        match (decode_cursor(c), by_due) {
            (Some(Cursor::Newest(id)), false) => after = after.add(case_record::Column::Id.lt(id)),
            (Some(Cursor::Due(Some(due), id)), true) => {
                after = after.add(
                    Condition::any()
                        .add(case_record::Column::DueDate.gt(due))
                        .add(
                            Condition::all()
                                .add(case_record::Column::DueDate.eq(due))
                                .add(case_record::Column::Id.gt(id)),
                        )
                        .add(case_record::Column::DueDate.is_null()),
                )
            }
            (Some(Cursor::Due(None, id)), true) => {
                after = after
                    .add(case_record::Column::DueDate.is_null())
                    .add(case_record::Column::Id.gt(id))
            }
            _ => p.add(
                "cursor",
                "is not a cursor this API gave out for this sort order",
            ),
        }
    }
    (Paging { limit, by_due }, after)
}

fn non_empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Where the previous page ended, in the list's sort order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cursor {
    Newest(i64),
    Due(Option<NaiveDate>, i64),
}

impl Cursor {
    fn encode(self) -> String {
        URL_SAFE_NO_PAD.encode(match self {
            Cursor::Newest(id) => format!("c1:{id}"),
            Cursor::Due(Some(d), id) => format!("d1:{d}:{id}"),
            Cursor::Due(None, id) => format!("d1:-:{id}"),
        })
    }
}

fn decode_cursor(s: &str) -> Option<Cursor> {
    let bytes = URL_SAFE_NO_PAD.decode(s).ok()?;
    let text = std::str::from_utf8(&bytes).ok()?;
    if let Some(id) = text.strip_prefix("c1:") {
        return id.parse().ok().map(Cursor::Newest);
    }
    let (due, id) = text.strip_prefix("d1:")?.split_once(':')?;
    let due = if due == "-" {
        None
    } else {
        Some(due.parse().ok()?)
    };
    Some(Cursor::Due(due, id.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_forgeries() {
        for c in [
            Cursor::Newest(12345),
            Cursor::Due(None, 7),
            Cursor::Due(Some(NaiveDate::MIN), 9),
        ] {
            assert_eq!(decode_cursor(&c.encode()), Some(c));
        }
        assert_eq!(decode_cursor("12345"), None);
        assert_eq!(decode_cursor("!!"), None);
    }
}
