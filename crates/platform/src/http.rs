//! HTTP scaffolding shared by every service: the middleware stack (request id, one span per
//! request, cross-site request refusal, body limit), the JSON fallbacks and a server with
//! graceful shutdown that a slow or greedy client cannot exhaust ([`ServerLimits`]).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, DefaultBodyLimit, MatchedPath, Request};
use axum::http::{HeaderName, Response};
use axum::middleware::Next;
use axum::response::IntoResponse;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tower::ServiceExt;
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
        .layer(axum::middleware::from_fn(crate::csrf::guard))
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

/// What a slow or greedy client may take from a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    /// `HTTP_HEADER_TIMEOUT_SECS`, default 10: a connection must deliver a request's complete
    /// head within this long of opening or of its previous answer, so it is also the idle
    /// keep-alive timeout (hyper starts the clock when it waits for the next head).
    pub header_timeout: Duration,
    /// `HTTP_REQUEST_TIMEOUT_SECS`, default 30: reading the body and preparing the answer (up to
    /// the response head; a streamed answer such as server-sent events is not bounded).
    pub request_timeout: Duration,
    /// `HTTP_MAX_CONNECTIONS`, default 1024: connections served at once; further ones wait in
    /// the listen backlog until one closes.
    pub max_connections: usize,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_connections: 1024,
        }
    }
}

impl ServerLimits {
    pub fn from_env() -> Result<Self, crate::config::ConfigError> {
        let d = Self::default();
        Ok(Self {
            header_timeout: crate::config::secs_or("HTTP_HEADER_TIMEOUT_SECS", d.header_timeout)?,
            request_timeout: crate::config::secs_or(
                "HTTP_REQUEST_TIMEOUT_SECS",
                d.request_timeout,
            )?,
            max_connections: crate::config::parse_or("HTTP_MAX_CONNECTIONS", d.max_connections)?
                .max(1),
        })
    }
}

/// How long the platform's HTTP clients keep an idle connection: well under the servers'
/// [`ServerLimits::header_timeout`], so a client never reuses a connection the server is closing.
pub const CLIENT_POOL_IDLE: Duration = Duration::from_secs(4);

/// How long shutdown waits for open connections (a server-sent event stream never ends by itself).
const DRAIN: Duration = Duration::from_secs(10);

/// Serves until `shutdown` resolves, then lets in-flight requests finish, with the limits of the
/// environment ([`ServerLimits::from_env`]).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = ServerLimits::from_env()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    serve_with_limits(listener, router, shutdown, limits).await
}

/// Bounds reading the body and preparing the answer: 408 `request_timeout` after the limit.
async fn request_deadline(
    axum::extract::State(limit): axum::extract::State<Duration>,
    req: Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(res) => res,
        Err(_) => {
            let mut res = crate::ApiError::new(
                axum::http::StatusCode::REQUEST_TIMEOUT,
                "request_timeout",
                "The request took too long to arrive or to answer.",
            )
            .into_response();
            // The body may be half read: this connection cannot carry another request.
            res.headers_mut().insert(
                axum::http::header::CONNECTION,
                axum::http::HeaderValue::from_static("close"),
            );
            res
        }
    }
}

/// [`serve`] with explicit limits: an HTTP/1.1 server whose every connection has a head (and
/// idle) timeout, whose every request has a deadline, and that holds at most
/// `max_connections` at once.
pub async fn serve_with_limits(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    limits: ServerLimits,
) -> std::io::Result<()> {
    let router = router.layer(axum::middleware::from_fn_with_state(
        limits.request_timeout,
        request_deadline,
    ));
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let (closing, closing_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            _ = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(router.clone().map_request(
            move |mut req: axum::http::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                req
            },
        ));
        let mut closing = closing_rx.clone();
        connections.spawn(async move {
            let _permit = permit;
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_timeout)
                .serve_connection(TokioIo::new(stream), service);
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(e) = result {
                        tracing::debug!(error = %e, %peer, "connection ended with an error");
                    }
                }
                _ = async { drop(closing.wait_for(|closing| *closing).await) } => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
        });
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    let _ = closing.send(true);
    let drained = tokio::time::timeout(DRAIN, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            open = connections.len(),
            "connections still open after the drain time, closing them"
        );
        connections.shutdown().await;
    }
    Ok(())
}
