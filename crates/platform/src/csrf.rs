//! Cross-site request forgery defence for every service: a state-changing request must come from
//! the site itself. SameSite=Lax cookies alone let a foreign page's form post through when the
//! browser is lenient, and body-less POSTs need no JSON at all.
//!
//! The rule, for every method but GET, HEAD, OPTIONS and TRACE:
//! 1. `Sec-Fetch-Site` (sent by every current browser) decides when present: `same-origin` and
//!    `none` (typed by the user) pass, `same-site` and `cross-site` are refused.
//! 2. Else `Origin` decides when present: it must name the host the request was sent to
//!    (`X-Forwarded-Host` behind the gateway, else `Host`).
//! 3. Else the request is not from a current browser (service to service, curl): it passes
//!    unless its content type is one an HTML form can send (`application/x-www-form-urlencoded`,
//!    `multipart/form-data`, `text/plain`), so an old browser's form post is still refused.
//!
//! A JSON body from another origin needs a CORS preflight, which no service grants.

use axum::extract::Request;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

pub static SEC_FETCH_SITE: header::HeaderName = header::HeaderName::from_static("sec-fetch-site");
pub static X_FORWARDED_HOST: header::HeaderName =
    header::HeaderName::from_static("x-forwarded-host");

/// Whether a request may go ahead (see the module docs).
pub fn allowed(method: &Method, headers: &HeaderMap) -> bool {
    if matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    ) {
        return true;
    }
    let text = |name: &header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = text(&SEC_FETCH_SITE) {
        return matches!(site.trim(), "same-origin" | "none");
    }
    if let Some(origin) = text(&header::ORIGIN) {
        let target = text(&X_FORWARDED_HOST).or_else(|| text(&header::HOST));
        return match (origin_host(origin), target) {
            (Some(origin), Some(target)) => origin.eq_ignore_ascii_case(target.trim()),
            _ => false,
        };
    }
    !text(&header::CONTENT_TYPE).is_some_and(is_form_content_type)
}

/// `host[:port]` of an `Origin` value; `None` for `null` and anything unparsable.
fn origin_host(origin: &str) -> Option<&str> {
    let (scheme, rest) = origin.trim().split_once("://")?;
    let host = rest.trim_end_matches('/');
    (matches!(scheme, "http" | "https") && !host.is_empty() && !host.contains('/')).then_some(host)
}

fn is_form_content_type(value: &str) -> bool {
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    matches!(
        essence.as_str(),
        "application/x-www-form-urlencoded" | "multipart/form-data" | "text/plain"
    )
}

/// The middleware: refused requests get 403 `cross_site_request` before any handler runs.
pub async fn guard(req: Request, next: Next) -> Response {
    if allowed(req.method(), req.headers()) {
        return next.run(req).await;
    }
    ApiError::new(
        StatusCode::FORBIDDEN,
        "cross_site_request",
        "This request came from another site and was refused.",
    )
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    #[test]
    fn reads_pass_whatever_their_origin() {
        let h = headers(&[
            ("origin", "https://evil.example"),
            ("sec-fetch-site", "cross-site"),
        ]);
        assert!(allowed(&Method::GET, &h));
        assert!(allowed(&Method::HEAD, &h));
    }

    #[test]
    fn the_browser_s_sec_fetch_site_decides_first() {
        for (site, ok) in [
            ("same-origin", true),
            ("none", true),
            ("same-site", false),
            ("cross-site", false),
        ] {
            let h = headers(&[
                ("sec-fetch-site", site),
                ("content-type", "application/json"),
                ("host", "shop.example"),
                ("origin", "http://shop.example"),
            ]);
            assert_eq!(allowed(&Method::POST, &h), ok, "{site}");
        }
    }

    #[test]
    fn without_sec_fetch_site_the_origin_must_be_the_host_the_request_went_to() {
        let same = headers(&[
            ("host", "localhost:3000"),
            ("origin", "http://localhost:3000"),
        ]);
        assert!(allowed(&Method::POST, &same));
        let foreign = headers(&[
            ("host", "localhost:3000"),
            ("origin", "http://evil.example"),
        ]);
        assert!(!allowed(&Method::POST, &foreign));
        let null = headers(&[("host", "localhost:3000"), ("origin", "null")]);
        assert!(!allowed(&Method::DELETE, &null));
        // Behind the gateway the service compares with the host the browser used.
        let proxied = headers(&[
            ("host", "127.0.0.1:3003"),
            ("x-forwarded-host", "localhost:3000"),
            ("origin", "http://localhost:3000"),
        ]);
        assert!(allowed(&Method::POST, &proxied));
    }

    #[test]
    fn without_browser_headers_only_form_content_types_are_refused() {
        assert!(allowed(&Method::POST, &headers(&[])));
        assert!(allowed(
            &Method::POST,
            &headers(&[("content-type", "application/json")])
        ));
        for form in [
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "Text/Plain;charset=UTF-8",
        ] {
            assert!(
                !allowed(&Method::POST, &headers(&[("content-type", form)])),
                "{form}"
            );
        }
    }
}
