//! Counters for Prometheus: facts ingested by kind and outcome, HTTP requests by route and
//! status, and request durations.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use regulars_formats::FactKind;

/// Upper bounds of the request-duration histogram, in seconds.
const BUCKETS: [f64; 10] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];

/// The process's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Per fact kind: created, updated, duplicate, rejected.
    ingested: [[AtomicU64; 4]; 7],
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    durations: [AtomicU64; BUCKETS.len() + 1],
    duration_micros: AtomicU64,
}

fn kind_index(kind: FactKind) -> usize {
    FactKind::IMPORT_ORDER
        .iter()
        .position(|k| *k == kind)
        .unwrap_or(0)
}

impl Metrics {
    /// Counts ingested items of `kind`: created, updated, duplicates, rejected.
    pub fn record_ingest(&self, kind: FactKind, counts: [u64; 4]) {
        for (slot, n) in self.ingested[kind_index(kind)].iter().zip(counts) {
            slot.fetch_add(n, Ordering::Relaxed);
        }
    }

    /// Counts one HTTP request.
    pub fn record_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        if let Ok(mut requests) = self.requests.lock() {
            *requests
                .entry((method.to_owned(), route.to_owned(), status))
                .or_default() += 1;
        }
        let seconds = elapsed.as_secs_f64();
        let bucket = BUCKETS
            .iter()
            .position(|b| seconds <= *b)
            .unwrap_or(BUCKETS.len());
        self.durations[bucket].fetch_add(1, Ordering::Relaxed);
        self.duration_micros.fetch_add(
            u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    /// The counters in the Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP regulars_facts_ingested_total Facts received, by kind and outcome.\n");
        out.push_str("# TYPE regulars_facts_ingested_total counter\n");
        for (kind, counts) in FactKind::IMPORT_ORDER.iter().zip(&self.ingested) {
            for (outcome, count) in ["created", "updated", "duplicate", "rejected"]
                .iter()
                .zip(counts)
            {
                let _ = writeln!(
                    out,
                    "regulars_facts_ingested_total{{kind=\"{}\",outcome=\"{outcome}\"}} {}",
                    kind.as_str(),
                    count.load(Ordering::Relaxed)
                );
            }
        }
        out.push_str(
            "# HELP regulars_http_requests_total HTTP requests, by method, route and status.\n",
        );
        out.push_str("# TYPE regulars_http_requests_total counter\n");
        if let Ok(requests) = self.requests.lock() {
            for ((method, route, status), count) in requests.iter() {
                let _ = writeln!(
                    out,
                    "regulars_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {count}"
                );
            }
        }
        out.push_str("# HELP regulars_http_request_duration_seconds HTTP request durations.\n");
        out.push_str("# TYPE regulars_http_request_duration_seconds histogram\n");
        let mut cumulative = 0;
        for (idx, bound) in BUCKETS.iter().enumerate() {
            cumulative += self.durations[idx].load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "regulars_http_request_duration_seconds_bucket{{le=\"{bound}\"}} {cumulative}"
            );
        }
        cumulative += self.durations[BUCKETS.len()].load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "regulars_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {cumulative}"
        );
        let _ = writeln!(
            out,
            "regulars_http_request_duration_seconds_sum {}",
            self.duration_micros.load(Ordering::Relaxed) as f64 / 1e6
        );
        let _ = writeln!(
            out,
            "regulars_http_request_duration_seconds_count {cumulative}"
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_render_in_the_prometheus_text_format() {
        let metrics = Metrics::default();
        metrics.record_ingest(FactKind::Orders, [3, 1, 2, 1]);
        metrics.record_request("POST", "/api/v1/orders", 201, Duration::from_millis(3));
        let text = metrics.render();
        assert!(
            text.contains("regulars_facts_ingested_total{kind=\"orders\",outcome=\"created\"} 3")
        );
        assert!(text.contains("regulars_http_requests_total{method=\"POST\",route=\"/api/v1/orders\",status=\"201\"} 1"));
        assert!(text.contains("regulars_http_request_duration_seconds_bucket{le=\"0.005\"} 1"));
        assert!(text.contains("regulars_http_request_duration_seconds_count 1"));
    }
}
