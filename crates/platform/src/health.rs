//! `GET /health` (the process is alive), `GET /ready` (its dependencies answer) and
//! `GET /metrics` (Prometheus, see [`crate::metrics`]).

use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use futures::future::BoxFuture;
use serde_json::json;

type CheckFn = Arc<dyn Fn() -> BoxFuture<'static, Result<(), String>> + Send + Sync>;

/// The named dependency checks behind `/ready`.
#[derive(Clone)]
pub struct Readiness {
    service: &'static str,
    checks: Vec<(&'static str, CheckFn)>,
}

impl Readiness {
    pub fn new(service: &'static str) -> Self {
        Self {
            service,
            checks: Vec::new(),
        }
    }

    /// The service's name, as `/health` answers it and metrics label it.
    pub fn service(&self) -> &'static str {
        self.service
    }

    /// Adds a check; it should answer quickly (each is bounded by a timeout anyway).
    pub fn check<F, Fut>(mut self, name: &'static str, f: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<(), String>> + Send + 'static,
    {
        self.checks.push((name, Arc::new(move || Box::pin(f()))));
        self
    }

    /// The service's own database answers.
    pub fn store<F, Fut>(self, ping: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<(), crate::StoreError>> + Send + 'static,
    {
        self.check("store", move || {
            let ping = ping();
            async move { ping.await.map_err(|e| e.to_string()) }
        })
    }

    /// [`Self::store`] for a store behind an `Arc`: `ping` names its check, e.g. `|s| s.ping()`.
    pub fn store_of<T>(
        self,
        store: Arc<T>,
        ping: for<'a> fn(&'a T) -> BoxFuture<'a, Result<(), crate::StoreError>>,
    ) -> Self
    where
        T: ?Sized + Send + Sync + 'static,
    {
        self.store(move || {
            let store = store.clone();
            async move { ping(&store).await }
        })
    }

    /// The connection to NATS is up.
    pub fn nats(self, client: async_nats::Client) -> Self {
        self.check("nats", move || {
            let state = crate::nats::is_connected(&client);
            async move { state }
        })
    }
}

pub fn router(readiness: Readiness) -> Router {
    let service = readiness.service;
    Router::new()
        .route(
            "/health",
            get(move || async move { Json(json!({"status": "ok", "service": service})) }),
        )
        .route("/ready", get(move || ready(readiness.clone())))
        .route("/metrics", get(crate::metrics::render))
}

async fn ready(readiness: Readiness) -> impl IntoResponse {
    let mut all_ok = true;
    let mut checks = serde_json::Map::new();
    for (name, check) in &readiness.checks {
        let result = tokio::time::timeout(std::time::Duration::from_secs(2), check()).await;
        let value = match result {
            Ok(Ok(())) => json!({"status": "ok"}),
            Ok(Err(e)) => {
                all_ok = false;
                json!({"status": "down", "error": e})
            }
            Err(_) => {
                all_ok = false;
                json!({"status": "down", "error": "timed out"})
            }
        };
        checks.insert((*name).to_string(), value);
    }
    let status = if all_ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "status": if all_ok { "ready" } else { "not_ready" },
        "service": readiness.service,
        "checks": checks,
    });
    (status, Json(body))
}
