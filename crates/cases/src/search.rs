//! Listing and searching cases (`GET /api/v1/cases`, *Mina ärenden*, *Sök ärenden*): the
//! filters as one condition, scoped by the access module, keyset pages in two sort orders.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDate;
use lots_core::{Actor, Area, CaseStatus, OrgNumber, Priority, PropertyDesignation, Reference};
use lots_store::dialect;
use lots_store::entity::{app_user, case_premises, case_record, company};
use sea_orm::sea_query::{Expr, ExprTrait, Func, JoinType, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QueryResult, QuerySelect, QueryTrait,
};
use serde::Deserialize;

use crate::access::{content_searchable, list_condition, on_visible_content, with_company};
use crate::cases::{Cases, DEFAULT_PAGE, MAX_PAGE};
use crate::error::{Problems, ServiceResult, text_len};
use crate::view::{CaseView, ListOrder, Lookups, Page};

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
    /// Free text. A diarienummer (`BN 2026/0042`) or an organisation number (`556012-5790`, the
    /// dash optional) matches exactly that; other text is words, all of which must begin a word
    /// of the case's title, labels, diarienummer or company name, in any order (`bygglov
    /// restaur` finds "Bygglov för restaurangen"; PostgreSQL also matches Swedish inflections).
    /// Results come best match first (title and labels weigh most), unless `sort` is given. A
    /// confidential case's title and labels match only for those who may see them.
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

/// The cases of the company with organisation number `org`.
fn of_company(org: &OrgNumber) -> sea_orm::sea_query::SimpleExpr {
    case_record::Column::CompanyId.in_subquery(
        Query::select()
            .column(company::Column::Id)
            .from(company::Entity)
            .and_where(company::Column::OrgNumber.eq(org.as_str()))
            .to_owned(),
    )
}

/// How a page is ordered and where it starts.
struct Paging {
    limit: u64,
    order: Order,
    /// No cursor was given: this is the first page.
    first: bool,
    /// Newest first, after the case with this id (from the cursor).
    before_case: Option<i64>,
}

/// Cases a search of words ranks at most. Past this many matches (among the cases the caller
/// may list with the filters given) the newest come first instead: scoring costs every match
/// (a few microseconds each), and a word that common ranks nothing anyway.
pub const RANKED_AT_MOST: u64 = 1000;

/// Cases a page of a common word's newest matches is first looked for among, on PostgreSQL.
const NEARBY: u64 = 2000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Order {
    Newest,
    Due,
    /// Best match first: only when `q` has words.
    Rank,
}

impl Order {
    fn listed(self) -> ListOrder {
        match self {
            Order::Newest => ListOrder::Newest,
            Order::Due => ListOrder::DueDate,
            Order::Rank => ListOrder::Relevance,
        }
    }
}

impl Cases {
    /// The cases the caller may list that match `filter`, a page at a time. With words in `q`,
    /// the best matches come first (then the newest), unless `sort=due_date` asks otherwise or
    /// more than [`RANKED_AT_MOST`] cases match (then the newest come first, so that a common
    /// word costs a page, not a scoring of every case that holds it).
    pub async fn list(&self, actor: &Actor, filter: CaseFilter) -> ServiceResult<Page<CaseView>> {
        let mut p = Problems::default();
        let backend = self.db.backend();
        let (cond, words) = self.filtered(actor, &filter, &mut p).await?;
        let (mut paging, after) = paging(&filter, words.is_some(), &mut p);
        p.finish()?;
        let matching = |c: Condition| matching(actor, backend, c, words.as_deref());
        if paging.order == Order::Rank
            && paging.first
            && self
                .count_at_most(matching(cond.clone()), RANKED_AT_MOST + 1)
                .await?
                > RANKED_AT_MOST
        {
            paging.order = Order::Newest;
        }
        // On PostgreSQL a common word's newest matches are first looked for among the newest
        // cases (`newest_matches_nearby`): GIN cannot hand matches over in order.
        let nearby = match (&words, paging.order, backend) {
            (Some(words), Order::Newest, sea_orm::DbBackend::Postgres) => {
                self.newest_matches_nearby(
                    actor,
                    words,
                    cond.clone().add(after.clone()),
                    paging.limit,
                )
                .await?
            }
            _ => None,
        };
        let mut query = matching(cond.add(after));
        if words.is_some()
            && let Some(id) = paging.before_case
        {
            // The cursor's bound in the search index's own order too, where it can seek.
            query = query.filter(dialect::search_before_case(backend, MATCHES, id));
        }
        query = in_order(query, paging.order, words.is_some(), backend);
        // The companies come with the cases where they can (one statement, not two).
        let mut companies = None;
        let mut rows: Vec<Ranked> = if let Some(rows) = nearby {
            rows.into_iter()
                .map(|case| Ranked { case, score: 0.0 })
                .collect()
        } else if paging.order == Order::Rank {
            query
                .column_as(Expr::col((MATCHES, "score")), "search_score")
                .limit(paging.limit + 1)
                .into_model::<Ranked>()
                .all(self.db.reader())
                .await?
        } else {
            let (rows, with) = self
                .db
                .read_all_also(with_company(query.limit(paging.limit + 1)))
                .await?
                .into_iter()
                .map(|(case, company)| (Ranked { case, score: 0.0 }, company))
                .unzip::<_, _, Vec<_>, Vec<_>>();
            companies = Some(with.into_iter().flatten().collect());
            rows
        };
        let next_cursor = if rows.len() as u64 > paging.limit {
            rows.truncate(paging.limit as usize);
            rows.last()
                .map(|r| cursor_at(paging.order, &r.case, r.score))
        } else {
            None
        };
        let rows: Vec<case_record::Model> = rows.into_iter().map(|r| r.case).collect();
        Ok(Page {
            items: self.listed_views(actor, rows, companies).await?,
            next_cursor,
            order: paging.order.listed(),
        })
    }

