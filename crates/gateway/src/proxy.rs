//! A streaming reverse proxy: bodies are never buffered, so server-sent events pass through.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::TryStreamExt;
use platform::ApiError;
use platform::client_address::X_FORWARDED_FOR;
use platform::csrf::X_FORWARDED_HOST;

use crate::config::GatewayConfig;

#[derive(Clone)]
pub struct Proxy {
    client: reqwest::Client,
    /// `(path prefix, upstream base URL)`, matched in order.
    routes: Arc<Vec<(&'static str, String)>>,
    timeout: Duration,
}

impl Proxy {
    pub fn new(config: &GatewayConfig) -> Self {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(2))
            .pool_max_idle_per_host(64)
            .pool_idle_timeout(platform::http::CLIENT_POOL_IDLE)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("a client without TLS always builds");
        let routes = vec![
            ("/api/auth/", config.auth_url.clone()),
            ("/api/events", config.event_url.clone()),
            ("/api/tickets/", config.ticket_url.clone()),
            ("/api/payment/", config.payment_url.clone()),
            ("/api/notifications/", config.notification_url.clone()),
        ];
        Self {
            client,
            routes: Arc::new(routes),
            timeout: config.upstream_timeout,
        }
    }

    fn upstream(&self, path: &str) -> Option<&str> {
        self.routes.iter().find_map(|(prefix, url)| {
            let rest = path.strip_prefix(prefix.trim_end_matches('/'))?;
            // `/api/events` must not capture `/api/eventsfoo`.
            (rest.is_empty() || rest.starts_with('/')).then_some(url.as_str())
        })
    }
}

/// Headers that describe one connection, not the message (RFC 9110 section 7.6.1).
const HOP_BY_HOP: [HeaderName; 7] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
];

fn strip_hop_by_hop(headers: &mut HeaderMap) {
    for h in &HOP_BY_HOP {
        headers.remove(h);
    }
}

/// Appends the peer the gateway accepted to `X-Forwarded-For`: the services count sign-in
/// attempts per client address (`platform::client_address`), not per gateway.
fn append_forwarded_for(headers: &mut HeaderMap, extensions: &axum::http::Extensions) {
    let Some(ConnectInfo(peer)) = extensions.get::<ConnectInfo<SocketAddr>>() else {
        return;
    };
    let chain = match headers.get(&X_FORWARDED_FOR).and_then(|v| v.to_str().ok()) {
        Some(earlier) => format!("{earlier}, {}", peer.ip()),
        None => peer.ip().to_string(),
    };
    if let Ok(value) = HeaderValue::from_str(&chain) {
        headers.insert(&X_FORWARDED_FOR, value);
    }
}

/// An answer of the gateway's own about the upstream. The request body may be unread, so the
/// connection cannot carry another request: say so, or the client's next request on it fails.
fn gateway_error(status: StatusCode, code: &'static str, message: &str) -> Response {
    let mut res = ApiError::new(status, code, message).into_response();
    res.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    res
}

pub async fn forward(State(proxy): State<Proxy>, req: Request) -> Response {
    // Already normalised, `..` refused (crate::path, in front of the router).
    let path = req.uri().path();
    let Some(base) = proxy.upstream(path) else {
        return ApiError::not_found("No such API route.").into_response();
    };
    let target = match req.uri().query() {
        Some(query) => format!("{base}{path}?{query}"),
        None => format!("{base}{path}"),
    };
    let (parts, body) = req.into_parts();
    let mut headers = parts.headers;
    strip_hop_by_hop(&mut headers);
    append_forwarded_for(&mut headers, &parts.extensions);
    // With spans exported, the service's span is a child of this one (else the caller's
    // `traceparent`, if any, passes through unchanged).
    if let Some(tp) = platform::trace::current().and_then(|tp| tp.parse().ok()) {
        headers.insert("traceparent", tp);
    }
    // The host the browser used: the services compare it with `Origin` (platform::csrf).
    let host = headers.remove(header::HOST).or_else(|| {
        parts
            .uri
            .authority()
            .and_then(|a| HeaderValue::from_str(a.as_str()).ok())
    });
    match host {
        Some(host) => headers.insert(&X_FORWARDED_HOST, host),
        None => headers.remove(&X_FORWARDED_HOST),
    };
    let upstream = proxy
        .client
        .request(parts.method, &target)
        .headers(headers)
        .body(reqwest::Body::wrap_stream(body.into_data_stream()))
        .send();
    // Bounds the wait for the answer's head only: a server-sent event stream may then last.
    let res = match tokio::time::timeout(proxy.timeout, upstream).await {
        Ok(Ok(res)) => res,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, %target, "upstream unreachable");
            return gateway_error(
                StatusCode::BAD_GATEWAY,
                "upstream_unavailable",
                "This part of the site is not answering right now. Please try again shortly.",
            );
        }
        Err(_) => {
            tracing::warn!(%target, timeout = ?proxy.timeout, "upstream timed out");
            return gateway_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "upstream_timeout",
                "This part of the site is too slow to answer right now. Please try again shortly.",
            );
        }
    };
    let status = res.status();
    let mut headers = res.headers().clone();
    strip_hop_by_hop(&mut headers);
    let stream = res.bytes_stream().map_err(std::io::Error::other);
    let mut response = Response::new(Body::from_stream(stream));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxy() -> Proxy {
        Proxy::new(&GatewayConfig {
            http: platform::config::HttpConfig {
                addr: "127.0.0.1:0".parse().unwrap(),
            },
            auth_url: "http://auth".into(),
            event_url: "http://event".into(),
            ticket_url: "http://ticket".into(),
            payment_url: "http://payment".into(),
            notification_url: "http://notification".into(),
            web_dist: "nowhere".into(),
            upstream_timeout: Duration::from_secs(1),
        })
    }

    #[test]
    fn api_paths_go_to_the_service_that_owns_them() {
        let p = proxy();
        assert_eq!(p.upstream("/api/auth/login"), Some("http://auth"));
        assert_eq!(p.upstream("/api/events"), Some("http://event"));
        assert_eq!(p.upstream("/api/events/my/events"), Some("http://event"));
        assert_eq!(p.upstream("/api/tickets/book"), Some("http://ticket"));
        assert_eq!(p.upstream("/api/payment/process"), Some("http://payment"));
        assert_eq!(
            p.upstream("/api/notifications/mine"),
            Some("http://notification")
        );
        assert_eq!(p.upstream("/api/eventsx"), None);
        assert_eq!(p.upstream("/api/other"), None);
    }
}
