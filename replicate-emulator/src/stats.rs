//! Counters for `GET /_emulator/stats`: requests per route, predictions, webhook deliveries.

use std::collections::BTreeMap;
use std::collections::HashMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::Method;
use serde::Serialize;

const METHODS: [&str; 7] = ["GET", "POST", "PATCH", "DELETE", "PUT", "QUERY", "OTHER"];

fn method_index(m: &Method) -> usize {
    match *m {
        Method::GET => 0,
        Method::POST => 1,
        Method::PATCH => 2,
        Method::DELETE => 3,
        Method::PUT => 4,
        _ if m.as_str() == "QUERY" => 5,
        _ => 6,
    }
}

/// Live counters (lock-free on the hot path except a read lock on the route table).
#[derive(Default)]
pub(crate) struct Stats {
    /// All requests.
    pub requests: AtomicU64,
    /// Predictions created.
    pub predictions_created: AtomicU64,
    /// Trainings created.
    pub trainings_created: AtomicU64,
    /// Webhook POSTs attempted.
    pub webhook_attempted: AtomicU64,
    /// Webhook POSTs answered 2xx.
    pub webhook_acknowledged: AtomicU64,
    /// Webhook POSTs that failed.
    pub webhook_failed: AtomicU64,
    /// Requests answered 429 by the rate limiter.
    pub rate_limited: AtomicU64,
    /// Faults injected.
    pub faults_injected: AtomicU64,
    routes: RwLock<HashMap<Box<str>, [AtomicU64; 7]>>,
}

/// A snapshot, as served.
#[derive(Serialize, Debug)]
pub struct Snapshot {
    /// All requests.
    pub requests: u64,
    /// Predictions created.
    pub predictions_created: u64,
    /// Trainings created.
    pub trainings_created: u64,
    /// Counts by `METHOD /route/template`.
    pub routes: BTreeMap<String, u64>,
    /// Webhook deliveries attempted/acknowledged/failed.
    pub webhooks: WebhookCounts,
    /// Rate-limited requests.
    pub rate_limited: u64,
    /// Injected faults.
    pub faults_injected: u64,
}

/// Webhook delivery counts.
#[derive(Serialize, Debug)]
pub struct WebhookCounts {
    /// POSTs attempted.
    pub attempted: u64,
    /// Answered 2xx.
    pub acknowledged: u64,
    /// Failed (non-2xx or connection error).
    pub failed: u64,
}

impl Stats {
    /// Counts one request on a route template.
    pub(crate) fn hit(&self, method: &Method, route: &str) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let i = method_index(method);
        if let Ok(r) = self.routes.read()
            && let Some(c) = r.get(route)
        {
            c[i].fetch_add(1, Ordering::Relaxed);
            return;
        }
        if let Ok(mut w) = self.routes.write() {
            w.entry(route.into()).or_default()[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A snapshot.
    pub(crate) fn snapshot(&self) -> Snapshot {
        let mut routes = BTreeMap::new();
        if let Ok(r) = self.routes.read() {
            for (path, counts) in r.iter() {
                for (i, c) in counts.iter().enumerate() {
                    let n = c.load(Ordering::Relaxed);
                    if n > 0 {
                        routes.insert(format!("{} {}", METHODS[i], path), n);
                    }
                }
            }
        }
        let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Snapshot {
            requests: l(&self.requests),
            predictions_created: l(&self.predictions_created),
            trainings_created: l(&self.trainings_created),
            routes,
            webhooks: WebhookCounts {
                attempted: l(&self.webhook_attempted),
                acknowledged: l(&self.webhook_acknowledged),
                failed: l(&self.webhook_failed),
            },
            rate_limited: l(&self.rate_limited),
            faults_injected: l(&self.faults_injected),
        }
    }
}