    /// How many cases `filter` finds for `actor` (its `limit`, `sort` and `cursor` aside), and
    /// how many of them are overdue, in one reading of them.
    pub async fn count(&self, actor: &Actor, filter: &CaseFilter) -> ServiceResult<CaseCount> {
        let mut p = Problems::default();
        let (cond, words) = self.filtered(actor, filter, &mut p).await?;
        p.finish()?;
        let overdue = Expr::case(self.overdue(), 1).finally(0);
        let [cases, overdue] = self
            .db
            .read_integers::<2, _>(
                matching(actor, self.db.backend(), cond, words.as_deref())
                    .select_only()
                    .expr(Expr::cust("COUNT(*)"))
                    .expr(Func::sum(Into::<Expr>::into(overdue))),
            )
            .await?
            .unwrap_or_default();
        Ok(CaseCount {
            cases: whole(cases),
            overdue: whole(overdue),
        })
    }

    /// The cases `filter` finds for `actor` that hold a message from the company nobody has
    /// read yet, soonest due first (at most [`MAX_PAGE`]).
    pub async fn with_unread_from_company(
        &self,
        actor: &Actor,
        filter: &CaseFilter,
    ) -> ServiceResult<Vec<CaseView>> {
        let mut p = Problems::default();
        let (cond, words) = self.filtered(actor, filter, &mut p).await?;
        p.finish()?;
        let unread = case_record::Column::Id.in_subquery(crate::messages::unread_from_company());
        let backend = self.db.backend();
        let (rows, companies): (Vec<_>, Vec<_>) = self
            .db
            .read_all_also(with_company(
                in_order(
                    matching(actor, backend, cond.add(unread), words.as_deref()),
                    Order::Due,
                    words.is_some(),
                    backend,
                )
                .limit(MAX_PAGE),
            ))
            .await?
            .into_iter()
            .unzip();
        let companies = companies.into_iter().flatten().collect();
        self.listed_views(actor, rows, Some(companies)).await
    }

