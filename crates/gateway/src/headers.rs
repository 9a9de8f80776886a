//! Security headers on every answer of the gateway (the app's pages and files, and the API).

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// Scripts only from this origin, plus compiling the app's WebAssembly; no inline script (the
/// bundle's start-up script is the file `boot.js`), no plugins, no framing. `img-src data:` is
/// the page's empty favicon; the QR codes and charts are inline SVG elements, not images.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; \
     script-src 'self' 'wasm-unsafe-eval'; \
     style-src 'self'; \
     img-src 'self' data:; \
     connect-src 'self'; \
     font-src 'self'; \
     object-src 'none'; \
     base-uri 'none'; \
     form-action 'self'; \
     frame-ancestors 'none'";

const STATIC: [(HeaderName, &str); 4] = [
    (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    // For browsers that predate `frame-ancestors`.
    (header::X_FRAME_OPTIONS, "DENY"),
    // Order and event ids in our URLs are nobody else's business.
    (header::REFERRER_POLICY, "same-origin"),
];

pub async fn secure(req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let mut res = next.run(req).await;
    let headers = res.headers_mut();
    for (name, value) in &STATIC {
        headers.insert(name, HeaderValue::from_static(value));
    }
    // API answers are personal (accounts, orders, payments, ...) unless the service that gives
    // one says how it may be cached: no browser or shared cache keeps them.
    if api && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}
