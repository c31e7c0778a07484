//! Operations: liveness, readiness, request timeouts, and request counts and latencies in the
//! Prometheus text format.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::ApiError;
use crate::state::AppState;

const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Debug, Default, Clone)]
struct Series {
    count: u64,
    sum: f64,
    buckets: [u64; BUCKETS.len()],
}

/// Request counts and a latency histogram by route template, method and status. Observing a
/// request that was seen before allocates nothing.
/// The series of one route: (method, status, series).
type RouteSeries = Vec<(String, u16, Series)>;

#[derive(Debug, Default)]
pub struct HttpMetrics {
    series: Mutex<BTreeMap<String, RouteSeries>>,
}

impl HttpMetrics {
    pub fn observe(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        let mut map = self.series.lock().unwrap_or_else(|p| p.into_inner());
        let of_route = match map.get_mut(route) {
            Some(v) => v,
            None => map.entry(route.to_string()).or_default(),
        };
        let i = match of_route
            .iter()
            .position(|(m, s, _)| m == method && *s == status)
        {
            Some(i) => i,
            None => {
                of_route.push((method.to_string(), status, Series::default()));
                of_route.len() - 1
            }
        };
        let s = &mut of_route[i].2;
        s.count += 1;
        s.sum += seconds;
        for (i, le) in BUCKETS.iter().enumerate() {
            if seconds <= *le {
                s.buckets[i] += 1;
            }
        }
    }

    /// Every series, ordered by method, route and status.
    fn sorted(&self) -> Vec<(String, String, u16, Series)> {
        let map = self.series.lock().unwrap_or_else(|p| p.into_inner());
        let mut all: Vec<_> = map
            .iter()
            .flat_map(|(r, v)| {
                v.iter()
                    .map(move |(m, s, series)| (m.clone(), r.clone(), *s, series.clone()))
            })
            .collect();
        all.sort_by(|a, b| (&a.0, &a.1, a.2).cmp(&(&b.0, &b.1, b.2)));
        all
    }

    pub fn render(&self) -> String {
        let all = self.sorted();
        let mut out = String::new();
        out.push_str("# HELP lots_http_requests_total HTTP requests answered, by method, route and status.\n");
        out.push_str("# TYPE lots_http_requests_total counter\n");
        for (m, r, s, series) in &all {
            let _ = writeln!(
                out,
                "lots_http_requests_total{{method=\"{m}\",route=\"{}\",status=\"{s}\"}} {}",
                escape(r),
                series.count
            );
        }
        out.push_str("# HELP lots_http_request_duration_seconds Time to answer HTTP requests.\n");
        out.push_str("# TYPE lots_http_request_duration_seconds histogram\n");
        for (m, r, s, series) in &all {
            let labels = format!("method=\"{m}\",route=\"{}\",status=\"{s}\"", escape(r));
            for (i, le) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "lots_http_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} {}",
                    series.buckets[i]
                );
            }
            let _ = writeln!(
                out,
                "lots_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                series.count
            );
            let _ = writeln!(
                out,
                "lots_http_request_duration_seconds_sum{{{labels}}} {}",
                series.sum
            );
            let _ = writeln!(
                out,
                "lots_http_request_duration_seconds_count{{{labels}}} {}",
                series.count
            );
        }
        out
    }
}

fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Records every request under its route template (never the raw path, which would let
/// clients create unbounded series).
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request.extensions().get::<MatchedPath>().cloned();
    let response = next.run(request).await;
    state.metrics.observe(
        method.as_str(),
        route.as_ref().map_or("unmatched", |p| p.as_str()),
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// Answers 503 problem+json when a request takes longer than the configured timeout.
pub async fn timeout(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let limit = Duration::from_secs(state.config.request_timeout_seconds);
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::timeout().into_response(),
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    pub status: &'static str,
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "operations", security(()),
    responses((status = 200, description = "The process is alive", body = Health)))]
pub async fn healthz() -> axum::Json<Health> {
    axum::Json(Health { status: "ok" })
}

/// Readiness: the database answers.
#[utoipa::path(get, path = "/readyz", tag = "operations", security(()),
    responses((status = 200, description = "Ready to serve", body = Health),
              (status = 503, description = "The database does not answer", body = crate::error::Problem, content_type = "application/problem+json")))]
pub async fn readyz(State(state): State<AppState>) -> Response {
    match state.db.ping().await {
        Ok(()) => axum::Json(Health { status: "ready" }).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            let mut r = ApiError::internal().into_response();
            *r.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
            r
        }
    }
}

/// Request counts and latencies in the Prometheus text format.
#[utoipa::path(get, path = "/metrics", tag = "operations", security(()),
    responses((status = 200, description = "Prometheus text format", body = String, content_type = "text/plain; version=0.0.4")))]
pub async fn metrics(State(state): State<AppState>) -> Response {
    let mut text = state.metrics.render();
    let written = state.cases.registrations_written();
    for (name, help, counter) in [
        (
            "lots_registrations_total",
            "Cases registered by officers and committed.",
            &written.cases,
        ),
        (
            "lots_registration_transactions_total",
            "Transactions that committed them (concurrent registrations share one).",
            &written.transactions,
        ),
        (
            "lots_registration_failed_batches_total",
            "Shared transactions rolled back because one case failed (their cases then written alone).",
            &written.failed_batches,
        ),
    ] {
        let n = counter.load(std::sync::atomic::Ordering::Relaxed);
        let _ = write!(
            text,
            "# HELP {name} {help}\n# TYPE {name} counter\n{name} {n}\n"
        );
    }
    let mut r = text.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_cumulative_buckets() {
        let m = HttpMetrics::default();
        m.observe("GET", "/api/v1/cases/{id}", 200, Duration::from_millis(20));
        m.observe("GET", "/api/v1/cases/{id}", 200, Duration::from_millis(300));
        let text = m.render();
        assert!(text.contains("lots_http_requests_total{method=\"GET\",route=\"/api/v1/cases/{id}\",status=\"200\"} 2"), "{text}");
        assert!(text.contains("le=\"0.025\"} 1"), "{text}");
        assert!(text.contains("le=\"0.5\"} 2"), "{text}");
        assert!(text.contains("le=\"+Inf\"} 2"), "{text}");
    }
}