    /// *Mina ärenden*: a page of the caller's open cases, soonest due first ([`MINE_PAGE`] a
    /// page, from `cursor`), how many they have and how many of those are overdue, and those
    /// holding a message from the company that nobody has read (soonest due first, at most
    /// [`MAX_PAGE`]). One statement in the common case: the counts come with the page, each
    /// case of it says whether it holds unread messages, and when every such case is among
    /// them no other statement is needed.
    pub async fn my_open_cases(
        &self,
        actor: &Actor,
        cursor: Option<String>,
    ) -> ServiceResult<MyOpenCases> {
        let filter = CaseFilter {
            assignee: Some("me".into()),
            status: Some(open_statuses().join(",")),
            sort: Some("due_date".into()),
            limit: Some(MINE_PAGE.to_string()),
            cursor,
            ..Default::default()
        };
        let mut p = Problems::default();
        let backend = self.db.backend();
        let (cond, _) = self.filtered(actor, &filter, &mut p).await?;
        let (paging, after) = paging(&filter, false, &mut p);
        p.finish()?;
        let mut query = with_company(
            in_order(
                matching(actor, backend, cond.clone().add(after), None),
                paging.order,
                false,
                backend,
            )
            .limit(paging.limit + 1),
        );
        // 0 or 1 as a 64-bit integer, which PostgreSQL answers as `bigint` (the sums of 32-bit
        // flags in `open_totals` are `bigint` already).
        let unread_here = crate::messages::has_unread_from_company();
        let select = QueryTrait::query(&mut query).expr_as(
            Expr::case(unread_here, Expr::val(1i64)).finally(Expr::val(0i64)),
            "X_unread",
        );
        let names = ["X_n", "X_overdue", "X_unread_all"];
        let over = case_record::Entity::find()
            .filter(cond.clone())
            .select_only();
        dialect::select_aggregates(
            select,
            backend,
            over.into_query(),
            self.open_totals(),
            names,
        );
        let rows = self.db.read_all_also_with::<_, _, 4>(query).await?;
        let Some(&(_, [_, n, overdue, unread_all])) = rows.first() else {
            // Past the last case (a cursor from before some were closed): no row carries the
            // counts.
            let (count, unread) = tokio::try_join!(
                self.count(actor, &filter),
                self.with_unread_from_company(actor, &filter)
            )?;
            let page = Page {
                items: Vec::new(),
                next_cursor: None,
                order: ListOrder::DueDate,
            };
            return Ok(MyOpenCases {
                page,
                count,
                unread,
            });
        };
        let unread_all = whole(unread_all);
        let next_cursor = (rows.len() as u64 > paging.limit)
            .then(|| cursor_at(paging.order, &rows[paging.limit as usize - 1].0.0, 0.0));
        let flagged: Vec<bool> = rows
            .iter()
            .map(|(_, [here, ..])| *here == Some(1))
            .collect();
        let (rows, companies): (Vec<_>, Vec<_>) = rows.into_iter().map(|(pair, _)| pair).unzip();
        let mut views = self
            .listed_views(actor, rows, Some(companies.into_iter().flatten().collect()))
            .await?;
        let on_page: Vec<CaseView> = views
            .iter()
            .zip(&flagged)
            .filter(|(_, here)| **here)
            .map(|(v, _)| v.clone())
            .collect();
        let unread = if on_page.len() as u64 == unread_all && unread_all <= MAX_PAGE {
            on_page
        } else {
            self.with_unread_from_company(actor, &filter).await?
        };
        views.truncate(paging.limit as usize);
        Ok(MyOpenCases {
            page: Page {
                items: views,
                next_cursor,
                order: paging.order.listed(),
            },
            count: CaseCount {
                cases: whole(n),
                overdue: whole(overdue),
            },
            unread,
        })
    }

    /// How many cases there are, how many of them are overdue and how many hold a message
    /// from the company nobody has read: the aggregates.
    fn open_totals(&self) -> [Expr; 3] {
        let flag = |e: Expr| Func::sum(Into::<Expr>::into(Expr::case(e, 1).finally(0))).into();
        [
            Expr::cust("COUNT(*)"),
            flag(self.overdue().into()),
            flag(crate::messages::has_unread_from_company()),
        ]
    }

    /// What `filter` asks of the cases (every filter but paging), within what `actor` may
    /// list; and the words of a search, when it is one.
    async fn filtered(
        &self,
        actor: &Actor,
        filter: &CaseFilter,
        p: &mut Problems,
    ) -> ServiceResult<(Condition, Option<Vec<String>>)> {
        let (text, words) = text_filters(actor, self.db.backend(), filter, p);
        let cond = Condition::all()
            .add(list_condition(actor))
            .add(self.field_filters(actor, filter, p).await?)
            .add(text)
            .add(self.deadline_filters(filter, p));
        Ok((cond, words))
    }

