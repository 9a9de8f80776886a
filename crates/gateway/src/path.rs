//! The path a request is routed by. The upstream URL is parsed by the `url` crate, which resolves
//! `.` and `..` segments (also percent-encoded, and `\` counts as `/`): a path that escapes its
//! prefix after the gateway chose the service could reach another route (`/api/auth/../../ready`).
//! So the gateway refuses such paths outright, before routing, and routes the same path it
//! forwards.

use axum::extract::Request;
use axum::http::Uri;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use platform::ApiError;

/// The middleware in front of the gateway's router: 400 `invalid_path` or the normalised path.
pub async fn normalise_request(mut req: Request, next: Next) -> Response {
    let refused = || {
        ApiError::bad_request(
            "invalid_path",
            "The path may not contain `.` or `..` segments or backslashes.",
        )
        .into_response()
    };
    let Some(path) = normalise(req.uri().path()) else {
        return refused();
    };
    if path != req.uri().path() {
        let path_and_query = match req.uri().query() {
            Some(query) => format!("{path}?{query}"),
            None => path,
        };
        let mut parts = req.uri().clone().into_parts();
        parts.path_and_query = match path_and_query.parse() {
            Ok(pq) => Some(pq),
            Err(_) => return refused(),
        };
        match Uri::from_parts(parts) {
            Ok(uri) => *req.uri_mut() = uri,
            Err(_) => return refused(),
        }
    }
    next.run(req).await
}

/// The path with repeated slashes collapsed, or `None` when a segment is `.` or `..` (in any
/// spelling) or the path holds a backslash.
pub fn normalise(path: &str) -> Option<String> {
    let lower = path.to_ascii_lowercase();
    if lower.contains('\\') || lower.contains("%5c") {
        return None;
    }
    let mut out = String::with_capacity(path.len());
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        if is_dot_segment(segment) {
            return None;
        }
        out.push('/');
        out.push_str(segment);
    }
    if out.is_empty() || path.ends_with('/') {
        out.push('/');
    }
    Some(out)
}

fn is_dot_segment(segment: &str) -> bool {
    let decoded = segment.to_ascii_lowercase().replace("%2e", ".");
    decoded == "." || decoded == ".."
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_paths_are_kept_and_repeated_slashes_collapsed() {
        assert_eq!(normalise("/api/auth/me").as_deref(), Some("/api/auth/me"));
        assert_eq!(
            normalise("//api///events/").as_deref(),
            Some("/api/events/")
        );
        assert_eq!(
            normalise("/api/events/a.b..c").as_deref(),
            Some("/api/events/a.b..c")
        );
    }

    #[test]
    fn dot_segments_in_any_spelling_and_backslashes_are_refused() {
        for bad in [
            "/api/auth/../../ready",
            "/api/auth/./me",
            "/api/auth/%2e%2e/%2E%2E/ready",
            "/api/auth/.%2e/ready",
            "/api/auth/..",
            "/api/auth/..\\ready",
            "/api/auth/%5c..%5cready",
        ] {
            assert_eq!(normalise(bad), None, "{bad}");
        }
    }
}
