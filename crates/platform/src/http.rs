//! HTTP scaffolding shared by every service: the middleware stack (request id, one span per
//! request, body limit), the JSON fallbacks and a server with graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{HeaderName, Response};
use axum::middleware::Next;
use tokio::net::TcpListener;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use tracing::{Span, field};

use crate::error::{method_not_allowed_fallback, not_found_fallback};
use crate::health::{self, Readiness};

/// Largest JSON body any route accepts.
pub const BODY_LIMIT: usize = 64 * 1024;

pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Wraps a service's routes with health checks, JSON fallbacks and the common middleware.
pub fn finish(routes: Router, readiness: Readiness) -> Router {
    let service = readiness.service();
    routes
        .merge(health::router(readiness))
        .fallback(not_found_fallback)
        .method_not_allowed_fallback(method_not_allowed_fallback)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn(
            move |req: Request, next: Next| count_request(service, req, next),
        ))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(move |req: &Request| make_span(service, req))
                .on_request(())
                .on_response(on_response)
                .on_failure(()),
        )
        // Outermost: the id exists before the span is made and is echoed on the response.
        .layer(PropagateRequestIdLayer::new(REQUEST_ID.clone()))
        .layer(SetRequestIdLayer::new(REQUEST_ID.clone(), MakeRequestUuid))
}

/// Counts the request and times it by route template (an unmatched path is one label, so probes
/// for random paths cannot grow the metrics without bound).
async fn count_request(service: &'static str, req: Request, next: Next) -> Response<Body> {
    let started = Instant::now();
    let method = req.method().clone();
    let route = req.extensions().get::<MatchedPath>().cloned();
    let res = next.run(req).await;
    let route = route.as_ref().map_or("<unmatched>", MatchedPath::as_str);
    crate::metrics::record_request(service, &method, route, res.status(), started);
    res
}

fn make_span(service: &'static str, req: &Request) -> Span {
    let path = req
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str)
        .unwrap_or("<unmatched>");
    let request_id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let span = tracing::info_span!(
        "request",
        service,
        method = %req.method(),
        path,
        request_id,
        status = field::Empty,
        latency_ms = field::Empty,
    );
    crate::trace::follow(&span, crate::trace::header(req.headers()));
    span
}

fn on_response<B>(res: &Response<B>, latency: Duration, span: &Span) {
    span.record("status", res.status().as_u16());
    span.record("latency_ms", latency.as_secs_f64() * 1000.0);
    if res.status().is_server_error() {
        tracing::warn!("request failed");
    } else {
        tracing::info!("request finished");
    }
}

/// Binds `addr`, with a clear message when the port is taken.
pub async fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::AddrInUse {
            anyhow::anyhow!(
                "port {} is already in use (is the stack already running?)",
                addr.port()
            )
        } else {
            anyhow::anyhow!("cannot listen on {addr}: {e}")
        }
    })
}

/// The life of a service process: listens on `addr`, serves `router` until Ctrl-C or SIGTERM
/// (finishing in-flight requests), then stops the service's background work.
pub async fn run_until_shutdown(
    addr: SocketAddr,
    service: &str,
    router: Router,
    background: crate::background::Background,
) -> anyhow::Result<()> {
    let listener = bind(addr).await?;
    tracing::info!(%addr, "{service} listening");
    serve(listener, router, crate::shutdown::signal()).await?;
    background.stop().await;
    Ok(())
}

/// Serves until `shutdown` resolves, then lets in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