    /// The views of listed cases, each redacted as its listing allows; their companies are read
    /// unless `companies` holds them.
    async fn listed_views(
        &self,
        actor: &Actor,
        rows: Vec<case_record::Model>,
        companies: Option<Vec<company::Model>>,
    ) -> ServiceResult<Vec<CaseView>> {
        let lookups = match companies {
            Some(companies) => {
                let assignees = rows.iter().filter_map(|c| c.assignee_id);
                Lookups::load_with_companies(&self.db, companies, assignees).await?
            }
            None => Lookups::for_cases(&self.db, &rows).await?,
        };
        rows.into_iter()
            .map(|c| self.listed_view(actor, &lookups, c))
            .collect()
    }

    /// On PostgreSQL, a page of the newest cases matching `cond` whose search document holds
    /// `words`, looked for only among the newest [`NEARBY`] cases matching `cond`, case by case
    /// (a common word is found within a few of them); `None` when that does not fill the page,
    /// and the caller then gathers every match from the index.
    async fn newest_matches_nearby(
        &self,
        actor: &Actor,
        words: &[String],
        cond: Condition,
        limit: u64,
    ) -> ServiceResult<Option<Vec<case_record::Model>>> {
        let oldest: Option<i64> = case_record::Entity::find()
            .filter(cond.clone())
            .select_only()
            .column(case_record::Column::Id)
            .order_by_desc(case_record::Column::Id)
            .offset(NEARBY)
            .limit(1)
            .into_tuple()
            .one(self.db.reader())
            .await?;
        let holds = searched_document(actor, |whole| dialect::pg_case_document_holds(words, whole));
        let mut nearby = cond.add(holds);
        if let Some(oldest) = oldest {
            nearby = nearby.add(case_record::Column::Id.gt(oldest));
        }
        let rows = case_record::Entity::find()
            .filter(nearby)
            .order_by_desc(case_record::Column::Id)
            .limit(limit + 1)
            .all(self.db.reader())
            .await?;
        // A full page (and one more, for the cursor) is the page; fewer is the page only when
        // nothing older was left out.
        Ok((rows.len() as u64 > limit || oldest.is_none()).then_some(rows))
    }

