//! The metric records of every case, kept in memory and current: each request first asks the
//! store which cases were touched since the last look (`case_touch`, by the database's clock,
//! with a margin for transactions that were still open) and re-reads only those. A dashboard
//! therefore costs a scan over compact records in memory, not a read of every case, handoff,
//! answer and event. Several `lots` processes each keep their own copy; none depends on another.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use lots_store::Db;
use lots_store::touch::{MARGIN_MS, now_ms, touch_summary, touched_since};
use sea_orm::{Condition, DbErr};
use tokio::sync::Mutex;

use crate::load::{Criteria, read};
use crate::records::CaseRecord;

/// Every case's record, in id order.
#[derive(Default)]
pub struct Snapshot {
    records: Vec<Arc<CaseRecord>>,
    /// The database's clock when this snapshot was last brought up to date.
    seen_ms: Option<i64>,
    /// The touches of the last margin already applied: (case, touch).
    applied: HashMap<i64, i64>,
}

impl Snapshot {
    /// The records that meet `criteria`.
    pub fn select(&self, criteria: &Criteria) -> Vec<&CaseRecord> {
        self.records
            .iter()
            .map(Arc::as_ref)
            .filter(|c| criteria.matches(c))
            .collect()
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}

#[derive(Default)]
pub struct MetricsCache {
    current: RwLock<Arc<Snapshot>>,
    /// One refresh at a time; the others wait for it and then find little to do.
    refreshing: Mutex<()>,
}

impl std::fmt::Debug for MetricsCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsCache")
            .field("cases", &self.current().len())
            .finish()
    }
}

impl MetricsCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// The records as of now.
    pub async fn snapshot(&self, db: &Db) -> Result<Arc<Snapshot>, DbErr> {
        let _guard = self.refreshing.lock().await;
        let old = self.current();
        let now = now_ms(db.reader()).await?;
        // Touches first, records after: a record read now holds at least every change whose
        // touch this query sees.
        let since = old.seen_ms.map_or(now, |seen| seen.min(now)) - MARGIN_MS;
        let margin = match old.seen_ms {
            Some(_) => match later_touches(db, &old.applied, since).await? {
                Some(margin) => margin,
                None => all_touches(db, &old.applied, since).await?,
            },
            None => all_touches(db, &old.applied, since).await?,
        };
        let (touches, changed) = match margin {
            Margin::Changed { touches, changed } => (touches, changed),
            Margin::Unchanged if old.seen_ms.is_some() => return Ok(old),
            Margin::Unchanged => (HashMap::new(), Vec::new()),
        };
        let records = if old.seen_ms.is_none() || changed.len() * 2 > old.records.len() {
            read(db, Condition::all(), None)
                .await?
                .into_iter()
                .map(Arc::new)
                .collect()
        } else {
            merge(
                &old.records,
                read(db, Condition::all(), Some(&changed)).await?,
            )
        };
        let next = Snapshot {
            records,
            seen_ms: Some(now),
            applied: touches,
        };
        let next = Arc::new(next);
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = next.clone();
        Ok(next)
    }

    fn current(&self) -> Arc<Snapshot> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// The touches of the margin against the ones applied.
enum Margin {
    Unchanged,
    /// Every touch of the margin (case → touch), and the cases whose touch is not the one
    /// applied.
    Changed {
        touches: HashMap<i64, i64>,
        changed: Vec<i64>,
    },
}

/// Every touch of the margin, fetched.
async fn all_touches(db: &Db, applied: &HashMap<i64, i64>, since: i64) -> Result<Margin, DbErr> {
    let touches: HashMap<i64, i64> = touched_since(db.reader(), since)
        .await?
        .into_iter()
        .collect();
    let changed: Vec<i64> = touches
        .iter()
        .filter(|(id, at)| applied.get(id) != Some(at))
        .map(|(id, _)| *id)
        .collect();
    Ok(if changed.is_empty() {
        Margin::Unchanged
    } else {
        Margin::Changed { touches, changed }
    })
}

