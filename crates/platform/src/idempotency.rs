//! `Idempotency-Key`, with one set of rules for every service: 1 to 255 visible ASCII characters
//! once surrounding whitespace is trimmed, no spaces inside. Handlers take
//! `Option<IdempotencyKey>`: absent is `None`, malformed is answered 400
//! `invalid_idempotency_key` before the handler runs. What a key means (the stored first answer,
//! the claim while it runs) stays with each service.

use axum::extract::OptionalFromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

pub const HEADER: &str = "idempotency-key";
/// Set to `true` on an answer replayed from an earlier request with the same key, as Stripe does.
pub const REPLAYED_HEADER: &str = "idempotent-replayed";

/// The longest key accepted.
pub const MAX_LEN: usize = 255;

/// A well-formed key as the client sent it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

/// Why a key was refused; the message is the one the client reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidIdempotencyKey {
    #[error("The Idempotency-Key must be 1 to 255 characters.")]
    Length,
    #[error("The Idempotency-Key must be visible ASCII characters.")]
    NotVisibleAscii,
}

impl IdempotencyKey {
    /// Applies the rules to a header value.
    pub fn parse(value: &HeaderValue) -> Result<Self, InvalidIdempotencyKey> {
        let key = value
            .to_str()
            .map_err(|_| InvalidIdempotencyKey::NotVisibleAscii)?
            .trim();
        if key.is_empty() || key.len() > MAX_LEN {
            return Err(InvalidIdempotencyKey::Length);
        }
        if !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(InvalidIdempotencyKey::NotVisibleAscii);
        }
        Ok(Self(key.to_string()))
    }

    /// The key of a request, `Ok(None)` when it sent none.
    pub fn from_headers(headers: &HeaderMap) -> Result<Option<Self>, InvalidIdempotencyKey> {
        headers.get(HEADER).map(Self::parse).transpose()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl From<InvalidIdempotencyKey> for ApiError {
    fn from(e: InvalidIdempotencyKey) -> Self {
        ApiError::bad_request("invalid_idempotency_key", e.to_string())
    }
}

impl IntoResponse for InvalidIdempotencyKey {
    fn into_response(self) -> Response {
        ApiError::from(self).into_response()
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, ApiError> {
        Ok(Self::from_headers(&parts.headers)?)
    }
}

/// A JSON answer kept under a key, sent as it was stored; `replayed` marks a repeat with
/// [`REPLAYED_HEADER`].
pub fn stored_json(status: StatusCode, body: String, replayed: bool) -> Response {
    let mut res = (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response();
    if replayed {
        res.headers_mut()
            .insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    }
    res
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::http::Request;
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(HEADER, value.parse().unwrap());
        h
    }

    fn key(value: &str) -> Result<Option<String>, InvalidIdempotencyKey> {
        IdempotencyKey::from_headers(&headers(value)).map(|k| k.map(IdempotencyKey::into_string))
    }

    #[test]
    fn a_key_is_one_to_255_visible_ascii_characters_after_trimming() {
        assert_eq!(IdempotencyKey::from_headers(&HeaderMap::new()), Ok(None));
        assert_eq!(key(" abc-123 "), Ok(Some("abc-123".into())));
        assert_eq!(key(&"k".repeat(255)).unwrap().unwrap().len(), 255);
        assert_eq!(key(&"k".repeat(256)), Err(InvalidIdempotencyKey::Length));
        assert_eq!(key("  "), Err(InvalidIdempotencyKey::Length));
        assert_eq!(key("a b"), Err(InvalidIdempotencyKey::NotVisibleAscii));
        let latin1 = HeaderValue::from_bytes(b"caf\xe9").unwrap();
        assert_eq!(
            IdempotencyKey::parse(&latin1),
            Err(InvalidIdempotencyKey::NotVisibleAscii)
        );
    }

    #[test]
    fn a_refused_key_is_a_400_with_its_own_code() {
        let e = ApiError::from(InvalidIdempotencyKey::Length);
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert_eq!(e.code, "invalid_idempotency_key");
        assert_eq!(
            e.message,
            "The Idempotency-Key must be 1 to 255 characters."
        );
    }

    async fn call(key: Option<&str>) -> (StatusCode, String) {
        let app = Router::new().route(
            "/",
            get(|key: Option<IdempotencyKey>| async move {
                key.map_or("none".to_string(), IdempotencyKey::into_string)
            }),
        );
        let mut req = Request::builder().uri("/");
        if let Some(k) = key {
            req = req.header(HEADER, k);
        }
        let res = app.oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
        let status = res.status();
        let body = axum::body::to_bytes(res.into_body(), 4096).await.unwrap();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn a_handler_taking_an_optional_key_gets_it_or_none_and_never_a_bad_one() {
        assert_eq!(call(None).await, (StatusCode::OK, "none".into()));
        assert_eq!(call(Some("k-1")).await, (StatusCode::OK, "k-1".into()));
        let (status, body) = call(Some("a b")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(body.contains("\"invalid_idempotency_key\""), "{body}");
    }

    #[test]
    fn a_replayed_answer_is_marked_and_a_first_one_is_not() {
        let first = stored_json(StatusCode::CREATED, "{}".into(), false);
        assert_eq!(first.status(), StatusCode::CREATED);
        assert!(first.headers().get(REPLAYED_HEADER).is_none());
        assert_eq!(
            first.headers().get(header::CONTENT_TYPE).unwrap(),
            "application/json"
        );
        let again = stored_json(StatusCode::CREATED, "{}".into(), true);
        assert_eq!(again.headers().get(REPLAYED_HEADER).unwrap(), "true");
    }
}
