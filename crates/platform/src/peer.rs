//! Asking another service of the platform over HTTP on behalf of the caller: one connection pool
//! per peer, every request bounded (connecting included) so a slow peer never hangs a request,
//! and the caller's session cookie forwarded so the peer applies its own rules of who may see
//! what.

use std::time::Duration;

use reqwest::RequestBuilder;
use reqwest::header::COOKIE;

/// Another service at a base URL; cheap to clone.
#[derive(Clone)]
pub struct PeerClient {
    http: reqwest::Client,
    base: String,
}

impl PeerClient {
    /// `timeout` bounds every request, connecting included.
    pub fn new(base_url: &str, timeout: Duration) -> Self {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .pool_idle_timeout(crate::http::CLIENT_POOL_IDLE)
            .build()
            .expect("a client without TLS always builds");
        Self {
            http,
            base: base_url.trim_end_matches('/').to_string(),
        }
    }

    /// `GET <base><path>` as the caller whose `Cookie` header is `cookie` (anonymous without).
    pub fn get_as(&self, path: &str, cookie: Option<&str>) -> RequestBuilder {
        let request = self.http.get(format!("{}{path}", self.base));
        match cookie {
            Some(cookie) => request.header(COOKIE, cookie),
            None => request,
        }
    }
}
