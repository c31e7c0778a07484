//! Bulk import of case histories from older systems (NDJSON, one case a line; API.md). Every
//! line, and the order of its events against the lifecycle, is checked before anything is
//! written; a file with a bad line imports nothing unless `skip_invalid` is set. A reference that
//! exists is refused, so re-importing never duplicates. Imported history is not announced: it
//! writes no outbox rows and sends no webhooks.

//!
//! The import goes in four steps, a module each: `parse` reads a line, `check` checks it
//! against the lifecycle and the directory, `plan` builds the rows of a batch of checked lines,
//! and `write` writes them.

mod check;
mod parse;
mod plan;
mod source;
mod write;

pub use source::{ImportSource, PART_BYTES};

use std::sync::Arc;

use lots_core::Actor;
use serde::Serialize;

use crate::cases::Cases;
use crate::error::{ServiceError, ServiceResult};
use lots_core::nki::Instrument;

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

/// Lines the second pass hands the writer at a time: one transaction each.
const BATCH: usize = 10_000;

impl Cases {
    /// Imports case histories (see the module's documentation). The source is read twice, a
    /// part at a time (`ImportSource`): first every line is checked and nothing written; then,
    /// unless that found a bad line, a thread parses the lines again batch by batch while this
    /// task writes the batch before.
    /// `progress` hears (cases written, cases to write) once the check passed and after each
    /// batch.
    pub async fn import_cases(
        &self,
        actor: &Actor,
        source: ImportSource,
        options: &ImportOptions,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> ServiceResult<CaseImportReport> {
        if !lots_core::access::may(actor, lots_core::access::Capability::Administer) {
            return Err(ServiceError::Forbidden(
                "only an admin imports case histories".into(),
            ));
        }
        let dir = Arc::new(self.import_directory(options).await?);

        let started = std::time::Instant::now();
        let (first, layout) = {
            let (source, dir) = (source.clone(), dir.clone());
            tokio::task::spawn_blocking(move || check::survey(&source, &dir))
                .await
                .map_err(|e| ServiceError::Internal(format!("the import's check failed: {e}")))??
        };
        let mut report = CaseImportReport {
            lines: first.lines,
            imported: 0,
            errors: first.errors,
        };
        let existing = self.existing_references(&first.good).await?;
        let mut plan = plan::Plan::new(first.good, &existing, &mut report.errors);
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
        self.create_missing(&mut dir, &mut plan, &first.prefixes)
            .await?;
        let read = (source, layout);
        self.write_import(read, Arc::new(dir), plan, started, &mut report, progress)
            .await?;
        // The tables changed wholesale: the planner's statistics are stale.
        self.db.optimize_after_bulk().await?;
        Ok(report)
    }
}
