//! A streaming reverse proxy: bodies are never buffered, so server-sent events pass through.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::TryStreamExt;
use platform::ApiError;

use crate::config::GatewayConfig;

#[derive(Clone)]
pub struct Proxy {
    client: reqwest::Client,
    /// `(path prefix, upstream base URL)`, matched in order.
    routes: Arc<Vec<(&'static str, String)>>,
}

impl Proxy {
    pub fn new(config: &GatewayConfig) -> Self {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(2))
            .pool_max_idle_per_host(64)
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

pub async fn forward(State(proxy): State<Proxy>, req: Request) -> Response {
    let path = req.uri().path();
    let Some(base) = proxy.upstream(path) else {
        return ApiError::not_found("No such API route.").into_response();
    };
    let target = format!(
        "{base}{}",
        req.uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or(path)
    );
    let (parts, body) = req.into_parts();
    let mut headers = parts.headers;
    strip_hop_by_hop(&mut headers);
    headers.remove(header::HOST);
    // With spans exported, the service's span is a child of this one (else the caller's
    // `traceparent`, if any, passes through unchanged).
    if let Some(tp) = platform::trace::current().and_then(|tp| tp.parse().ok()) {
        headers.insert("traceparent", tp);
    }
    if let Some(host) = parts.uri.host() {
        headers.insert(
            "x-forwarded-host",
            host.parse().expect("a host is a valid header"),
        );
    }
    let upstream = proxy
        .client
        .request(parts.method, &target)
        .headers(headers)
        .body(reqwest::Body::wrap_stream(body.into_data_stream()))
        .send()
        .await;
    let res = match upstream {
        Ok(res) => res,
        Err(e) => {
            tracing::warn!(error = %e, %target, "upstream unreachable");
            return ApiError::new(
                StatusCode::BAD_GATEWAY,
                "upstream_unavailable",
                "This part of the site is not answering right now. Please try again shortly.",
            )
            .into_response();
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
