//! The store's side of access: gathers how a caller is tied to cases (one query per relation,
//! whatever the number of cases) and asks `lots_core::access` to decide. Every service reads a
//! case through `Cases::readable` or `Cases::owned` and gets a `Granted` case that carries its
//! `CaseAccess`; lists and searches are scoped by the conditions here. No rule is decided in this
//! module: it only gathers facts and turns a `ListScope` into SQL.

use std::collections::{HashMap, HashSet};
use std::ops::Deref;

use lots_core::Actor;
use lots_core::access::{CaseAccess, CaseFacts, ListScope, Ties};
use lots_store::Db;
use lots_store::entity::{bundle, bundle_case, case_record, company, handoff};
use lots_store::prefetch::{CaseRows, Part};
use sea_orm::sea_query::{JoinType, Query, SimpleExpr};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::cases::Cases;
use crate::error::{ServiceError, ServiceResult};

/// A case the caller may read, with everything they may do with it.
#[derive(Debug, Clone)]
pub struct Granted {
    pub case: case_record::Model,
    pub access: CaseAccess,
    /// Rows of the case's parts read with it (`with_rows`), for those who show them.
    rows: Option<std::sync::Arc<CaseRows>>,
}

impl Granted {
    /// The case's rows of `E` (whose column `case` holds the case's id), oldest first: those
    /// read with the case (`with_rows`) where they were, else read now.
    pub async fn rows<E: EntityTrait>(
        &self,
        db: &Db,
        case: E::Column,
    ) -> ServiceResult<Vec<E::Model>>
    where
        E::ActiveModel: sea_orm::TryIntoModel<E::Model>,
    {
        if let Some(read) = self
            .rows
            .as_ref()
            .and_then(|r| r.of::<E>(case, self.case.id))
        {
            return Ok(read?);
        }
        Ok(db.case_rows::<E>(case, self.case.id).await?)
    }

    /// The case with the rows of `parts` read at once, in one statement where that is cheaper
    /// than one each (PostgreSQL: one round trip where a case page made nine); unchanged
    /// elsewhere, where each part is read when it is asked for.
    pub async fn with_rows(mut self, db: &Db, parts: &[Part]) -> ServiceResult<Self> {
        self.rows = db
            .case_rows_at_once(self.case.id, parts)
            .await?
            .map(std::sync::Arc::new);
        Ok(self)
    }

    /// `Forbidden` unless the caller may change the case (it is their department's).
    pub fn changeable(&self) -> ServiceResult<()> {
        if self.access.change {
            Ok(())
        } else {
            Err(ServiceError::Forbidden(
                "you may read this case through a handoff or a bundle, but only its department changes it".into(),
            ))
        }
    }
}

impl Deref for Granted {
    type Target = case_record::Model;

    fn deref(&self) -> &case_record::Model {
        &self.case
    }
}

/// The facts of a case row that access depends on.
pub fn facts(case: &case_record::Model) -> CaseFacts {
    CaseFacts {
        department_id: case.department_id,
        confidential: case.confidential_statute.is_some(),
    }
}

/// The caller's access to a case whose reading was already scoped by a list condition (their
/// own department's list, an admin's): ties to other departments change nothing there.
pub fn listed(actor: &Actor, case: &case_record::Model) -> CaseAccess {
    CaseAccess::decide(actor, facts(case), Ties::default())
}

/// The condition that keeps a list to the cases the caller may list.
pub fn list_condition(actor: &Actor) -> Condition {
    match ListScope::of(actor).department {
        Some(dep) => Condition::all().add(case_record::Column::DepartmentId.eq(dep)),
        None => Condition::all(),
    }
}

/// The condition under which a case's own content (title, description, labels) may be
/// matched by the caller's free text or label filter: a search must never answer yes or no
/// about text the caller cannot see.
pub fn content_searchable(actor: &Actor) -> Condition {
    let open = Condition::any().add(case_record::Column::ConfidentialStatute.is_null());
    match ListScope::of(actor).confidential_of {
        Some(dep) => open.add(case_record::Column::DepartmentId.eq(dep)),
        None => open,
    }
}

/// The condition that keeps a list of bundles to those the caller may see: the rule of
/// `access::may_read_bundle` as SQL (whoever lists every department sees every bundle).
pub fn bundle_condition(actor: &Actor) -> Condition {
    let Some(scope) = ListScope::of(actor).department else {
        return Condition::all();
    };
    Condition::any()
        .add(bundle::Column::CoordinatorId.eq(actor.user_id))
        .add(bundle::Column::CreatedBy.eq(actor.user_id))
        .add(
            bundle::Column::CompanyId.in_subquery(
                Query::select()
                    .column(case_record::Column::CompanyId)
                    .from(case_record::Entity)
                    .and_where(case_record::Column::DepartmentId.eq(scope))
                    .to_owned(),
            ),
        )
}

/// `expr`, guarded so that it only matches where the caller may see the content it reads.
pub fn on_visible_content(actor: &Actor, expr: SimpleExpr) -> Condition {
    Condition::all().add(content_searchable(actor)).add(expr)
}