/// The margin's touches from the ones applied and those after the latest of them, if that is
/// all that changed: the touches up to the latest applied one are compared by their summary,
/// without fetching them. Within a minute of a bulk import the margin holds a million touches, and
/// a write adds one after them all. `None` when something changed among the earlier ones (a
/// transaction that committed late), which only fetching them all tells apart.
async fn later_touches(
    db: &Db,
    applied: &HashMap<i64, i64>,
    since: i64,
) -> Result<Option<Margin>, DbErr> {
    let latest = applied.values().copied().filter(|at| *at >= since).max();
    let Some(latest) = latest else {
        // Nothing applied lies in the margin: every touch in it is new.
        return all_touches(db, applied, since).await.map(Some);
    };
    let later: Vec<(i64, i64)> = touched_since(db.reader(), latest + 1).await?;
    let moved: std::collections::HashSet<i64> = later.iter().map(|(id, _)| *id).collect();
    // What the range up to `latest` holds if only the later touches changed: the applied
    // touches except those of cases touched again since.
    let kept = || {
        applied
            .iter()
            .filter(|(id, at)| **at >= since && !moved.contains(id))
            .map(|(id, at)| (*id, *at))
    };
    let (count, sum) = kept().fold((0i64, 0i64), |(n, s), (_, at)| (n + 1, s + (at - since)));
    if touch_summary(db.reader(), since, latest).await? != (count, sum) {
        return Ok(None);
    }
    if later.is_empty() {
        return Ok(Some(Margin::Unchanged));
    }
    let mut touches: HashMap<i64, i64> = kept().collect();
    let changed = later.iter().map(|(id, _)| *id).collect();
    touches.extend(later);
    Ok(Some(Margin::Changed { touches, changed }))
}

/// The records a metric request selects: the snapshot and the checked filters.
pub struct Selection {
    snapshot: Arc<Snapshot>,
    criteria: Criteria,
}

impl Selection {
    pub fn records(&self) -> Vec<&CaseRecord> {
        self.snapshot.select(&self.criteria)
    }
}

impl MetricsCache {
    /// Checks the caller and the filters, brings the records up to date and selects.
    pub async fn selection(
        &self,
        db: &Db,
        actor: &lots_core::Actor,
        filter: &crate::MetricFilter,
    ) -> lots_cases::ServiceResult<Selection> {
        let criteria = crate::load::criteria(db, actor, filter).await?;
        let snapshot = self.snapshot(db).await?;
        Ok(Selection { snapshot, criteria })
    }
}

/// `old` with each of `fresh` in place of its earlier record (or added), in id order.
fn merge(old: &[Arc<CaseRecord>], fresh: Vec<CaseRecord>) -> Vec<Arc<CaseRecord>> {
    let mut fresh: HashMap<i64, CaseRecord> = fresh.into_iter().map(|c| (c.id, c)).collect();
    let mut out: Vec<Arc<CaseRecord>> = Vec::with_capacity(old.len() + fresh.len());
    for c in old {
        match fresh.remove(&c.id) {
            Some(new) => out.push(Arc::new(new)),
            None => out.push(c.clone()),
        }
    }
    let mut added: Vec<CaseRecord> = fresh.into_values().collect();
    added.sort_by_key(|c| c.id);
    out.extend(added.into_iter().map(Arc::new));
    out.sort_by_key(|c| c.id);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn record(id: i64, status: &str) -> CaseRecord {
        CaseRecord {
            id,
            reference: format!("BN 2026/{id:04}"),
            area: "building_permit".into(),
            case_type: None,
            department: "SBF".into(),
            channel: "officer".into(),
            status: status.into(),
            received_at: Utc.with_ymd_and_hms(2026, 1, 1, 8, 0, 0).unwrap(),
            complete_at: None,
            decided_at: None,
            due_date: None,
            owners: Vec::new(),
            handoffs: Vec::new(),
            survey: None,
            status_changes: Vec::new(),
        }
    }

    #[test]
    fn a_merge_replaces_changed_records_and_adds_new_ones_in_id_order() {
        let old: Vec<Arc<CaseRecord>> = [1, 2, 4]
            .into_iter()
            .map(|i| Arc::new(record(i, "received")))
            .collect();
        let merged = merge(&old, vec![record(3, "received"), record(2, "decided")]);
        let got: Vec<(i64, &str)> = merged.iter().map(|c| (c.id, c.status.as_str())).collect();
        assert_eq!(
            got,
            [
                (1, "received"),
                (2, "decided"),
                (3, "received"),
                (4, "received")
            ]
        );
        // Unchanged records are shared, not copied.
        assert!(Arc::ptr_eq(&merged[0], &old[0]));
    }
}