    /// How many cases `query` finds, counting no further than `cap`.
    async fn count_at_most(
        &self,
        query: sea_orm::Select<case_record::Entity>,
        cap: u64,
    ) -> ServiceResult<u64> {
        let found = query
            .select_only()
            .column(case_record::Column::Id)
            .limit(cap)
            .into_query();
        let count = Query::select()
            .expr_as(Expr::cust("COUNT(*)"), "n")
            .from_subquery(found, "found")
            .to_owned();
        let n: i64 = match self.db.reader().query_one(&count).await? {
            Some(row) => row.try_get("", "n")?,
            None => 0,
        };
        Ok(u64::try_from(n).unwrap_or(0))
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
            cond = cond.add(of_company(&org));
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
    /// Open cases past their due date (Swedish time).
    fn overdue(&self) -> Condition {
        let today = crate::deadlines::stockholm_date(self.clock.now());
        Condition::all()
            .add(case_record::Column::Status.is_in(open_statuses()))
            .add(case_record::Column::DueDate.is_not_null())
            .add(case_record::Column::DueDate.lt(today))
    }

    fn deadline_filters(&self, filter: &CaseFilter, p: &mut Problems) -> Condition {
        let mut cond = Condition::all();
        let overdue = self.overdue();
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

/// Cases a page of *Mina ärenden* shows.
pub const MINE_PAGE: u64 = 50;

/// What *Mina ärenden* shows (`Cases::my_open_cases`).
#[derive(Debug, Clone)]
pub struct MyOpenCases {
    pub page: Page<CaseView>,
    /// All of the caller's open cases, and the overdue among them.
    pub count: CaseCount,
    /// Those holding a message from the company that nobody has read, soonest due first.
    pub unread: Vec<CaseView>,
}

/// How many cases a filter finds, and how many of them are overdue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CaseCount {
    pub cases: u64,
    pub overdue: u64,
}

/// The alias of the full-text matches a search joins.
const MATCHES: &str = "search_matches";

/// Words searched for at most, so that one request cannot ask for an unbounded query.
const MAX_WORDS: usize = 16;

/// A case and its relevance to the words searched for (0 when none were).
struct Ranked {
    case: case_record::Model,
    score: f64,
}

impl FromQueryResult for Ranked {
    fn from_query_result(res: &QueryResult, pre: &str) -> Result<Self, sea_orm::DbErr> {
        Ok(Self {
            case: case_record::Model::from_query_result(res, pre)?,
            score: res.try_get(pre, "search_score")?,
        })
    }
}

/// Joins the full-text matches of `words` to `query`: each case's whole document if the caller
/// may see its content, else its public one, so that a confidential case's title and labels
/// are not in what others search.
fn join_matches(
    query: &mut sea_orm::Select<case_record::Entity>,
    actor: &Actor,
    backend: sea_orm::DbBackend,
    words: &[String],
) {
    QueryTrait::query(query).join_subquery(
        JoinType::InnerJoin,
        dialect::case_search_matches(backend, words),
        MATCHES,
        Condition::all()
            .add(
                Expr::col((MATCHES, "case_id"))
                    .equals((case_record::Entity, case_record::Column::Id)),
            )
            .add(searched_document(actor, |whole| {
                Expr::col((MATCHES, "whole")).eq(i32::from(whole))
            })),
    );
}

/// The cases matching `cond`, joined with the full-text matches of `words` when it is a search.
fn matching(
    actor: &Actor,
    backend: sea_orm::DbBackend,
    cond: Condition,
    words: Option<&[String]>,
) -> sea_orm::Select<case_record::Entity> {
    let mut query = case_record::Entity::find().filter(cond);
    if let Some(words) = words {
        join_matches(&mut query, actor, backend, words);
    }
    query
}

/// `query` in `order`: a total order, so keyset pages never repeat or skip a case.
fn in_order(
    query: sea_orm::Select<case_record::Entity>,
    order: Order,
    searched: bool,
    backend: sea_orm::DbBackend,
) -> sea_orm::Select<case_record::Entity> {
    match order {
        // Soonest due first, cases without a due date last, then by id.
        Order::Due => query
            .order_by_asc(Expr::col(case_record::Column::DueDate).is_null())
            .order_by_asc(case_record::Column::DueDate)
            .order_by_asc(case_record::Column::Id),
        // Best match first, then newest.
        Order::Rank => query
            .order_by_desc(Expr::col((MATCHES, "score")))
            .order_by_desc(case_record::Column::Id),
        // Newest first, by id: of a search, in the order its index keeps the matches.
        Order::Newest if searched => {
            query.order_by_desc(dialect::search_newest_first(backend, MATCHES))
        }
        Order::Newest => query.order_by_desc(case_record::Column::Id),
    }
}

/// The cursor of a page that ends with `case` (of relevance `score` in a ranked search).
fn cursor_at(order: Order, case: &case_record::Model, score: f64) -> String {
    match order {
        Order::Due => Cursor::Due(case.due_date, case.id),
        Order::Rank => Cursor::Rank(score, case.id),
        Order::Newest => Cursor::Newest(case.id),
    }
    .encode()
}

/// `matches(whole)` of the one search document of each case the caller searches: the whole
/// one (with title and labels) where they may see the case's content, else the public one.
fn searched_document(
    actor: &Actor,
    matches: impl Fn(bool) -> sea_orm::sea_query::SimpleExpr,
) -> Condition {
    Condition::any()
        .add(
            Condition::all()
                .add(content_searchable(actor))
                .add(matches(true)),
        )
        .add(
            Condition::all()
                .add(content_searchable(actor).not())
                .add(matches(false)),
        )
}

/// Free text (`q`) and `label`. A `q` that is a diarienummer or an organisation number (with or
/// without the dash) matches exactly that; any other `q` is words, each of which must prefix a
/// word of the case's diarienummer, company name, title or labels (the full-text index,
/// returned for the caller to join). A confidential case's title and labels are matched only
/// for those who may see them.
fn text_filters(
    actor: &Actor,
    backend: sea_orm::DbBackend,
    filter: &CaseFilter,
    p: &mut Problems,
) -> (Condition, Option<Vec<String>>) {
    let mut cond = Condition::all();
    let mut words = None;
    if let Some(q) = non_empty(&filter.q)
        && let Some(q) = p.check("q", text_len(q, 1, 200))
    {
        if let Ok(reference) = Reference::parse(q) {
            cond = cond.add(case_record::Column::Reference.eq(reference.to_string()));
        } else if let Ok(org) = OrgNumber::parse(q) {
            cond = cond.add(of_company(&org));
        } else {
            let w = search_words(q);
            if w.is_empty() {
                // Nothing a word could match: no case does.
                cond = cond.add(Expr::cust("1 = 0"));
            } else if w.len() > MAX_WORDS {
                p.add("q", format!("must have at most {MAX_WORDS} words"));
            } else {
                words = Some(w);
            }
        }
    }
    if let Some(l) = non_empty(&filter.label)
        && let Some(l) = p.check("label", text_len(l, 1, 40))
    {
        let has_label = dialect::json_array_contains(backend, "case_record.labels", l);
        cond = cond.add(on_visible_content(actor, has_label));
    }
    (cond, words)
}

/// The words of a search: runs of letters and digits, lower-cased (so that they can be put in
/// either engine's query syntax without escaping).
fn search_words(q: &str) -> Vec<String> {
    q.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// The page size, the sort order and the condition that starts after the cursor.
fn paging(filter: &CaseFilter, searched: bool, p: &mut Problems) -> (Paging, Condition) {
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
    let cursor = non_empty(&filter.cursor);
    let order = match non_empty(&filter.sort) {
        // A search with too many matches to rank went on newest first.
        None if searched
            && cursor
                .and_then(decode_cursor)
                .is_some_and(|c| matches!(c, Cursor::Newest(_))) =>
        {
            Order::Newest
        }
        None if searched => Order::Rank,
        None | Some("newest") => Order::Newest,
        Some("due_date") => Order::Due,
        Some(_) => {
            p.add("sort", "must be newest or due_date");
            Order::Newest
        }
    };
    let mut after = Condition::all();
    let mut before_case = None;
    if let Some(c) = cursor {
        match (decode_cursor(c), order) {
            (Some(Cursor::Newest(id)), Order::Newest) => {
                after = after.add(case_record::Column::Id.lt(id));
                before_case = Some(id);
            }
            (Some(Cursor::Rank(score, id)), Order::Rank) => {
                let score_col = || Expr::col((MATCHES, "score"));
                after = after.add(
                    Condition::any().add(score_col().lt(score)).add(
                        Condition::all()
                            .add(score_col().eq(score))
                            .add(case_record::Column::Id.lt(id)),
                    ),
                )
            }
            (Some(Cursor::Due(Some(due), id)), Order::Due) => {
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
            (Some(Cursor::Due(None, id)), Order::Due) => {
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
    (
        Paging {
            limit,
            order,
            first: cursor.is_none(),
            before_case,
        },
        after,
    )
}

/// The statuses of open cases (`CaseStatus::is_open`), as stored.
fn open_statuses() -> Vec<&'static str> {
    CaseStatus::ALL
        .iter()
        .filter(|s| s.is_open())
        .map(|s| s.as_str())
        .collect()
}

/// A count read from the database (null, or below zero, as none).
fn whole(n: Option<i64>) -> u64 {
    u64::try_from(n.unwrap_or_default()).unwrap_or_default()
}

fn non_empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Where the previous page ended, in the list's sort order.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Cursor {
    Newest(i64),
    Due(Option<NaiveDate>, i64),
    /// A search's relevance score (exactly, as its bits) and the case id.
    Rank(f64, i64),
}

impl Cursor {
    fn encode(self) -> String {
        URL_SAFE_NO_PAD.encode(match self {
            Cursor::Newest(id) => format!("c1:{id}"),
            Cursor::Due(Some(d), id) => format!("d1:{d}:{id}"),
            Cursor::Due(None, id) => format!("d1:-:{id}"),
            Cursor::Rank(score, id) => format!("r1:{:x}:{id}", score.to_bits()),
        })
    }
}

fn decode_cursor(s: &str) -> Option<Cursor> {
    let bytes = URL_SAFE_NO_PAD.decode(s).ok()?;
    let text = std::str::from_utf8(&bytes).ok()?;
    if let Some(id) = text.strip_prefix("c1:") {
        return id.parse().ok().map(Cursor::Newest);
    }
    if let Some(rest) = text.strip_prefix("r1:") {
        let (bits, id) = rest.split_once(':')?;
        let score = f64::from_bits(u64::from_str_radix(bits, 16).ok()?);
        return score
            .is_finite()
            .then_some(Cursor::Rank(score, id.parse().ok()?));
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
            Cursor::Rank(-1.0 / 3.0, 42),
            Cursor::Rank(0.0607927, 1),
        ] {
            assert_eq!(decode_cursor(&c.encode()), Some(c));
        }
        assert_eq!(decode_cursor("12345"), None);
        assert_eq!(decode_cursor("!!"), None);
    }
}