impl Cases {
    /// The case if the caller may read it; otherwise `NotFound`, as if it did not exist.
    pub async fn readable<C: ConnectionTrait>(
        &self,
        conn: &C,
        actor: &Actor,
        id: i64,
    ) -> ServiceResult<Granted> {
        let case = case_record::Entity::find_by_id(id).one(conn).await?;
        self.grant_read(conn, actor, case).await
    }

    /// `readable` outside a transaction: what a read of something on the case starts with.
    pub async fn granted(&self, actor: &Actor, id: i64) -> ServiceResult<Granted> {
        self.readable(self.db.reader(), actor, id).await
    }

    /// `readable`, with the case's company read in the same query: what a view of the case
    /// needs, in one round trip to the database where there were two.
    pub async fn readable_with_company(
        &self,
        actor: &Actor,
        id: i64,
    ) -> ServiceResult<(Granted, Option<company::Model>)> {
        let conn = self.db.reader();
        let row = self
            .db
            .read_all_also(with_company(case_record::Entity::find_by_id(id)).limit(1))
            .await?
            .pop();
        let (case, company) = row.map_or((None, None), |(c, co)| (Some(c), co));
        Ok((self.grant_read(conn, actor, case).await?, company))
    }

    /// Case `case` if it exists and the caller may read it; `NotFound` alike otherwise.
    async fn grant_read<C: ConnectionTrait>(
        &self,
        conn: &C,
        actor: &Actor,
        case: Option<case_record::Model>,
    ) -> ServiceResult<Granted> {
        let Some(case) = case else {
            return Err(ServiceError::NotFound("case"));
        };
        let access = self
            .access(conn, actor, std::slice::from_ref(&case))
            .await?;
        match access.get(&case.id).copied() {
            Some(access) if access.read => Ok(Granted {
                case,
                access,
                rows: None,
            }),
            _ => Err(ServiceError::NotFound("case")),
        }
    }

    /// The case if the caller may change it. A case the caller may only read (through a
    /// handoff or a bundle) is `Forbidden`; any other `NotFound`.
    pub async fn owned<C: ConnectionTrait>(
        &self,
        conn: &C,
        actor: &Actor,
        id: i64,
    ) -> ServiceResult<Granted> {
        let granted = self.readable(conn, actor, id).await?;
        granted.changeable()?;
        Ok(granted)
    }

    /// The caller's access to each of `cases`, by id.
    pub async fn access<C: ConnectionTrait>(
        &self,
        conn: &C,
        actor: &Actor,
        cases: &[case_record::Model],
    ) -> ServiceResult<HashMap<i64, CaseAccess>> {
        let ties = self.ties(conn, actor, cases).await?;
        Ok(cases
            .iter()
            .map(|c| {
                let t = ties.get(&c.id).copied().unwrap_or_default();
                (c.id, CaseAccess::decide(actor, facts(c), t))
            })
            .collect())
    }

    /// How the caller is tied to each of `cases` other than by owning it: a handoff of their
    /// department's, a bundle they coordinate. One query per relation, and none for the cases
    /// the caller owns (or for an admin).
    async fn ties<C: ConnectionTrait>(
        &self,
        conn: &C,
        actor: &Actor,
        cases: &[case_record::Model],
    ) -> ServiceResult<HashMap<i64, Ties>> {
        let rest: Vec<i64> = cases
            .iter()
            .filter(|c| !listed(actor, c).read)
            .map(|c| c.id)
            .collect();
        let mut ties: HashMap<i64, Ties> = HashMap::new();
        if rest.is_empty() {
            return Ok(ties);
        }
        if let Some(dep) = actor.department_id {
            let related: HashSet<i64> = handoff::Entity::find()
                .filter(handoff::Column::CaseId.is_in(rest.clone()))
                .filter(
                    Condition::any()
                        .add(handoff::Column::FromDepartmentId.eq(dep))
                        .add(handoff::Column::ToDepartmentId.eq(dep)),
                )
                .all(conn)
                .await?
                .into_iter()
                .map(|h| h.case_id)
                .collect();
            for id in related {
                ties.entry(id).or_default().handoff = true;
            }
        }
        let coordinated = bundle_case::Entity::find()
            .filter(bundle_case::Column::CaseId.is_in(rest))
            .filter(
                bundle_case::Column::BundleId.in_subquery(
                    Query::select()
                        .column(bundle::Column::Id)
                        .from(bundle::Entity)
                        .and_where(bundle::Column::CoordinatorId.eq(actor.user_id))
                        .to_owned(),
                ),
            )
            .all(conn)
            .await?;
        for b in coordinated {
            ties.entry(b.case_id).or_default().coordinator = true;
        }
        Ok(ties)
    }
}

/// `select`'s cases with each one's company, in one statement.
pub(crate) fn with_company(
    select: sea_orm::Select<case_record::Entity>,
) -> sea_orm::SelectTwo<case_record::Entity, company::Entity> {
    select.select_also(company::Entity).join(
        JoinType::LeftJoin,
        case_record::Entity::belongs_to(company::Entity)
            .from(case_record::Column::CompanyId)
            .to(company::Column::Id)
            .into(),
    )
}
